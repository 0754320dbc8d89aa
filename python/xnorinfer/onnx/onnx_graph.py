"""The ONNX graph after loading and constant folding, as the lowering reads it.

Shapes use -1 for a dynamic batch dimension (dim 0); ``None`` means shape inference could not
tell. Every node has a name (the loader names the anonymous ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper

from xnorinfer.errors import ConversionError


@dataclass
class OnnxGraph:
    """A folded ONNX graph: the non-constant nodes in topological order plus constant tensors."""

    nodes: list[onnx.NodeProto]
    constants: dict[str, np.ndarray]
    inputs: list[str]
    outputs: list[str]
    shapes: dict[str, tuple[int, ...] | None]
    opset: int
    producer_name: str = ""
    onnx_param_bytes: int = 0
    onnx_bytes: int = 0
    # Constants whose value was computed from a dynamic batch size (they hold a sentinel).
    batch_dependent: set[str] = field(default_factory=set)
    # Per graph input, its dynamic dims' symbolic names (None for a static dim).
    input_dim_names: dict[str, list[str | None]] = field(default_factory=dict)
    # The ModelProto's own description, as onnxruntime's get_modelmeta() reports it.
    model_metadata: dict[str, Any] = field(default_factory=dict)
    producer: dict[str, onnx.NodeProto] = field(init=False)
    consumers: dict[str, list[onnx.NodeProto]] = field(init=False)

    def __post_init__(self) -> None:
        self.producer = {out: node for node in self.nodes for out in node.output if out}
        self.consumers = {}
        for node in self.nodes:
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(node)

    def is_const(self, name: str) -> bool:
        return name in self.constants

    def shape(self, name: str) -> tuple[int, ...]:
        """The ONNX shape of a tensor (-1 for the dynamic batch); raises when unknown."""
        shape = self.shapes.get(name)
        if shape is None:
            node = self.producer.get(name)
            where = f" (output of node '{node.name}', {node.op_type})" if node else ""
            raise ConversionError(
                f"the shape of tensor '{name}'{where} is unknown after ONNX shape inference; "
                "give static input shapes with convert(..., input_shapes={name: shape})")
        return shape

    def rank(self, name: str) -> int:
        return len(self.shape(name))

    def node_error(self, node: onnx.NodeProto, reason: str) -> ConversionError:
        """A ConversionError naming the node, its op type and the opset."""
        return node_error(node, self.opset, reason)


def node_error(node: onnx.NodeProto, opset: int, reason: str) -> ConversionError:
    """A ConversionError in the form ``cannot convert node 'n' (Op, opset k): reason``."""
    return ConversionError(
        f"cannot convert node '{node.name}' ({node.op_type}, opset {opset}): {reason}")


def attr(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
    """The value of a node attribute (str for strings), or ``default`` when absent."""
    for attribute in node.attribute:
        if attribute.name == name:
            value = helper.get_attribute_value(attribute)
            return value.decode(errors="replace") if isinstance(value, bytes) else value
    return default


def broadcasts_into(small: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """True when broadcasting ``small`` against ``shape`` leaves ``shape`` unchanged."""
    if len(small) > len(shape):
        return False
    return all(s in (1, d) for s, d in zip(reversed(small), reversed(shape)))


def optional_input(node: onnx.NodeProto, index: int) -> str:
    """The name of input ``index``, or "" when the node does not give it."""
    return node.input[index] if index < len(node.input) else ""


def input_dependent_values(graph: onnx.GraphProto) -> set[str]:
    """Values that depend on a graph input, as opposed to weights and what folds from them."""
    initializers = {tensor.name for tensor in graph.initializer}
    reached = {value.name for value in graph.input if value.name not in initializers}
    for node in graph.node:  # ONNX nodes are topologically sorted
        if any(name in reached for name in node.input):
            reached.update(node.output)
    return reached
