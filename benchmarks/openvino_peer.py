"""OpenVINO's CPU BinaryConvolution as a peer, per layer and per network (optional:
``pip install openvino``).

Per layer, the model is ``x -> FakeQuantize(levels=2) -> BinaryConvolution(xnor-popcount) ->
* scale + bias`` (OpenVINO fuses the per-channel scale and bias into the convolution); the time
counted is the BinaryConvolution node's own, from OpenVINO's per-node profiling (``PERF_COUNT``):
packed input to float output, as for ours, without the input binarization and layout reorders
around it. A dense layer runs as a 1x1 BinaryConvolution on a 1x1 image.

Per network, the binary ONNX is read by OpenVINO and every ``Sign -> Conv`` (and ``Sign ->
MatMul``, as a 1x1 convolution) with ±alpha weights is rewritten to ``FakeQuantize(0/1) ->
BinaryConvolution -> * alpha``; everything else stays as OpenVINO imports it. (OpenVINO's own
``ConvToBinaryConv`` pass also fires on ``FakeQuantize(-1/+1) -> Conv(±1)``, but its CPU plugin
then computes wrong results in 2026.4, so the rewrite builds the BinaryConvolution directly.)

Construction follows PEERS.md in the project's shared folder: u1 weights packed LSB first with
bit 1 = +1, constants copied (``shared_memory=False``), fp32 precision, ``pad_value=0`` (zero
padding: a padded tap adds nothing, as ONNX's zero padding after a Sign).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from layers import LayerCase, SEED
from xnorinfer.bench.timing import Measurement

try:
    import openvino as ov
    from openvino import opset1
except ImportError:
    ov = None

NODE_TYPE = "BinaryConvolution"
CONFIG = {"NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}


def available() -> bool:
    """True when the ``openvino`` package can be imported."""
    return ov is not None


def default_precision() -> str | None:
    """The precision OpenVINO's CPU plugin runs float layers in unless told (bf16 on a CPU with
    AVX-512 BF16 or AMX, else f32)."""
    if ov is None:
        return None
    return ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name()


def version() -> str | None:
    return ov.__version__ if ov is not None else None


def openvino(case: LayerCase, num_threads: int) -> Measurement:
    """Seconds of OpenVINO's BinaryConvolution node for ``case`` on ``num_threads`` threads."""
    if ov is None:
        raise RuntimeError("openvino is not installed (pip install openvino)")
    rng = np.random.default_rng([SEED, case.size, case.cin, case.cout, case.stride, 1])
    if case.kind == "conv":
        shape, kernel, pad = [1, case.cin, case.size, case.size], 3, 1
    else:
        shape, kernel, pad = [1, case.cin, 1, 1], 1, 0
    plus_one = rng.standard_normal((case.cout, case.cin, kernel, kernel)) >= 0
    x = opset1.parameter(shape, ov.Type.f32, name="x")
    conv = _binary_convolution(_binarize(x), plus_one, [case.stride] * 2, [pad] * 2, [pad] * 2,
                               [1, 1])
    per_channel = (1, case.cout, 1, 1)
    scale = rng.uniform(0.5, 1.5, per_channel).astype(np.float32)
    bias = rng.normal(0, 0.1, per_channel).astype(np.float32)
    y = opset1.add(opset1.multiply(conv, ov.op.Constant(scale, shared_memory=False)),
                   ov.op.Constant(bias, shared_memory=False))
    compiled = ov.Core().compile_model(ov.Model([y.output(0)], [x]), "CPU", {
        **CONFIG, "PERF_COUNT": True, "INFERENCE_NUM_THREADS": num_threads})
    request = compiled.create_infer_request()
    feed = {0: rng.standard_normal(shape, dtype=np.float32)}

    def measure() -> float:
        request.infer(feed)
        times = [p.real_time.total_seconds() for p in request.profiling_info
                 if p.node_type == NODE_TYPE]
        if len(times) != 1:
            raise RuntimeError(f"expected one {NODE_TYPE} node in OpenVINO's profile, "
                               f"found {len(times)}")
        return times[0]

    return measure


def _binarize(x):
    """0/1 bits of ``x > 0`` (bit 1 = +1), the input BinaryConvolution takes."""
    zero, one = np.float32(0.0), np.float32(1.0)
    return opset1.fake_quantize(x, zero, zero, zero, one, 2)


