"""Builds the engine graph (``xnorinfer.ir``) node by node: unique value names, constants,
value shapes, and the informational ``source`` / ``kind`` attributes every node carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from xnorinfer import ir

Output = tuple[str, Sequence[int], str]  # (name hint, engine shape, dtype)


class GraphBuilder:
    """Accumulates engine nodes in topological order (callers emit producers first)."""

    def __init__(self, reserved_names: Iterable[str] = ()) -> None:
        self.inputs: list[ir.ValueInfo] = []
        self.nodes: list[ir.Node] = []
        self.constants: dict[str, np.ndarray] = {}
        self.values: dict[str, ir.ValueInfo] = {}
        self._taken: set[str] = set(reserved_names)
        # Materializations already emitted, keyed by (value, what): each is emitted once.
        self.memo: dict[tuple[Any, ...], Any] = {}

    def fresh(self, hint: str) -> str:
        """A value or node name not used yet, close to ``hint``."""
        base = re.sub(r"\s+", "_", hint) or "v"
        name, i = base, 1
        while name in self._taken:
            name = f"{base}_{i}"
            i += 1
        self._taken.add(name)
        return name

    def claim(self, name: str) -> None:
        """Take a name chosen elsewhere (a reserved graph output name)."""
        self._taken.add(name)

    def add_input(self, name: str, shape: Sequence[int]) -> str:
        self.claim(name)
        self.inputs.append(ir.ValueInfo(name, list(shape), "float32"))
        return name

    def constant(self, hint: str, array: np.ndarray) -> str:
        """Store a float32 or uint64 (packed bits) constant and return its name."""
        array = np.ascontiguousarray(array)
        if array.dtype not in (np.float32, np.uint64):
            array = array.astype(np.float32)
        name = self.fresh(hint)
        self.constants[name] = array
        return name

    def node(self, op: str, inputs: Sequence[str], outputs: Sequence[Output],
             attrs: dict[str, Any] | None = None, *, source: str) -> list[str]:
        """Append a node and return the names of its outputs. Its ``source`` (the ONNX node
        names) and ``kind`` (the op's, from the schema) go into its informational attributes."""
        names = []
        for hint, shape, dtype in outputs:
            name = self.fresh(hint)
            self.values[name] = ir.ValueInfo(name, [int(d) for d in shape], dtype)
            names.append(name)
        all_attrs = {key: _plain(value) for key, value in (attrs or {}).items()}
        all_attrs.update(source=source, kind=ir.op_kind(op))
        self.nodes.append(ir.Node(self.fresh(f"{source or op}:{op}"), op, list(inputs), names,
                                  all_attrs))
        return names


def _plain(value: Any) -> Any:
    """Attribute values as JSON-able Python ints, floats, strings and lists of them."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value
