"""Hostile model files: every one is refused by ``InferenceSession`` with a ModelError that names
what is wrong, quickly, and without allocating more than the file justifies.

Each case edits a small valid model. Cases the model-file loader catches are built with
``reseal`` (the header is edited and the checksum recomputed, as an attacker would); cases
the C++ engine catches are valid files whose graph is wrong, written with ``model_file.dumps``.
File-format cases (truncation, checksums, versions, blob layout, cycles, dangling names, unknown
ops) are in tests/test_model_file.py; here they are only checked to surface from the session.
"""

from __future__ import annotations

import resource
import struct
import time

import numpy as np
import pytest
from model_bytes import flip, reseal

import xnorinfer
from xnorinfer import ir, model_file
from xnorinfer.bitpack import pack_bits

C, O, CLASSES = 8, 16, 10


def _graph() -> ir.Graph:
    """x [batch, 5, 5, C] -> pack -> 3x3 binary conv to bits -> packed 2x2 max pool ->
    binary dense -> softmax."""
    rng = np.random.default_rng(7)
    return ir.Graph(
        inputs=[ir.ValueInfo("x", [-1, 5, 5, C])],
        outputs=[ir.ValueInfo("probs", [-1, CLASSES])],
        nodes=[
            ir.Node("pack", "BinarizePack", ["x"], ["xb"]),
            ir.Node("conv", "BinaryConv2d", ["xb", "conv.w", "conv.s", "conv.b", "conv.t"],
                    ["cb"], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 1,
                             "in_channels": C, "pad_value": 0, "output": "bits"}),
            ir.Node("pool", "MaxPool", ["cb"], ["pb"],
                    {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0]}),
            ir.Node("dense", "BinaryDense", ["pb", "dense.w", "dense.s", "dense.b"], ["logits"],
                    {"in_channels": O, "groups_in": 4, "output": "float"}),
            ir.Node("softmax", "Softmax", ["logits"], ["probs"], {"axis": 1}),
        ],
        constants={
            "conv.w": pack_bits(rng.random((O, 3, 3, C)) < 0.5),
            "conv.s": np.ones(O, np.float32), "conv.b": np.zeros(O, np.float32),
            "conv.t": rng.standard_normal(O).astype(np.float32),
            "dense.w": pack_bits(rng.random((CLASSES, 4, O)) < 0.5),
            "dense.s": np.ones(CLASSES, np.float32), "dense.b": np.zeros(CLASSES, np.float32),
        },
    )


def _node(graph: ir.Graph, name: str) -> ir.Node:
    return next(n for n in graph.nodes if n.name == name)


def _refused(data: bytes, match: str) -> None:
    """InferenceSession refuses ``data`` with a ModelError matching ``match``, within seconds,
    and the process's peak memory does not grow by more than a few times the file."""
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    with pytest.raises(xnorinfer.ModelError, match=match):
        xnorinfer.InferenceSession(data)
    assert time.perf_counter() - start < 5.0
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak_before
    assert grown < 64 * 2**20 + 10 * len(data)


def test_the_base_model_runs():
    sess = xnorinfer.InferenceSession(model_file.dumps(_graph()))
    probs = sess.run(None, {"x": np.ones((2, 5, 5, C), np.float32)})[0]
    assert probs.shape == (2, CLASSES)


# ------------------------------------------------- graphs the C++ engine refuses at load


def _attr(node, key, value):
    return lambda g: _node(g, node).attrs.update({key: value})


def _constant(name, array):
    return lambda g: g.constants.update({name: array})


def _inputs(node, inputs):
    return lambda g: setattr(_node(g, node), "inputs", inputs)


def _append(*nodes, outputs=None):
    def edit(g):
        g.nodes.extend(nodes)
        if outputs:
            g.outputs = [ir.ValueInfo(name, [-1, CLASSES]) for name in outputs]
    return edit


def _bits_constant_into_pool(g):
    g.constants["empty.w"] = np.zeros((1, 2, 2, 0), np.uint64)
    _node(g, "pool").inputs = ["empty.w"]