def _binary_convolution(bits, plus_one: np.ndarray, strides, pads_begin, pads_end, dilations):
    """``BinaryConvolution`` (xnor-popcount, zero padding) with weights ``plus_one`` (OIHW)."""
    weights = ov.Tensor(ov.Type.u1, ov.Shape(list(plus_one.shape)))
    weights.data[:] = np.packbits(plus_one.reshape(-1), bitorder="little")
    return opset1.binary_convolution(bits, ov.op.Constant(weights, shared_memory=False),
                                     list(strides), list(pads_begin), list(pads_end),
                                     list(dilations), "xnor-popcount", 0.0)


def binary_network(onnx_path: str, batch: int):
    """The binary ONNX network as an OpenVINO model with BinaryConvolution layers.

    Returns
    -------
    (openvino.Model, int)
        The model, reshaped to ``batch``, and how many layers became BinaryConvolution.
    """
    if ov is None:
        raise RuntimeError("openvino is not installed (pip install openvino)")
    model = ov.Core().read_model(onnx_path)
    binary = 0
    for sign in [op for op in model.get_ops() if op.get_type_name() == "Sign"]:
        for target in list(sign.output(0).get_target_inputs()):
            layer = target.get_node()
            replacement = _binary_layer(sign.input_value(0), layer)
            if replacement is not None:
                layer.output(0).replace(replacement.output(0))
                binary += 1
    shape = model.input(0).get_partial_shape()
    shape[0] = batch
    model.reshape({model.input(0): shape})
    return model, binary


def _binary_layer(x, layer):
    """``x -> bits -> BinaryConvolution -> * alpha`` replacing ``layer`` (the Conv or MatMul that
    takes ``Sign(x)``) when its weights are ±alpha per output channel; None otherwise."""
    kind = layer.get_type_name()
    weights = layer.input_value(1).get_node()
    if kind not in ("Convolution", "MatMul") or weights.get_type_name() != "Constant":
        return None
    w = weights.get_data()
    if kind == "MatMul":
        attrs = layer.get_attributes()
        if attrs["transpose_a"] or w.ndim != 2:
            return None
        w = (w if attrs["transpose_b"] else w.T)[:, :, None, None]
    alpha = np.abs(w).reshape(len(w), -1).max(axis=1)
    if not np.allclose(np.abs(w), alpha.reshape(-1, 1, 1, 1)):
        return None
    scale = ov.op.Constant(alpha.reshape(1, -1, 1, 1).astype(np.float32), shared_memory=False)
    if kind == "Convolution":
        conv = _binary_convolution(_binarize(x), w >= 0, layer.get_strides(),
                                   layer.get_pads_begin(), layer.get_pads_end(),
                                   layer.get_dilations())
        return opset1.multiply(conv, scale)
    # OpenVINO binarizes rank-4 tensors only: run the dense layer as a 1x1 conv on a 1x1 image.
    image = opset1.reshape(x, np.array([-1, w.shape[1], 1, 1], np.int64), False)
    conv = _binary_convolution(_binarize(image), w >= 0, [1, 1], [0, 0], [0, 0], [1, 1])
    return opset1.reshape(opset1.multiply(conv, scale), np.array([-1, len(w)], np.int64), False)


class _Output(NamedTuple):
    name: str


class NetworkSession:
    """A compiled OpenVINO network with the session interface ``xnorinfer.bench.check`` compares."""

    def __init__(self, model, num_threads: int, default_precision: bool = False) -> None:
        config = {**CONFIG, "INFERENCE_NUM_THREADS": num_threads}
        if default_precision:  # OpenVINO's own choice: bf16 on a CPU with AVX-512 BF16 or AMX
            del config["INFERENCE_PRECISION_HINT"]
        self._compiled = ov.Core().compile_model(model, "CPU", config)
        self._request = self._compiled.create_infer_request()

    def get_outputs(self) -> list[_Output]:
        return [_Output(o.get_any_name()) for o in self._compiled.outputs]

    def run(self, output_names: None, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        """All outputs (``output_names`` must be None), copied out of the request's buffers."""
        results = self._request.infer(list(feed.values()))
        return [results[o].copy() for o in self._compiled.outputs]

    def layer_types(self) -> dict[str, int]:
        """Executed layer types of the compiled model and their counts."""
        counts: dict[str, int] = {}
        for op in self._compiled.get_runtime_model().get_ops():
            kind = op.get_rt_info()["layerType"].astype(str)
            counts[kind] = counts.get(kind, 0) + 1
        return counts
