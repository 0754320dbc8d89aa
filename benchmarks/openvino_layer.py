"""OpenVINO's CPU BinaryConvolution node as a per-layer peer (optional: ``pip install openvino``).

The model is ``x -> FakeQuantize(levels=2) -> BinaryConvolution(xnor-popcount) -> * scale +
bias`` (OpenVINO fuses the per-channel scale and bias into the convolution); the time counted is
the BinaryConvolution node's own, from OpenVINO's per-node profiling (``PERF_COUNT``): packed
input to float output, as for ours, without the input binarization and layout reorders around
it. A dense layer runs as a 1x1 BinaryConvolution on a 1x1 image. Whole networks are in
:mod:`xnorinfer.bench.openvino_peer`, which builds the nodes the same way.
"""

from __future__ import annotations

import numpy as np

from layers import LayerCase, SEED
from xnorinfer.bench import openvino_peer as peer
from xnorinfer.bench.timing import Measurement

NODE_TYPE = "BinaryConvolution"


def openvino(case: LayerCase, num_threads: int) -> Measurement:
    """Seconds of OpenVINO's BinaryConvolution node for ``case`` on ``num_threads`` threads."""
    if not peer.available():
        raise RuntimeError(f"openvino is not installed ({peer.INSTALL_HINT})")
    import openvino as ov
    from openvino import opset1

    rng = np.random.default_rng([SEED, case.size, case.cin, case.cout, case.stride, 1])
    if case.kind == "conv":
        shape, kernel, pad = [1, case.cin, case.size, case.size], 3, 1
    else:
        shape, kernel, pad = [1, case.cin, 1, 1], 1, 0
    plus_one = rng.standard_normal((case.cout, case.cin, kernel, kernel)) >= 0
    x = opset1.parameter(shape, ov.Type.f32, name="x")
    conv = peer.binary_convolution(peer.binarize(x), plus_one, [case.stride] * 2, [pad] * 2,
                                   [pad] * 2, [1, 1])
    per_channel = (1, case.cout, 1, 1)
    scale = rng.uniform(0.5, 1.5, per_channel).astype(np.float32)
    bias = rng.normal(0, 0.1, per_channel).astype(np.float32)
    y = opset1.add(opset1.multiply(conv, ov.op.Constant(scale, shared_memory=False)),
                   ov.op.Constant(bias, shared_memory=False))
    compiled = ov.Core().compile_model(ov.Model([y.output(0)], [x]), "CPU", {
        **peer.CONFIG, "PERF_COUNT": True, "INFERENCE_NUM_THREADS": num_threads})
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
