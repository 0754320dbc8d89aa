"""Per-layer benchmark cases and the contenders that time them.

Cases are the ResNet-18 binary 3x3 convolutions at batch 1 (pad 1; stride 1 and the stride-2
variants) and two binary dense layers. For each case a contender is a *measurement*: a function
that runs the layer once and returns the seconds to count.

* ``ours``: an engine graph ``BinarizePack -> BinaryConv2d`` (or ``BinaryDense``) with a float
  output transform (per-channel scale and bias); only the binary node is counted, through the
  engine's per-node timer (``run_profiled``): packed input to float output.
* ``onnxruntime``: a one-node fp32 ``Conv`` (``Gemm`` for dense) model, wall time of ``run``.
* ``numpy``: numpy's fp32 matmul on the im2col shape ``[Ho*Wo, 9*C] @ [9*C, O]``, GEMM only.
* ``openvino``: OpenVINO's BinaryConvolution node (see ``openvino_layer.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from xnorinfer import _core
from xnorinfer.bench.timing import Measurement, float_gemm, ort_session, wall
from xnorinfer.bitpack import pack_bits

SEED = 0
THREADS = (1, 2)


@dataclass(frozen=True)
class LayerCase:
    """A layer shape: a 3x3 pad-1 binary conv on an HxWxC image, or a C->O binary dense layer.

    Attributes
    ----------
    kind : {"conv", "dense"}
    size : int
        Input height and width (conv); 1 for dense.
    cin, cout : int
        Input and output channels (features for dense).
    stride : int
        Conv stride; 1 for dense.
    """

    kind: str
    size: int
    cin: int
    cout: int
    stride: int = 1

    def __str__(self) -> str:
        if self.kind == "dense":
            return f"dense {self.cin}->{self.cout}"
        stride = f" s{self.stride}" if self.stride != 1 else ""
        return f"conv {self.size}x{self.size}x{self.cin}->{self.cout}{stride}"

    @property
    def out_size(self) -> int:
        return (self.size + 2 - 3) // self.stride + 1 if self.kind == "conv" else 1

    @property
    def gemm(self) -> tuple[int, int, int]:
        """``(m, k, n)`` of the layer's im2col GEMM."""
        if self.kind == "dense":
            return 1, self.cin, self.cout
        return self.out_size ** 2, 9 * self.cin, self.cout

    @property
    def macs(self) -> int:
        m, k, n = self.gemm
        return m * k * n

    @property
    def valid_macs(self) -> int:
        """MACs on taps inside the image: what is left when padded taps are skipped (as ours
        and OpenVINO's kernels do)."""
        if self.kind == "dense":
            return self.macs
        # Per axis, how many of the 3 taps of each output position fall inside the image.
        inside = sum(sum(0 <= o * self.stride - 1 + k < self.size for k in range(3))
                     for o in range(self.out_size))
        return inside * inside * self.cin * self.cout


CASES = [LayerCase("conv", h, c, o, s) for h, c, o, s in (
    (56, 64, 64, 1), (28, 128, 128, 1), (14, 256, 256, 1), (7, 512, 512, 1),
    (56, 64, 128, 2), (28, 128, 256, 2), (14, 256, 512, 2))] + [
    LayerCase("dense", 1, 4096, 4096), LayerCase("dense", 1, 512, 1000)]


def _rng(case: LayerCase) -> np.random.Generator:
    return np.random.default_rng([SEED, case.size, case.cin, case.cout, case.stride])


def ours(case: LayerCase, isa: str, num_threads: int) -> Measurement:
    """Seconds of the binary node alone, from the engine's per-node timer."""
    rng = _rng(case)
    graph = _core.Graph()
    scale = rng.uniform(0.5, 1.5, case.cout).astype(np.float32)
    bias = rng.normal(0, 0.1, case.cout).astype(np.float32)
    graph.add_constant("scale", scale)
    graph.add_constant("bias", bias)
    if case.kind == "conv":
        shape = [1, case.size, case.size, case.cin]
        weight = pack_bits(rng.standard_normal((case.cout, 3, 3, case.cin)) < 0)
        op, attrs = "BinaryConv2d", {
            "kernel_shape": [3, 3], "strides": [case.stride] * 2, "dilations": [1, 1],
            "pads": [1, 1, 1, 1], "group": 1, "in_channels": case.cin, "pad_value": 0,
            "output": "float"}
    else:
        shape = [1, case.cin]
        weight = pack_bits(rng.standard_normal((case.cout, 1, case.cin)) < 0)
        op, attrs = "BinaryDense", {"in_channels": case.cin, "groups_in": 1, "output": "float"}
    graph.add_input("x", shape)
    graph.add_constant("w", weight)
    graph.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    graph.add_node("layer", op, ["xb", "w", "scale", "bias"], ["y"], attrs)
    graph.add_output("y")
    session = _core.Session(graph, num_threads, isa)
    x = [rng.standard_normal(shape, dtype=np.float32)]
    return lambda: session.run_profiled(x)[1][1]


def onnxruntime(case: LayerCase, num_threads: int) -> Measurement:
    """Wall time of a one-node fp32 onnxruntime model of the same shape."""
    rng = _rng(case)
    if case.kind == "conv":
        shape = [1, case.cin, case.size, case.size]
        weight = rng.standard_normal((case.cout, case.cin, 3, 3), dtype=np.float32) * 0.05
        node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], pads=[1] * 4,
                                strides=[case.stride] * 2)
        initializers = [numpy_helper.from_array(weight, "w")]
    else:
        shape = [1, case.cin]
        weight = rng.standard_normal((case.cout, case.cin), dtype=np.float32) * 0.05
        node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
        initializers = [numpy_helper.from_array(weight, "w"),
                        numpy_helper.from_array(np.zeros(case.cout, np.float32), "b")]
    graph = helper.make_graph(
        [node], "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort_session(model, num_threads)
    feed = {"x": rng.standard_normal(shape, dtype=np.float32)}
    return wall(lambda: session.run(None, feed))


def numpy_gemm(case: LayerCase) -> Measurement:
    """Wall time of numpy's fp32 GEMM on the im2col shape (threads: see ``blas_threads``)."""
    return wall(float_gemm(*case.gemm, seed=SEED))
