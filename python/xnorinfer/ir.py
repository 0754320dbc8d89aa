"""The engine graph in Python: what the converter builds, the model file stores and the
session hands to C++.

The op set, each op's kind, its named input and output slots and its attributes come from the
engine's op schema (``src/xnorinfer/ops/op_schema.cc``, exported as ``_core.list_ops()``): the
C++ side checks every node against it when a graph is built, and ``docs/ir.md`` says what each
slot and attribute means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xnorinfer import _core

DTYPES = ("float32", "bits", "ternary")

# name -> {"kind", "inputs": [{"name", "optional"}], "variadic", "outputs", "attrs": [...]}
OP_SCHEMA: dict[str, dict[str, Any]] = {op["name"]: op for op in _core.list_ops()}
ALL_OPS = tuple(OP_SCHEMA)
KINDS = ("binary", "bwn", "float")
BINARY_OPS, BWN_OPS, FLOAT_OPS = (
    tuple(op for op, schema in OP_SCHEMA.items() if schema["kind"] == kind) for kind in KINDS)
# Attributes each op accepts, besides the informational INFO_ATTRS every op takes.
INFO_ATTRS = tuple(attr["name"] for attr in _core.info_attrs())
OP_ATTRS: dict[str, tuple[str, ...]] = {
    op: tuple(attr["name"] for attr in schema["attrs"]) for op, schema in OP_SCHEMA.items()}


# The conv and dense layers: the ops with weights that reports and profiles count as layers.
LAYER_OPS = ("BinaryConv2d", "BinaryDense", "BwnConv2d", "BwnDense", "Conv2d", "Dense")


def op_kind(op: str) -> str:
    """``"binary"``, ``"bwn"`` or ``"float"``: how ``op`` computes."""
    return OP_SCHEMA[op]["kind"]


def input_slot(op: str, name: str) -> int:
    """The index of input ``name`` of ``op`` (KeyError when the op has no such input)."""
    for index, slot in enumerate(OP_SCHEMA[op]["inputs"]):
        if slot["name"] == name:
            return index
    raise KeyError(f"{op} has no input '{name}'")

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

    def input(self, slot: str) -> str:
        """The value in input ``slot`` (by its schema name), ``""`` when absent."""
        index = input_slot(self.op, slot)
        return self.inputs[index] if index < len(self.inputs) else ""

    def set_input(self, slot: str, value: str) -> None:
        """Put ``value`` in input ``slot``, filling the slots before it with ``""``."""
        index = input_slot(self.op, slot)
        self.inputs = self.inputs + [""] * max(0, index + 1 - len(self.inputs))
        self.inputs[index] = value

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
