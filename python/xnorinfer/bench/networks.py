"""ImageNet-sized benchmark networks, built as ONNX with ``onnx.helper`` (no torch needed).

Two networks, each in a binary and a float version of the same architecture:

* ``bireal18``: Bi-Real-Net-18 (Liu et al., ECCV 2018). Float 7x7 stem conv + BN + max-pool,
  16 blocks ``out = BN(BinaryConv3x3(Sign(x))) + shortcut`` in four stages of 64/128/256/512
  channels, the first block of stages 2-4 with stride 2 and a float shortcut
  ``AvgPool(2) -> Conv1x1 -> BN``, global average pool, float FC to 1000 classes.
* ``xnor_alexnet``: XNOR-Net AlexNet (Rastegari et al., ECCV 2016). Float 11x11 stem conv +
  BN + ReLU + max-pool, four binary convs ``BN -> Sign -> Conv -> ReLU`` (5x5 96->256,
  3x3 256->384, 384->384, 384->256) with max-pools, two binary FC layers
  ``BN -> Sign -> Gemm -> ReLU`` (9216->4096, 4096->4096), and ``BN -> Gemm`` to 1000 classes.

The binary version binarizes activations with ``Sign`` and weights to ``sign(W) * alpha[o]``
(alpha = mean |W| per output channel), as a trained BNN exported to ONNX looks after constant
folding. The float version is the same graph without the ``Sign`` nodes and with the latent
float weights ``W``. Both share every other node name, so per-node profiles line up. Weights
are random and deterministic: each tensor is drawn from a generator seeded by ``seed`` and the
tensor's name. The input is ``input`` ``[batch, 3, 224, 224]``, the output ``logits``
``[batch, 1000]``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
INPUT = "input"
OUTPUT = "logits"
IMAGE_SIZE = 224
NUM_CLASSES = 1000


@dataclass(frozen=True)
class NetworkSpec:
    """A benchmark network and what the converter must make of its binary version.

    Attributes
    ----------
    name : str
        Short name, as accepted by :func:`build`.
    description : str
        One line for tables.
    binary_layers : int
        Conv/dense layers the converter must turn binary (``BinaryConv2d``/``BinaryDense``).
    float_layers : int
        Conv/dense layers that stay float (stem, shortcuts, classifier).
    """

    name: str
    description: str
    binary_layers: int
    float_layers: int


NETWORKS = {
    "bireal18": NetworkSpec("bireal18", "Bi-Real-Net-18, 224x224", 16, 5),
    "xnor_alexnet": NetworkSpec("xnor_alexnet", "XNOR-Net AlexNet, 224x224", 6, 2),
}


def build(name: str, *, binary: bool, seed: int = 0) -> onnx.ModelProto:
    """Build a benchmark network.

    Parameters
    ----------
    name : {"bireal18", "xnor_alexnet"}
        Which network (see :data:`NETWORKS`).
    binary : bool
        True for the binarized version (Sign activations, ±alpha weights), False for the float
        version of the same architecture.
    seed : int
        Seed of the random weights; the same seed gives byte-identical models.

    Returns
    -------
    onnx.ModelProto
        A checked model with a symbolic batch dimension.
    """
    builders: dict[str, Callable[[_GraphBuilder], str]] = {
        "bireal18": _bireal18, "xnor_alexnet": _xnor_alexnet}
    if name not in builders:
        raise ValueError(f"unknown network '{name}'; known: {sorted(builders)}")
    net = _GraphBuilder(binary=binary, seed=seed)
    last = builders[name](net)
    return net.model(last, f"{name}_{'binary' if binary else 'float'}")


def _bireal18(net: "_GraphBuilder") -> str:
    x = net.conv("stem/conv", INPUT, 3, 64, 7, stride=2, pad=3, binary=False)
    x = net.batchnorm("stem/bn", x, 64)
    x = net.maxpool("stem/pool", x, 3, stride=2, pad=1)
    channels = 64
    for stage, planes in enumerate((64, 128, 256, 512), start=1):
        for block in range(4):
            stride = 2 if stage > 1 and block == 0 else 1
            x = _bireal_block(net, f"s{stage}b{block}", x, channels, planes, stride)
            channels = planes
    x = net.node("GlobalAveragePool", "head/gap", [x])
    x = net.node("Flatten", "head/flatten", [x], axis=1)
    return net.gemm("head/fc", x, 512, NUM_CLASSES, binary=False, output=OUTPUT)


def _bireal_block(net: "_GraphBuilder", name: str, x: str, cin: int, cout: int,
                  stride: int) -> str:
    shortcut = x
    if stride != 1 or cin != cout:
        shortcut = net.node("AveragePool", f"{name}/down/pool", [x], kernel_shape=[2, 2],
                            strides=[stride, stride])
        shortcut = net.conv(f"{name}/down/conv", shortcut, cin, cout, 1, binary=False)
        shortcut = net.batchnorm(f"{name}/down/bn", shortcut, cout)
    y = net.sign(f"{name}/sign", x)
    y = net.conv(f"{name}/conv", y, cin, cout, 3, stride=stride, pad=1, binary=True)
    y = net.batchnorm(f"{name}/bn", y, cout)
    return net.node("Add", f"{name}/add", [y, shortcut])


def _xnor_alexnet(net: "_GraphBuilder") -> str:
    x = net.conv("conv1/conv", INPUT, 3, 96, 11, stride=4, pad=2, binary=False)
    x = net.batchnorm("conv1/bn", x, 96)
    x = net.node("Relu", "conv1/relu", [x])
    x = net.maxpool("conv1/pool", x, 3, stride=2)                       # 55 -> 27
    convs = [("conv2", 96, 256, 5, 2, True), ("conv3", 256, 384, 3, 1, False),
             ("conv4", 384, 384, 3, 1, False), ("conv5", 384, 256, 3, 1, True)]
    for name, cin, cout, k, pad, pool in convs:
        x = net.batchnorm(f"{name}/bn", x, cin)
        x = net.sign(f"{name}/sign", x)
        x = net.conv(f"{name}/conv", x, cin, cout, k, pad=pad, binary=True)
        x = net.node("Relu", f"{name}/relu", [x])
        if pool:
            x = net.maxpool(f"{name}/pool", x, 3, stride=2)             # 27 -> 13 -> 6
    x = net.node("Flatten", "flatten", [x], axis=1)
    for name, cin, cout in (("fc6", 256 * 6 * 6, 4096), ("fc7", 4096, 4096)):
        x = net.batchnorm(f"{name}/bn", x, cin)
        x = net.sign(f"{name}/sign", x)
        x = net.gemm(f"{name}/gemm", x, cin, cout, binary=True)
        x = net.node("Relu", f"{name}/relu", [x])
    x = net.batchnorm("fc8/bn", x, 4096)
    return net.gemm("fc8/gemm", x, 4096, NUM_CLASSES, binary=False, output=OUTPUT)


class _GraphBuilder:
    """Collects nodes and initializers; every node's output value carries the node's name."""

    def __init__(self, *, binary: bool, seed: int) -> None:
        self.binary = binary
        self.seed = seed
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    def constant(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def node(self, op: str, name: str, inputs: list[str], output: str | None = None,
             **attrs) -> str:
        output = output or name
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def sign(self, name: str, x: str) -> str:
        """``Sign(x)`` in the binary version; nothing in the float version."""
        return self.node("Sign", name, [x]) if self.binary else x

    def weights(self, name: str, shape: tuple[int, ...], binary: bool) -> str:
        """He-initialized latent weights; ``sign(W) * mean|W|`` per output channel if binary."""
        fan_in = int(np.prod(shape[1:]))
        w = self.rng(name).standard_normal(shape) * np.sqrt(2.0 / fan_in)
        if binary and self.binary:
            alpha = np.abs(w).reshape(shape[0], -1).mean(axis=1)
            w = np.where(w < 0, -1.0, 1.0) * alpha.reshape((-1,) + (1,) * (len(shape) - 1))
        return self.constant(name, w)

    def conv(self, name: str, x: str, cin: int, cout: int, k: int, *, stride: int = 1,
             pad: int = 0, binary: bool) -> str:
        w = self.weights(f"{name}.weight", (cout, cin, k, k), binary)
        return self.node("Conv", name, [x, w], kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4)

    def gemm(self, name: str, x: str, cin: int, cout: int, *, binary: bool,
             output: str | None = None) -> str:
        w = self.weights(f"{name}.weight", (cout, cin), binary)
        b = self.constant(f"{name}.bias", self.rng(f"{name}.bias").normal(0, 0.01, cout))
        return self.node("Gemm", name, [x, w, b], output, transB=1)

    def batchnorm(self, name: str, x: str, c: int) -> str:
        """Inference BatchNorm with statistics that keep activations near unit scale."""
        rng = self.rng(name)
        gamma = rng.uniform(0.5, 1.5, c)
        beta = rng.normal(0.0, 0.1, c)
        mean = rng.normal(0.0, 0.1, c)
        var = rng.uniform(0.5, 1.5, c)
        params = [self.constant(f"{name}.{p}", v) for p, v in
                  (("scale", gamma), ("bias", beta), ("mean", mean), ("var", var))]
        return self.node("BatchNormalization", name, [x, *params], epsilon=1e-5)

    def maxpool(self, name: str, x: str, k: int, *, stride: int, pad: int = 0) -> str:
        return self.node("MaxPool", name, [x], kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4)

    def model(self, last: str, graph_name: str) -> onnx.ModelProto:
        if last != OUTPUT:
            raise AssertionError(f"the network must end in '{OUTPUT}', not '{last}'")
        x = helper.make_tensor_value_info(INPUT, TensorProto.FLOAT,
                                          ["batch", 3, IMAGE_SIZE, IMAGE_SIZE])
        y = helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", NUM_CLASSES])
        graph = helper.make_graph(self.nodes, graph_name, [x], [y], self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="xnorinfer.bench.networks")
        onnx.checker.check_model(model)
        return model
