"""What ``xnorinfer inspect`` shows of a graph: one row per node and the totals."""

from __future__ import annotations

from typing import Any

from xnorinfer import ir


def describe(graph: ir.Graph) -> list[dict[str, Any]]:
    """List the graph's nodes for ``xnorinfer inspect``.

    Parameters
    ----------
    graph : ir.Graph
        A loaded or freshly converted graph.

    Returns
    -------
    list of dict
        One row per node, in execution order, with keys ``name``, ``op``, ``kind``
        (``"binary"``, ``"bwn"`` or ``"float"``), ``output_shapes`` (one engine-order shape
        per output, NHWC for images, -1 for a dynamic batch, None when unknown),
        ``param_bytes`` (bytes of the constants the node reads, each counted once) and
        ``source`` (the ONNX node name(s) it came from, ``""`` when not recorded).
    """
    shapes = {v.name: list(v.shape) for v in graph.outputs}
    shapes.update({name: list(v.shape) for name, v in graph.values.items()})
    return [{
        "name": node.name,
        "op": node.op,
        "kind": ir.op_kind(node.op),
        "output_shapes": [shapes.get(out) for out in node.outputs],
        "param_bytes": sum(graph.constants[c].nbytes for c in _constants_read(graph, node)),
        "source": str(node.attrs.get("source", "")),
    } for node in graph.nodes]


def summary(graph: ir.Graph, file_bytes: int | None = None) -> dict[str, Any]:
    """Totals for ``xnorinfer inspect``.

    Parameters
    ----------
    graph : ir.Graph
        A loaded or freshly converted graph.
    file_bytes : int, optional
        Size of the model file, reported as given.

    Returns
    -------
    dict
        ``file_bytes``; ``nodes`` and ``nodes_by_kind``; ``constants``; ``param_bytes`` (all
        constants) and ``param_bytes_by_kind`` (each constant charged to the kind of its
        first reader, so unread constants appear only in the total); ``inputs`` and
        ``outputs`` as ``{name, shape, dtype}``; and ``metadata``, the graph metadata
        entries whose values are scalars (producer, ONNX size, ...).
    """
    nodes_by_kind = dict.fromkeys(ir.KINDS, 0)
    bytes_by_kind = dict.fromkeys(ir.KINDS, 0)
    charged: set[str] = set()
    for node in graph.nodes:
        kind = ir.op_kind(node.op)
        nodes_by_kind[kind] += 1
        for name in _constants_read(graph, node) - charged:
            bytes_by_kind[kind] += graph.constants[name].nbytes
            charged.add(name)
    return {
        "file_bytes": file_bytes,
        "nodes": len(graph.nodes),
        "nodes_by_kind": nodes_by_kind,
        "constants": len(graph.constants),
        "param_bytes": sum(array.nbytes for array in graph.constants.values()),
        "param_bytes_by_kind": bytes_by_kind,
        "inputs": [v.to_json() for v in graph.inputs],
        "outputs": [v.to_json() for v in graph.outputs],
        "metadata": {key: value for key, value in graph.metadata.items()
                     if isinstance(value, (str, int, float, bool)) or value is None},
    }


def _constants_read(graph: ir.Graph, node: ir.Node) -> set[str]:
    return {name for name in node.inputs if name in graph.constants}
