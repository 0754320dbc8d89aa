"""The conversion report: which layers became binary, BWN or float (and why), parameter bytes
before and after, and notes such as the sign(0) difference.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from xnorinfer import console, ir
from xnorinfer.onnx.onnx_graph import OnnxGraph

# Engine ops listed in the report: those that carry parameters.
TITLE = "xnorinfer conversion"
COLUMNS = ("ONNX node(s)", "engine op", "kind", "bytes before", "bytes after", "reason")
REPORTED_OPS = ("BinaryConv2d", "BinaryDense", "BwnConv2d", "BwnDense", "Conv2d", "Dense",
                "ChannelAffine", "PRelu")
LAYER_OPS = {"BinaryConv2d": "binary", "BinaryDense": "binary", "BwnConv2d": "bwn",
             "BwnDense": "bwn", "Conv2d": "float", "Dense": "float"}


@dataclass
class LayerRow:
    """One engine layer and the ONNX node(s) it came from."""

    onnx_nodes: str
    engine_op: str
    kind: str
    reason: str
    onnx_param_bytes: int
    xnor_param_bytes: int


@dataclass
class ConversionReport:
    """What the converter did.

    Attributes
    ----------
    layers : list of LayerRow
        Engine layers with parameters, with the reason when one that looked binary is not.
    onnx_param_bytes, xnor_param_bytes : int
        Parameter bytes of the ONNX model and of the engine graph.
    notes : list of str
        Caveats, e.g. the sign(0) note.
    """

    layers: list[LayerRow] = field(default_factory=list)
    onnx_param_bytes: int = 0
    xnor_param_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def layer_counts(self) -> dict[str, int]:
        """Conv and dense layers by kind: ``{"binary": n, "bwn": n, "float": n}``."""
        counts = Counter(LAYER_OPS[row.engine_op] for row in self.layers
                         if row.engine_op in LAYER_OPS)
        return {kind: counts.get(kind, 0) for kind in ("binary", "bwn", "float")}

    def to_json(self) -> dict[str, Any]:
        return {"layers": [asdict(row) for row in self.layers],
                "onnx_param_bytes": self.onnx_param_bytes,
                "xnor_param_bytes": self.xnor_param_bytes, "notes": list(self.notes)}

    def summary(self) -> str:
        counts = self.layer_counts()
        ratio = self.onnx_param_bytes / max(self.xnor_param_bytes, 1)
        return (f"{counts['binary']} binary, {counts['bwn']} BWN, {counts['float']} float "
                f"conv/dense layers; parameters {_size(self.onnx_param_bytes)} (ONNX) -> "
                f"{_size(self.xnor_param_bytes)} (xnorinfer), {ratio:.1f}x smaller")

    def to_text(self) -> str:
        """The report as plain text: the layer table, the summary and the notes."""
        table = console.plain_table(TITLE, COLUMNS, self._rows())
        return "\n".join([table, "", self.summary()] + [f"note: {note}" for note in self.notes])

    def print(self) -> None:
        """Print the report to stdout: a rich table when rich is installed, plain otherwise."""
        console.table(TITLE, COLUMNS, self._rows())
        console.out(self.summary())
        for note in self.notes:
            console.out(f"note: {note}")

    def _rows(self) -> list[tuple[str, ...]]:
        return [(r.onnx_nodes.replace(",", ", "), r.engine_op, r.kind, f"{r.onnx_param_bytes:,}",
                 f"{r.xnor_param_bytes:,}", r.reason) for r in self.layers]


def build_report(onnx_graph: OnnxGraph, graph: ir.Graph, float_reasons: dict[str, str],
                 notes: list[str]) -> ConversionReport:
    """The report of a finished conversion."""
    nodes_by_name = {node.name: node for node in onnx_graph.nodes}
    rows = []
    for node in graph.nodes:
        if node.op not in REPORTED_OPS:
            continue
        sources = node.attrs["source"].split(",")
        reason = "; ".join(float_reasons[s] for s in sources if s in float_reasons)
        onnx_bytes = sum(onnx_graph.constants[name].nbytes for s in sources
                         if s in nodes_by_name for name in nodes_by_name[s].input
                         if name in onnx_graph.constants)
        xnor_bytes = sum(graph.constants[name].nbytes for name in node.inputs
                         if name in graph.constants)
        rows.append(LayerRow(node.attrs["source"], node.op, node.attrs["kind"], reason,
                             int(onnx_bytes), int(xnor_bytes)))
    xnor_param_bytes = sum(int(array.nbytes) for array in graph.constants.values())
    return ConversionReport(rows, onnx_graph.onnx_param_bytes, xnor_param_bytes, list(notes))


def _size(n_bytes: int) -> str:
    if n_bytes < 1024:
        return f"{n_bytes} B"
    if n_bytes < 1024 ** 2:
        return f"{n_bytes / 1024:.1f} KiB"
    return f"{n_bytes / 1024 ** 2:.1f} MiB"