ENGINE_CASES = {
    "huge in_channels": (_attr("conv", "in_channels", 2**40),
                         r"node 'conv' \(BinaryConv2d\): attribute 'in_channels' value "
                         r"1099511627776 is outside \[1, 2147483648\]"),
    "negative in_channels": (_attr("dense", "in_channels", -64), r"'in_channels' value -64"),
    "zero group": (_attr("conv", "group", 0), r"'group' value 0 is outside"),
    "huge group": (_attr("conv", "group", 2**62), r"'group' value 4611686018427387904"),
    "huge groups_in": (_attr("dense", "groups_in", 2**40), r"'groups_in' value 1099511627776"),
    "dot product over 2^30 bits": (
        lambda g: _node(g, "dense").attrs.update(groups_in=2**31, in_channels=2**31),
        r"node 'dense' \(BinaryDense\): a dot product over 2147483648 taps x 2147483648 bits "
        r"is outside \[1, 1073741824\] products"),
    "huge kernel_shape": (_attr("conv", "kernel_shape", [10**6, 3]),
                          r"'kernel_shape' value 1000000 is outside \[1, 4096\]"),
    "negative pads": (_attr("conv", "pads", [-1, 1, 1, 1]), r"'pads' value -1 is outside"),
    "short pads": (_attr("conv", "pads", [1, 1]), r"'pads' must have 4 values, got 2"),
    "strides of the wrong type": (_attr("conv", "strides", "2"),
                                  r"'strides' must be a list of ints"),
    "weight words do not match in_channels": (
        _constant("conv.w", np.zeros((O, 3, 3, 2), np.uint64)),
        r"node 'conv' \(BinaryConv2d\): weight must hold 144 packed words"),
    "weight taps do not match kernel_shape": (
        _constant("conv.w", np.zeros((O, 2, 3, 1), np.uint64)),
        r"weight must be \[O, KH, KW, words\] with KH x KW = kernel_shape"),
    "float weight for a binary layer": (_constant("conv.w", np.zeros((O, 3, 3, 1), np.float32)),
                                        r"weight must be bits, got float32"),
    "scale of the wrong length": (_constant("dense.s", np.ones(3, np.float32)),
                                  r"node 'dense' \(BinaryDense\): scale must have 10 values"),
    "in_channels that do not match the input": (
        lambda g: _node(g, "dense").attrs.update(in_channels=O + 1),
        r"node 'dense' \(BinaryDense\): input \[1, 2, 2, 16\] must be \[rows\.\.\., groups\.\.\., 17\]"),
    "softmax axis past the rank": (_attr("softmax", "axis", 9),
                                   r"node 'softmax' \(Softmax\): axis 9 is outside input"),
    "pool window over 4096 taps": (_attr("pool", "kernel_shape", [128, 128]),
                                   r"windows over 4096 taps are not supported"),
    "pool pads as large as the kernel": (_attr("pool", "pads", [2, 0, 0, 0]),
                                         r"pads must be smaller than the kernel"),
    "packed constant without words": (_bits_constant_into_pool,
                                      r"packed constant 'empty.w' has shape \[1, 2, 2, 0\]"),
    "empty Concat input": (_append(ir.Node("cat", "Concat", ["probs", ""], ["y"], {"axis": 1}),
                                   outputs=["y"]),
                           r"node 'cat' \(Concat\): input 1 is empty"),
    "huge Concat axis": (_append(ir.Node("cat", "Concat", ["probs"], ["y"], {"axis": 2**62}),
                                 outputs=["y"]),
                         r"node 'cat' \(Concat\): attribute 'axis' value 4611686018427387904 "
                         r"is outside \[0, 2147483648\]"),
    "Reshape product past int64": (
        _append(ir.Node("r", "Reshape", ["probs"], ["y"], {"shape": [2**31, 2**31, 2**31, -1]}),
                outputs=["y"]),
        r"node 'r' \(Reshape\): cannot reshape"),
    "Reshape extent past the limit": (
        _append(ir.Node("r", "Reshape", ["probs"], ["y"], {"shape": [2**40, -1]}),
                outputs=["y"]),
        r"node 'r' \(Reshape\): attribute 'shape' value 1099511627776 is outside"),
    "Transpose perm out of range": (
        _append(ir.Node("t", "Transpose", ["probs"], ["y"], {"perm": [0, 2**40]}),
                outputs=["y"]),
        r"node 't' \(Transpose\): attribute 'perm' value 1099511627776 is outside"),
    "unnamed first output": (
        _append(ir.Node("r", "Relu", ["probs"], [""]), ir.Node("r2", "Relu", ["probs"], ["y"]),
                outputs=["y"]),
        r"node 'r' \(Relu\): output 'y' \(output 0 of \[y\]\) is required"),
    "packed value as a graph output": (lambda g: setattr(g, "outputs", [ir.ValueInfo("xb", [1])]),
                                       r"graph output 'xb' must be float32"),
    "kmap_src given as a constant": (
        _inputs("conv", ["xb", "conv.w", "conv.s", "conv.b", "conv.t", "conv.s"]),
        r"kmap_src must be a computed value"),
    "BwnDense with a huge in_channels": (
        _append(ir.Node("bwn", "BwnDense", ["probs", "dense.w", "dense.s", "dense.b"], ["y"],
                        {"in_channels": 2**62, "groups_in": 1}), outputs=["y"]),
        r"'in_channels' value 4611686018427387904 is outside"),
    "Dense weight of rank 3": (
        _append(ir.Node("fc", "Dense", ["probs", "w3"], ["y"]), outputs=["y"]),
        r"node 'fc' \(Dense\): weight must have rank 2"),
}


