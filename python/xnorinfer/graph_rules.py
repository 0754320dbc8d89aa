"""The graph rules of docs/ir.md that hold for every op, checked on every graph the model file
writes or reads: one producer per value, nodes in topological order, known ops and
attributes (from the op schema, ``ir.OP_ATTRS``), float32 graph outputs, the node limit. The
op-specific rules (shapes, slots, attribute bounds) are the C++ engine's, checked when the
graph is built.
"""

from __future__ import annotations

from xnorinfer import ir
from xnorinfer.errors import ModelError


def check_graph(graph: ir.Graph, constant_names: set[str]) -> None:
    """Raise ModelError unless ``graph`` (whose constants are ``constant_names``) keeps the
    graph rules of docs/ir.md that hold for every op."""
    if len(graph.nodes) > ir.MAX_NODES:
        raise ModelError(f"invalid graph: {len(graph.nodes)} nodes, more than the engine's "
                         f"limit of {ir.MAX_NODES}")
    producer: dict[str, str] = {}
    for value in graph.inputs:
        _check_input_shape(value)
        _claim(producer, value.name, "a graph input")
    for name in constant_names:
        _claim(producer, name, "a constant")
    later = {out: node.name for node in graph.nodes for out in node.outputs if out}
    seen_nodes: set[str] = set()
    for node in graph.nodes:
        _check_node(node, producer, later, seen_nodes)
        for out in node.outputs:
            if out:
                _claim(producer, out, f"the output of node '{node.name}'")
    for value in graph.outputs:
        if value.name not in producer:
            raise ModelError(f"invalid graph: graph output '{value.name}' is not produced by "
                             f"any node (nor is it a graph input or constant)")
        if value.dtype != "float32":
            raise ModelError(f"invalid graph: graph output '{value.name}' has dtype "
                             f"'{value.dtype}', graph outputs must be float32")
    for name in graph.values:
        if name not in producer:
            raise ModelError(f"invalid graph: values describes '{name}', which no node "
                             f"produces")


def _check_input_shape(value: ir.ValueInfo) -> None:
    """Graph inputs have positive extents, or -1 for a dynamic one (the batch, tokens ...)."""
    for dim in value.shape:
        if dim == 0:
            raise ModelError(f"invalid graph: graph input '{value.name}' has shape "
                             f"{value.shape}: extents must be positive, or -1 (dynamic)")


def _check_node(node: ir.Node, producer: dict[str, str], later: dict[str, str],
                seen_nodes: set[str]) -> None:
    if node.op not in ir.ALL_OPS:
        raise ModelError(f"invalid graph: node '{node.name}' has unknown op '{node.op}'")
    unknown = sorted(set(node.attrs) - set(ir.OP_ATTRS[node.op]) - set(ir.INFO_ATTRS))
    if unknown:
        allowed = ", ".join(ir.OP_ATTRS[node.op] + ir.INFO_ATTRS)
        raise ModelError(f"invalid graph: node '{node.name}' ({node.op}) has unknown "
                         f"attribute(s) {', '.join(map(repr, unknown))} (it takes {allowed})")
    if node.name in seen_nodes:
        raise ModelError(f"invalid graph: node name '{node.name}' is used twice")
    seen_nodes.add(node.name)
    for name in node.inputs:
        if not name or name in producer:
            continue
        if later.get(name) == node.name:
            raise ModelError(f"invalid graph: node '{node.name}' reads its own output "
                             f"'{name}': the graph may not have a cycle")
        if name in later:
            raise ModelError(f"invalid graph: node '{node.name}' reads '{name}', which node "
                             f"'{later[name]}' produces later: nodes must be in topological "
                             f"order and the graph may not have a cycle")
        raise ModelError(f"invalid graph: node '{node.name}' input '{name}' is dangling: it "
                         f"is not a graph input, a constant or an earlier node's output")


def _claim(producer: dict[str, str], name: str, by: str) -> None:
    if not name:
        raise ModelError(f"invalid graph: {by} has an empty name")
    if name in producer:
        raise ModelError(f"invalid graph: value '{name}' is produced twice ({producer[name]} "
                         f"and {by})")
    producer[name] = by
