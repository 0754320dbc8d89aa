"""The conversion report: which layers became binary, BWN or float (and why), parameter bytes
before and after, and notes such as the sign(0) difference.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from xnorinfer import console, ir
from xnorinfer.onnx.onnx_graph import OnnxGraph

TITLE = "xnorinfer conversion"
COLUMNS = ("ONNX node(s)", "engine op", "kind", "bytes\nbefore", "bytes\nafter", "reason")
# Unless wide, the report fits an 80-column terminal: longer ONNX node names are cut in the
# middle and reasons are listed under the table, the rows referring to them as [n].
WIDTH = 80
NAME_WIDTH = 24  # at most; less when large byte counts leave less room
MIN_NAME_WIDTH = 10
NAME_EXTRA = 3  # the names column holds a name, its comma and the continuation indent
# Engine ops listed in the report: those that carry parameters.
REPORTED_OPS = ("BinaryConv2d", "BinaryDense", "BwnConv2d", "BwnDense", "Conv2d", "Dense",
                "ChannelAffine", "PRelu")


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
        counts = Counter(ir.op_kind(row.engine_op) for row in self.layers
                         if row.engine_op in ir.LAYER_OPS)
        return {kind: counts.get(kind, 0) for kind in ir.KINDS}

    @staticmethod
    def from_json(data: dict[str, Any]) -> "ConversionReport":
        """The report :meth:`to_json` wrote (a model file's ``metadata["report"]``)."""
        return ConversionReport([LayerRow(**row) for row in data.get("layers", [])],
                                data.get("onnx_param_bytes", 0), data.get("xnor_param_bytes", 0),
                                list(data.get("notes", [])))

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

    def to_text(self, wide: bool = False) -> str:
        """The report as plain text: the layer table, the summary and the notes.

        Parameters
        ----------
        wide : bool
            Full ONNX node names and reasons in the table, however wide. By default every
            line fits in 80 columns.
        """
        rows, reasons = self._rows(wide)
        table = console.plain_table(TITLE, COLUMNS, rows, max_width=None if wide else WIDTH)
        return "\n".join([table, "", *self._footer(reasons, wide)])

    def print(self, wide: bool = False) -> None:
        """Print the report to stdout: a rich table when rich is installed, plain otherwise.

        Parameters
        ----------
        wide : bool
            As for :meth:`to_text`.
        """
        rows, reasons = self._rows(wide)
        console.table(TITLE, COLUMNS, rows, max_width=None if wide else WIDTH, wide=wide)
        for line in self._footer(reasons, wide):
            console.out(line)

    def _rows(self, wide: bool) -> tuple[list[list[str]], list[str]]:
        """Table rows and, unless wide, the distinct reasons the rows refer to as [n]."""
        rows, reasons = [], []
        for r in self.layers:
            reason = r.reason
            if reason and not wide:
                if reason not in reasons:
                    reasons.append(reason)
                reason = f"[{reasons.index(reason) + 1}]"
            rows.append([r.onnx_nodes, r.engine_op, r.kind, f"{r.onnx_param_bytes:,}",
                         f"{r.xnor_param_bytes:,}", reason])
        name_width = None if wide else _name_width(rows)
        for row in rows:
            row[0] = _node_names(row[0], name_width)
        return rows, reasons

    def _footer(self, reasons: list[str], wide: bool) -> list[str]:
        """The summary, the numbered reasons and the notes, wrapped to WIDTH unless wide."""
        if wide:
            return [self.summary(), *(f"note: {note}" for note in self.notes)]
        # The summary's two clauses on lines of their own keep each size with its unit.
        paragraphs = [(clause, "") for clause in self.summary().replace("; ", ";\n").splitlines()]
        paragraphs += [(f"[{i}] {reason}", "    ") for i, reason in enumerate(reasons, 1)]
        paragraphs += [(f"note: {note}", "  ") for note in self.notes]
        return [textwrap.fill(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False)
                for text, indent in paragraphs]


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


def _name_width(rows: list[list[str]]) -> int:
    """How long an ONNX node name may be for the table to fit WIDTH: what the other columns
    leave, within MIN_NAME_WIDTH..NAME_WIDTH."""
    others = [max(len(line) for cell in column for line in cell.splitlines())
              for column in list(zip(COLUMNS, *rows))[1:]]
    room = WIDTH - sum(others) - len(console.COLUMN_GAP) * len(others) - NAME_EXTRA
    return max(MIN_NAME_WIDTH, min(NAME_WIDTH, room))


def _node_names(sources: str, name_width: int | None) -> str:
    """The comma-separated ONNX node names of a row: in full on one line when ``name_width`` is
    None, else each cut to ``name_width``, wrapped into lines, later lines indented."""
    names = sources.split(",")
    if name_width is None:
        return ", ".join(names)
    return "\n".join(textwrap.wrap(", ".join(_shorten_middle(n, name_width) for n in names),
                                   name_width + NAME_EXTRA, subsequent_indent="  ",
                                   break_long_words=False, break_on_hyphens=False))


def _shorten_middle(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters by replacing its middle with an ellipsis: node
    names differ at both ends (the block's path and the op)."""
    if len(text) <= width:
        return text
    head = width // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def _size(n_bytes: int) -> str:
    if n_bytes < 1024:
        return f"{n_bytes} B"
    if n_bytes < 1024 ** 2:
        return f"{n_bytes / 1024:.1f} KiB"
    return f"{n_bytes / 1024 ** 2:.1f} MiB"