@pytest.mark.parametrize("case", list(ENGINE_CASES))
def test_graph_the_engine_refuses(case):
    edit, match = ENGINE_CASES[case]
    graph = _graph()
    graph.constants["w3"] = np.zeros((2, 2, 2), np.float32)
    edit(graph)
    _refused(model_file.dumps(graph), match)


# ----------------------------------------------- headers the model-file loader refuses


def _header_node(header, name):
    return next(n for n in header["nodes"] if n["name"] == name)


def _many_nodes(header):
    header["nodes"] += [{"name": f"r{i}", "op": "Relu", "inputs": ["probs"],
                         "outputs": [f"r{i}"], "attrs": {}} for i in range(ir.MAX_NODES)]


HEADER_CASES = {
    "input extent past the engine's limit": (
        lambda h: h["inputs"][0].update(shape=[-1, 10**30, 5, C]),
        r"graph input #0 'x' shape has a dimension 10{30}, more than the engine's limit"),
    "constant extent past the limit beside a zero": (
        lambda h: h["constants"][0].update(shape=[10**30, 0], nbytes=0),
        r"constant 'conv.w' shape has a dimension 10{30}"),
    "attribute int past int64": (
        lambda h: _header_node(h, "conv")["attrs"].update(group=2**64),
        r"node 'conv' attr 'group': 18446744073709551616 does not fit in a 64-bit integer"),
    "attribute list int past int64": (
        lambda h: _header_node(h, "conv")["attrs"].update(pads=[1, 1, 1, -2**70]),
        r"attr 'pads': -1180591620717411303424 does not fit"),
    "unknown attribute": (
        lambda h: _header_node(h, "pool")["attrs"].update(auto_pad="SAME_UPPER"),
        r"node 'pool' \(MaxPool\) has unknown attribute\(s\) 'auto_pad' \(it takes "
        r"kernel_shape, strides, dilations, pads, ceil_mode, source, kind\)"),
    "attribute of another op": (
        lambda h: _header_node(h, "softmax")["attrs"].update(perm=[1, 0]),
        r"node 'softmax' \(Softmax\) has unknown attribute\(s\) 'perm'"),
    "zero input extent": (lambda h: h["inputs"][0].update(shape=[-1, 0, 5, C]),
                          r"graph input 'x' has shape \[-1, 0, 5, 8\]: extents must be "
                          r"positive"),
    "negative input extent other than -1": (lambda h: h["inputs"][0].update(shape=[1, -2, 5, C]),
                                            r"only -1, a dynamic dimension, may be negative"),
    "output shape that the graph does not compute": (
        lambda h: h["outputs"][0].update(shape=[-1]),
        r"graph output 'probs' is declared with shape \[-1\] but computes \[1, 10\]"),
    "too many nodes": (_many_nodes, rf"{ir.MAX_NODES + 5} nodes, more than the engine's "
                                    rf"limit of {ir.MAX_NODES}"),
}


@pytest.mark.parametrize("case", list(HEADER_CASES))
def test_header_the_loader_refuses(case):
    edit, match = HEADER_CASES[case]
    _refused(reseal(model_file.dumps(_graph()), edit), match)


# ------------------------------------------ file-level damage, seen from the session


FILE_CASES = {
    "truncated": (lambda d: d[:len(d) // 2], r"truncated"),
    "bit flip": (lambda d: flip(d, len(d) // 2), r"corrupted: the SHA-256"),
    "blob changed behind a valid checksum": (
        lambda d: reseal(d, blob_edit=lambda b: flip(b, 3)),
        r"corrupted: the CRC-32 of constant"),
    "newer version": (lambda d: d[:8] + struct.pack("<I", 9) + d[12:], r"format version 9"),
    "not a model": (lambda d: b"\x08\x07\x12\x04onnx" + d[10:], r"not an xnorinfer model file"),
    "cycle": (lambda d: reseal(d, lambda h: _header_node(h, "pack").update(inputs=["probs"])),
              r"node 'pack' reads 'probs', which node 'softmax' produces later"),
    "dangling name": (lambda d: reseal(d, lambda h: _header_node(h, "pool").update(
        inputs=["nowhere"])), r"node 'pool' input 'nowhere' is dangling"),
    "unknown op": (lambda d: reseal(d, lambda h: _header_node(h, "softmax").update(op="Exec")),
                   r"node 'softmax' has unknown op 'Exec'"),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_damaged_file_is_a_model_error_from_the_session(case):
    damage, match = FILE_CASES[case]
    _refused(damage(model_file.dumps(_graph())), match)
