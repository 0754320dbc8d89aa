"""OpenVINO's CPU BinaryConvolution as a peer for whole networks (optional: ``pip install
openvino``, or install xnorinfer[bench]).

The binary ONNX is read by OpenVINO and every ``Sign -> Conv`` (and ``Sign -> MatMul``, as a 1x1
convolution) with ±alpha weights is rewritten to ``FakeQuantize(0/1) -> BinaryConvolution ->
* alpha``; everything else stays as OpenVINO imports it. (OpenVINO's own ``ConvToBinaryConv``
pass also fires on ``FakeQuantize(-1/+1) -> Conv(±1)``, but its CPU plugin then computes wrong
results in 2026.4, so the rewrite builds the BinaryConvolution directly.) The new nodes take the
names of the ONNX nodes they replace, so OpenVINO's per-node profile maps back to ONNX nodes.

Construction follows PEERS.md in the project's shared folder: u1 weights packed LSB first with
bit 1 = +1, constants copied (``shared_memory=False``), fp32 precision unless asked for
OpenVINO's default, ``pad_value=0`` (zero padding: a padded tap adds nothing, as ONNX's zero
padding after a Sign).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

try:
    import openvino as ov
    from openvino import opset1
except ImportError:
    ov = None

CONFIG = {"NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
INSTALL_HINT = "pip install openvino, or install xnorinfer[bench]"


def available() -> bool:
    """True when the ``openvino`` package can be imported."""
    return ov is not None


def version() -> str | None:
    """OpenVINO's release (``2026.4.1``), without its build suffix."""
    return ov.__version__.split("-")[0] if ov is not None else None


def default_precision() -> str | None:
    """The precision OpenVINO's CPU plugin runs float layers in unless told (bf16 on a CPU with
    AVX-512 BF16 or AMX, else f32)."""
    if ov is None:
        return None
    return ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name()


def binarize(x):
    """0/1 bits of ``x > 0`` (bit 1 = +1), the input BinaryConvolution takes."""
    zero, one = np.float32(0.0), np.float32(1.0)
    return opset1.fake_quantize(x, zero, zero, zero, one, 2)


def binary_convolution(bits, plus_one: np.ndarray, strides, pads_begin, pads_end, dilations):
    """``BinaryConvolution`` (xnor-popcount, zero padding) with weights ``plus_one`` (OIHW)."""
    weights = ov.Tensor(ov.Type.u1, ov.Shape(list(plus_one.shape)))
    weights.data[:] = np.packbits(plus_one.reshape(-1), bitorder="little")
    return opset1.binary_convolution(bits, ov.op.Constant(weights, shared_memory=False),
                                     list(strides), list(pads_begin), list(pads_end),
                                     list(dilations), "xnor-popcount", 0.0)


def float_network(onnx_path: str):
    """The ONNX model as an OpenVINO model, as it is (a float network stays float)."""
    if ov is None:
        raise RuntimeError(f"openvino is not installed ({INSTALL_HINT})")
    return ov.Core().read_model(onnx_path)


def binary_network(onnx_path: str, batch: int):
    """The binary ONNX network as an OpenVINO model with BinaryConvolution layers.

    Returns
    -------
    (openvino.Model, int)
        The model, its inputs' first axis set to ``batch``, and how many layers became
        BinaryConvolution.
    """
    if ov is None:
        raise RuntimeError(f"openvino is not installed ({INSTALL_HINT})")
    model = ov.Core().read_model(onnx_path)
    binary = 0
    for sign in [op for op in model.get_ops() if op.get_type_name() == "Sign"]:
        for target in list(sign.output(0).get_target_inputs()):
            layer = target.get_node()
            replacement = _binary_layer(sign, layer)
            if replacement is not None:
                layer.output(0).replace(replacement.output(0))
                binary += 1
    shapes = {}
    for value in model.inputs:
        shape = value.get_partial_shape()
        if shape.rank.is_static and shape.rank.get_length() > 0:
            shape[0] = batch
            shapes[value] = shape
    model.reshape(shapes)
    return model, binary


def _binary_layer(sign, layer):
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
    x = sign.input_value(0)
    scale = ov.op.Constant(alpha.reshape(1, -1, 1, 1).astype(np.float32), shared_memory=False)
    if kind == "Convolution":
        bits = binarize(x)
        conv = binary_convolution(bits, w >= 0, layer.get_strides(), layer.get_pads_begin(),
                                  layer.get_pads_end(), layer.get_dilations())
    else:  # OpenVINO binarizes rank-4 tensors only: a dense layer is a 1x1 conv on a 1x1 image
        bits = binarize(opset1.reshape(x, np.array([-1, w.shape[1], 1, 1], np.int64), False))
        conv = binary_convolution(bits, w >= 0, [1, 1], [0, 0], [0, 0], [1, 1])
    bits.set_friendly_name(sign.get_friendly_name())
    conv.set_friendly_name(layer.get_friendly_name())
    out = opset1.multiply(conv, scale)
    if kind == "MatMul":
        out = opset1.reshape(out, np.array([-1, len(w)], np.int64), False)
    return out


class _Output(NamedTuple):
    name: str


class NetworkSession:
    """A compiled OpenVINO network with the session interface ``xnorinfer.bench.check``
    compares, in fp32 or in the precision OpenVINO picks by default."""

    def __init__(self, model, num_threads: int, default_precision: bool = False,
                 profile: bool = False) -> None:
        config = {**CONFIG, "INFERENCE_NUM_THREADS": num_threads, "PERF_COUNT": profile}
        if default_precision:  # OpenVINO's own choice: bf16 on a CPU with AVX-512 BF16 or AMX
            del config["INFERENCE_PRECISION_HINT"]
        self._compiled = ov.Core().compile_model(model, "CPU", config)
        self._request = self._compiled.create_infer_request()
        self._originals = _original_names(self._compiled) if profile else {}

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

    def profiled_run(self, feed: dict[str, np.ndarray]) -> dict[str, tuple[list[str], float]]:
        """One run's time of every executed node, with the names of the model's nodes it
        executes (OpenVINO's ``originalLayersNames``). Needs a session made with
        ``profile=True``."""
        self.run(None, feed)
        return {node.node_name: (self._originals.get(node.node_name, []),
                                 node.real_time.total_seconds())
                for node in self._request.profiling_info
                if node.status == node.Status.EXECUTED}


def _original_names(compiled) -> dict[str, list[str]]:
    """Per executed node of a compiled model, the names of the model's nodes it executes
    (OpenVINO's ``originalLayersNames``)."""
    names = {}
    for op in compiled.get_runtime_model().get_ops():
        original = op.get_rt_info()["originalLayersNames"].astype(str)
        names[op.get_friendly_name()] = [n for n in original.split(",") if n]
    return names


def compile_binary(onnx_path: str, batch: int, num_threads: int, profile: bool = False
                   ) -> tuple[NetworkSession, int]:
    """:func:`binary_network` compiled for the CPU in fp32, and its BinaryConvolution count."""
    model, binary = binary_network(onnx_path, batch)
    return NetworkSession(model, num_threads, profile=profile), binary
