"""The engine graph in Python: what the converter builds, the model file stores and the
session hands to C++. The op set and every op's inputs and attributes are specified in
``docs/ir.md``; the C++ executor validates a graph again when it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

DTYPES = ("float32", "bits", "ternary")

BINARY_OPS = ("BinarizePack", "BinaryConv2d", "BinaryDense")
BWN_OPS = ("BwnConv2d", "BwnDense")
FLOAT_OPS = (
    "Conv2d", "Dense", "ChannelAffine", "Relu", "PRelu", "Clip", "Sign", "MaxPool",
    "AveragePool", "GlobalAveragePool", "Add", "Sub", "Mul", "Div", "Concat", "Reshape",
    "Transpose", "Softmax", "LogSoftmax", "Sigmoid", "Tanh",
)
ALL_OPS = BINARY_OPS + BWN_OPS + FLOAT_OPS

# Attributes each op accepts (docs/ir.md), besides the informational INFO_ATTRS every op takes.
# The model file refuses any other: a misspelt or foreign attribute would be silently ignored.
INFO_ATTRS = ("source", "kind")
_WINDOW_ATTRS = ("kernel_shape", "strides", "dilations", "pads")
_CONV_ATTRS = _WINDOW_ATTRS + ("group",)
# A conv or dense layer's fused activation (docs/ir.md).
_ACTIVATION_ATTRS = ("activation", "activation_min", "activation_max", "activation_slope")
# A float conv's fused MaxPool (docs/ir.md): MaxPool's window attributes, prefixed.
_POOL_ATTRS = tuple(f"pool_{name}" for name in _WINDOW_ATTRS + ("ceil_mode",))

OP_ATTRS: dict[str, tuple[str, ...]] = {
    "BinarizePack": ("output",),
    "BinaryConv2d": _CONV_ATTRS + ("in_channels", "pad_value", "output", "kmap_kernel_value",
                                   "scaling") + _ACTIVATION_ATTRS,
    "BinaryDense": ("in_channels", "groups_in", "batch_axes", "output") + _ACTIVATION_ATTRS,
    "BwnConv2d": _CONV_ATTRS + ("in_channels", "pad_value") + _ACTIVATION_ATTRS + _POOL_ATTRS,
    "BwnDense": ("in_channels", "groups_in") + _ACTIVATION_ATTRS,
    "Conv2d": _CONV_ATTRS + ("precision",) + _ACTIVATION_ATTRS + _POOL_ATTRS,
    "Dense": _ACTIVATION_ATTRS,
    "ChannelAffine": (),
    "Relu": (),
    "PRelu": (),
    "Clip": ("min", "max"),
    "Sign": (),
    "Sigmoid": (),
    "Tanh": (),
    "MaxPool": _WINDOW_ATTRS + ("ceil_mode",),
    "AveragePool": ("kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad"),
    "GlobalAveragePool": (),
    "Add": (),
    "Sub": (),
    "Mul": (),
    "Div": (),
    "Concat": ("axis",),
    "Reshape": ("shape",),
    "Transpose": ("perm",),
    "Softmax": ("axis",),
    "LogSoftmax": ("axis",),
}

# Limits shared with the C++ engine (src/xnorinfer/graph/limits.h): the largest extent of any
# tensor axis, and the most nodes a graph may have (planning is quadratic in the node count).
MAX_EXTENT = 1 << 31
MAX_NODES = 1 << 14


@dataclass
class ValueInfo:
    """A graph input, output or intermediate value: engine-order shape, -1 for a dynamic batch."""

    name: str
    shape: list[int]
    dtype: str = "float32"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}

    @staticmethod
    def from_json(d: dict[str, Any]) -> "ValueInfo":
        return ValueInfo(d["name"], list(d["shape"]), d["dtype"])


@dataclass
class Node:
    """One engine op. An absent optional input is the empty string."""

    name: str
    op: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "inputs": list(self.inputs),
                "outputs": list(self.outputs), "attrs": dict(self.attrs)}

    @staticmethod
    def from_json(d: dict[str, Any]) -> "Node":
        return Node(d["name"], d["op"], list(d["inputs"]), list(d["outputs"]), dict(d["attrs"]))


@dataclass
class Graph:
    """Nodes in topological order over named values.

    ``constants`` holds float32 arrays and uint64 arrays (packed ``bits`` constants).
    ``values`` describes every node output (for inspection; the executor infers shapes itself).
    ``metadata`` carries free-form JSON-able facts (producer, conversion report, ONNX sizes).
    """

    inputs: list[ValueInfo]
    outputs: list[ValueInfo]
    nodes: list[Node]
    constants: dict[str, np.ndarray]
    values: dict[str, ValueInfo] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def producer_of(self) -> dict[str, Node]:
        return {out: node for node in self.nodes for out in node.outputs}

    def consumers_of(self) -> dict[str, list[Node]]:
        consumers: dict[str, list[Node]] = {}
        for node in self.nodes:
            for name in node.inputs:
                if name:
                    consumers.setdefault(name, []).append(node)
        return consumers
