"""The engine's op schema (src/xnorinfer/ops/op_schema.cc, ``_core.list_ops()``): every node is
checked against it when it is added to a graph, Python takes slots, attribute names and kinds
from it, and docs/ir.md's op reference is generated from it."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from xnorinfer import _core, ir

ROOT = Path(__file__).resolve().parents[2]


def _ir_doc():
    spec = importlib.util.spec_from_file_location("ir_doc", ROOT / "scripts" / "ir_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_op_reference_is_generated_from_the_schema():
    doc = _ir_doc()
    text = doc.DOC.read_text()
    assert doc.updated(text) == text, "docs/ir.md is out of date: run python scripts/ir_doc.py"


def test_hand_written_slot_lists_in_docs_match_the_schema():
    """The sections that explain an op repeat its inputs and outputs: they must agree."""
    text = (ROOT / "docs" / "ir.md").read_text()
    checked = 0
    for op, inputs, outputs in re.findall(
            r"\*\*`(\w+)`\*\* — `inputs: \[([^\]]*)\]`(?:,\s*`outputs: \[([^\]]*)\]`)?", text):
        schema = ir.OP_SCHEMA[op]
        want = [s["name"] + ("?" if s["optional"] else "") for s in schema["inputs"]]
        assert [n.strip() for n in inputs.split(",")] == want, op
        if outputs:
            want = [s["name"] + ("?" if s["optional"] else "") for s in schema["outputs"]]
            assert [n.strip() for n in outputs.split(",")] == want, op
        checked += 1
    assert checked >= 5


def test_every_op_in_the_schema_can_be_created():
    """Each schema entry names a factory that makes the op (a Relu-shaped smoke graph where
    the op takes one input; the others are covered by their own op tests)."""
    ops = _core.list_ops()
    assert [op["name"] for op in ops] == list(ir.ALL_OPS)
    for op in ops:
        if [s["optional"] for s in op["inputs"]] == [False] and not any(
                a["required"] for a in op["attrs"]):
            g = _core.Graph()
            g.add_input("x", [1, 4])
            g.add_node("n", op["name"], ["x"], ["y"], {})
            g.add_output("y")
            _core.Session(g, 1, "scalar")


def test_python_reads_kinds_and_slots_from_the_schema():
    assert ir.op_kind("BinaryConv2d") == "binary" and ir.op_kind("BwnDense") == "bwn"
    assert ir.op_kind("Softmax") == "float"
    assert ir.input_slot("BinaryConv2d", "residual") == 8
    assert ir.input_slot("BinaryDense", "beta_src") == 5
    with pytest.raises(KeyError, match="Relu has no input 'residual'"):
        ir.input_slot("Relu", "residual")
    node = ir.Node("c", "BinaryConv2d", ["x", "w", "s", "b"], ["y"])
    node.set_input("sum_offset", "t")
    assert node.inputs == ["x", "w", "s", "b", "", "", "", "", "", "t"]
    assert node.input("residual") == "" and node.input("sum_offset") == "t"


def _graph_with(op: str, inputs: list[str], attrs: dict, outputs=("y",)) -> None:
    g = _core.Graph()
    g.add_input("x", [1, 6, 6, 8])
    g.add_constant("w", np.zeros((4, 3, 3, 8), np.float32))
    g.add_node("n", op, inputs, list(outputs), attrs)


CONV = {"kernel_shape": [3, 3]}
REFUSED = {
    "unknown attribute": ("Conv2d", ["x", "w"], {**CONV, "auto_pad": "SAME"},
                          r"node 'n' \(Conv2d\): unknown attribute 'auto_pad' \(Conv2d takes .*"
                          r"kernel_shape.*\)"),
    "misspelt attribute": ("MaxPool", ["x"], {"kernel_shape": [2, 2], "stride": [2, 2]},
                           r"unknown attribute 'stride'"),
    "missing required attribute": ("Conv2d", ["x", "w"], {},
                                   r"node 'n' \(Conv2d\): missing attribute 'kernel_shape'"),
    "wrong type": ("Conv2d", ["x", "w"], {**CONV, "group": "two"},
                   r"node 'n' \(Conv2d\): attribute 'group' must be an int"),
    "float where ints go": ("Conv2d", ["x", "w"], {"kernel_shape": [3.0, 3.5]},
                            r"attribute 'kernel_shape' must be a list of ints"),
    "list length": ("Conv2d", ["x", "w"], {"kernel_shape": [3, 3, 3]},
                    r"attribute 'kernel_shape' must have 2 values, got 3"),
    "below its bounds": ("Conv2d", ["x", "w"], {**CONV, "strides": [0, 1]},
                         r"attribute 'strides' value 0 is outside \[1, 4096\]"),
    "above its bounds": ("MaxPool", ["x"], {"kernel_shape": [2, 2], "ceil_mode": 2},
                         r"attribute 'ceil_mode' value 2 is outside \[0, 1\]"),
    "missing required input": ("Conv2d", ["x"], CONV,
                               r"node 'n' \(Conv2d\): input 'weight' \(input 1 of \[x, weight, "
                               r"bias\?\]\) is required"),
    "empty required input": ("Conv2d", ["x", ""], CONV, r"input 'weight' .* is required"),
    "too many inputs": ("Relu", ["x", "x"], {}, r"node 'n' \(Relu\): takes at most 1 inputs "
                                                r"\[x\], got 2"),
    "too many outputs": ("Relu", ["x"], {}, r"takes at most 1 outputs \[y\], got 2"),
    "unknown op": ("Conv3d", ["x"], {}, r"unknown op 'Conv3d'"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_nodes_the_schema_refuses(case):
    op, inputs, attrs, match = REFUSED[case]
    outputs = ("y", "z") if case == "too many outputs" else ("y",)
    with pytest.raises(_core.InvalidModel, match=match):
        _graph_with(op, inputs, attrs, outputs)


def test_informational_attributes_are_accepted_everywhere_and_must_be_strings():
    _graph_with("Relu", ["x"], {"source": "onnx_relu", "kind": "float"})
    with pytest.raises(_core.InvalidModel, match=r"attribute 'source' must be a string"):
        _graph_with("Relu", ["x"], {"source": 3})
