"""The model file: round trips, and refusal of truncated, corrupted, newer and hostile files.

Hostile files are made by ``_reseal``: it edits the header and recomputes the SHA-256, so
the file passes the integrity check and the structural checks have to catch it.
"""

from __future__ import annotations

import hashlib
import math
import struct

import numpy as np
import pytest
from model_bytes import PREAMBLE as _PREAMBLE
from model_bytes import flip as _flip
from model_bytes import reseal as _reseal
from model_bytes import seal as _seal
from model_bytes import split as _split

from xnorinfer import model_file, model_inspect
from xnorinfer.errors import ModelError
from xnorinfer.ir import Graph, Node, ValueInfo


def _graph() -> Graph:
    """A small binary net: pack, binary conv to bits, binary dense, float head."""
    rng = np.random.default_rng(1234)
    constants = {
        "pack.offset": rng.standard_normal(3).astype(np.float32),
        "conv.w": rng.integers(0, 2**63, size=(5, 3, 3, 1), dtype=np.uint64),
        "conv.scale": rng.standard_normal(5).astype(np.float32),
        "conv.bias": rng.standard_normal(5).astype(np.float32),
        "conv.out_offset": rng.standard_normal(5).astype(np.float32),
        "dense.w": rng.integers(0, 2**64 - 1, size=(7, 16, 1), dtype=np.uint64,
                                endpoint=True),
        "dense.scale": np.array([np.inf, -0.0, np.nan, 1e-45, 3.0, -2.5, 0.1], np.float32),
        "dense.bias": rng.standard_normal(7).astype(np.float32),
        "empty": np.zeros((0, 3), np.float32),
        "odd": rng.standard_normal((1, 3, 5, 7)).astype(np.float32),
        "scalar": np.array(2.0, np.float32),
    }
    nodes = [
        Node("pack", "BinarizePack", ["x", "pack.offset"], ["x.bits"], {"source": "Sign_0"}),
        Node("conv", "BinaryConv2d",
             ["x.bits", "conv.w", "conv.scale", "conv.bias", "conv.out_offset"], ["c.bits"],
             {"kernel_shape": [3, 3], "strides": [1, 1], "dilations": [1, 1],
              "pads": [1, 1, 1, 1], "group": 1, "in_channels": 3, "pad_value": 0,
              "output": "bits", "kmap_kernel_value": -0.0,
              "source": "Conv_1,BatchNormalization_2,Sign_3"}),
        Node("flat", "Reshape", ["c.bits"], ["f.bits"], {"shape": [0, -1]}),
        Node("dense", "BinaryDense", ["f.bits", "dense.w", "dense.scale", "dense.bias", ""],
             ["d"], {"in_channels": 5, "groups_in": 16, "output": "float",
                     "source": "Gemm_4"}),
        Node("clip", "Clip", ["d"], ["c"], {"min": -math.inf, "max": 0.1 + 0.2}),
        Node("mul", "Mul", ["c", "scalar"], ["y"], {}),
    ]
    values = {
        "x.bits": ValueInfo("x.bits", [-1, 4, 4, 3], "bits"),
        "c.bits": ValueInfo("c.bits", [-1, 4, 4, 5], "bits"),
        "f.bits": ValueInfo("f.bits", [-1, 16, 5], "bits"),
        "d": ValueInfo("d", [-1, 7]),
        "c": ValueInfo("c", [-1, 7]),
        "y": ValueInfo("y", [-1, 7]),
    }
    return Graph(
        inputs=[ValueInfo("x", [-1, 4, 4, 3])],
        outputs=[ValueInfo("y", [-1, 7])],
        nodes=nodes, constants=constants, values=values,
        metadata={"producer": "test", "onnx_bytes": 123456, "report": {"binary": ["conv"]}},
    )


def _constant(header: dict, name: str) -> dict:
    return next(c for c in header["constants"] if c["name"] == name)


def _node(header: dict, name: str) -> dict:
    return next(n for n in header["nodes"] if n["name"] == name)


@pytest.fixture(scope="module")
def data() -> bytes:
    return model_file.dumps(_graph())


# ---------------------------------------------------------------------------- round trip


def test_round_trip_keeps_everything_bit_exact(tmp_path):
    graph = _graph()
    path = tmp_path / "m.xnor"
    written = model_file.save(graph, path)
    assert written == path.stat().st_size
    back = model_file.load(path)

    assert back.inputs == graph.inputs
    assert back.outputs == graph.outputs
    assert back.values == graph.values
    assert back.metadata == graph.metadata
    assert back.nodes == graph.nodes
    for node, original in zip(back.nodes, graph.nodes):
        for key, value in original.attrs.items():
            assert type(node.attrs[key]) is type(value)
            if isinstance(value, float):
                assert struct.pack("<d", node.attrs[key]) == struct.pack("<d", value)
    assert struct.pack("<d", back.nodes[4].attrs["max"]) == struct.pack("<d", 0.1 + 0.2)
    assert math.copysign(1.0, back.nodes[1].attrs["kmap_kernel_value"]) == -1.0

    assert list(back.constants) == list(graph.constants)
    for name, array in graph.constants.items():
        loaded = back.constants[name]
        assert loaded.dtype == array.dtype
        assert loaded.shape == array.shape
        assert loaded.flags.c_contiguous and loaded.flags.owndata and loaded.flags.writeable
        assert loaded.tobytes() == array.tobytes()


def test_file_size_is_preamble_header_blobs_and_trailer(data):
    _, _, header, _ = _split(data)
    header_len = _PREAMBLE.unpack_from(data)[3]
    data_start = -(-(24 + header_len) // 64) * 64
    data_end = max(c["offset"] + c["nbytes"] for c in header["constants"])
    assert len(data) == data_start + data_end + 40
    assert data.startswith(b"XNORINF\x00") and data.endswith(b"XNOREND\x00")
    for entry in header["constants"]:
        assert (data_start + entry["offset"]) % 64 == 0
    assert _constant(header, "conv.w") == {
        "name": "conv.w", "dtype": "uint64", "shape": [5, 3, 3, 1],
        "offset": _constant(header, "conv.w")["offset"], "nbytes": 5 * 9 * 8,
        "crc32": _constant(header, "conv.w")["crc32"]}


def test_graph_without_constants_round_trips():
    graph = Graph([ValueInfo("x", [2, 3])], [ValueInfo("y", [2, 3])],
                  [Node("relu", "Relu", ["x"], ["y"])], {})
    data = model_file.dumps(graph)
    back = model_file.loads(data)
    assert back.nodes == graph.nodes and back.constants == {}


def test_big_endian_and_strided_constants_are_stored_little_endian():
    graph = _graph()
    graph.constants["odd"] = np.asfortranarray(graph.constants["odd"].astype(">f4"))
    back = model_file.loads(model_file.dumps(graph))
    np.testing.assert_array_equal(back.constants["odd"], _graph().constants["odd"])
    assert back.constants["odd"].dtype == np.float32


def test_numpy_scalar_attrs_are_saved_as_json_numbers():
    graph = _graph()
    graph.nodes[1].attrs["group"] = np.int64(1)
    graph.nodes[4].attrs["max"] = np.float32(0.1)
    graph.nodes[1].attrs["strides"] = (np.int32(1), 2)
    back = model_file.loads(model_file.dumps(graph))
    assert back.nodes[1].attrs["group"] == 1 and type(back.nodes[1].attrs["group"]) is int
    assert back.nodes[4].attrs["max"] == float(np.float32(0.1))
    assert back.nodes[1].attrs["strides"] == [1, 2]


# ----------------------------------------------------------------------- truncated files


def _cut_points(data: bytes) -> dict[str, int]:
    header_len = _PREAMBLE.unpack_from(data)[3]
    data_start = -(-(24 + header_len) // 64) * 64
    return {"empty": 0, "magic": 5, "version": 10, "preamble": 20,
            "header": 24 + header_len // 2, "after header": 24 + header_len,
            "blobs": data_start + 70, "trailer": len(data) - 30,
            "end magic": len(data) - 1}


@pytest.mark.parametrize("where", ["empty", "magic", "version", "preamble", "header",
                                   "after header", "blobs", "trailer", "end magic"])
def test_truncated_file_is_refused(data, where):
    cut = _cut_points(data)[where]
    with pytest.raises(ModelError, match=rf"truncated: the file is {cut} bytes, expected"):
        model_file.loads(data[:cut])


def test_truncated_after_the_header_says_the_expected_size(data):
    cut = len(data) - 100
    with pytest.raises(ModelError, match=rf"truncated: .* {cut} bytes, expected {len(data)}"):
        model_file.loads(data[:cut])


def test_truncated_file_on_disk_names_the_file(tmp_path, data):
    path = tmp_path / "cut.xnor"
    path.write_bytes(data[:1000])
    with pytest.raises(ModelError, match=r"cannot load model file '.*cut.xnor': truncated"):
        model_file.load(path)


# ----------------------------------------------------------------------- corrupted files


@pytest.mark.parametrize("where", ["header", "header_len", "flags", "blob", "digest"])
def test_bit_flip_is_reported_as_corrupted(data, where):
    _, _, header, _ = _split(data)
    header_len = _PREAMBLE.unpack_from(data)[3]
    data_start = -(-(24 + header_len) // 64) * 64
    offset = {"header": 24 + 30, "header_len": 16, "flags": 12,
              "blob": data_start + _constant(header, "dense.w")["offset"] + 3,
              "digest": len(data) - 40 + 7}[where]
    with pytest.raises(ModelError, match=r"corrupted: the SHA-256 of the file"):
        model_file.loads(_flip(data, offset))


def test_damaged_end_marker_is_corrupted(data):
    with pytest.raises(ModelError, match=r"corrupted: the end marker is damaged"):
        model_file.loads(_flip(data, len(data) - 3))


def test_blob_changed_behind_a_valid_checksum_fails_its_crc(data):
    _, _, header, _ = _split(data)
    offset = _constant(header, "conv.scale")["offset"]
    tampered = _reseal(data, blob_edit=lambda b: _flip(b, offset))
    with pytest.raises(ModelError, match=r"corrupted: the CRC-32 of constant 'conv.scale'"):
        model_file.loads(tampered)


def test_reseal_helper_makes_loadable_files(data):
    assert model_file.loads(_reseal(data)).nodes == _graph().nodes


# ------------------------------------------------------------- not ours, or from the future


@pytest.mark.parametrize("start", [b"PK\x03\x04", b"\x08\x07\x12\x04onnx", b"XNORINF\x01"])
def test_wrong_magic_is_not_an_xnorinfer_file(data, start):
    with pytest.raises(ModelError, match=r"not an xnorinfer model file"):
        model_file.loads(start + data[len(start):])


def test_newer_version_asks_for_an_upgrade(data):
    newer = data[:8] + struct.pack("<I", 2) + data[12:]
    with pytest.raises(ModelError, match=r"written by a newer xnorinfer \(format version 2, "
                                         r"this build reads up to 1\): upgrade xnorinfer"):
        model_file.loads(newer)


def test_newer_version_wins_over_a_short_file(data):
    newer = data[:8] + struct.pack("<I", 7)
    with pytest.raises(ModelError, match=r"format version 7"):
        model_file.loads(newer)


def test_version_zero_is_refused(data):
    with pytest.raises(ModelError, match=r"format version 0 does not exist"):
        model_file.loads(data[:8] + struct.pack("<I", 0) + data[12:])


def test_unknown_flags_are_refused(data):
    with pytest.raises(ModelError, match=r"unsupported flags 0x00000001"):
        model_file.loads(_reseal(data, flags=1))


# --------------------------------------------------------------------------- hostile files


def _set_constant(name, key, value):
    def edit(header):
        _constant(header, name)[key] = value
    return edit


def _set_node(name, key, value):
    def edit(header):
        _node(header, name)[key] = value
    return edit


def _set_attr(name, key, value):
    def edit(header):
        _node(header, name)["attrs"][key] = value
    return edit


def _overlap(header):
    _constant(header, "conv.bias")["offset"] = _constant(header, "conv.scale")["offset"]


def _swap_first_nodes(header):
    header["nodes"][0], header["nodes"][1] = header["nodes"][1], header["nodes"][0]


def _self_loop(header):
    _node(header, "clip")["inputs"] = ["c"]


def _duplicate_producer(header):
    _node(header, "mul")["outputs"] = ["d"]


def _constant_shadows_input(header):
    _constant(header, "scalar")["name"] = "x"
    _node(header, "mul")["inputs"] = ["c", "x"]


HOSTILE = {
    "huge tensor": (_set_constant("odd", "shape", [10**6, 10**6]),
                    r"constant 'odd' has shape \[1000000, 1000000\], which needs more bytes "
                    r"than the whole \d+-byte file holds"),
    "huge rank": (_set_constant("odd", "shape", [1] * 1000), r"rank 1000"),
    "negative dim": (_set_constant("odd", "shape", [-1, 3, 5, 7]),
                     r"constant 'odd' shape \[-1, 3, 5, 7\] has a negative dimension -1"),
    "nbytes mismatch": (_set_constant("odd", "nbytes", 4),
                        r"constant 'odd' has shape \[1, 3, 5, 7\] of float32 \(420 bytes\) "
                        r"but nbytes 4"),
    "float dim": (_set_constant("odd", "shape", [1.0, 3, 5, 7]), r"holds float"),
    "offset past end": (_set_constant("dense.bias", "offset", 2**40),
                        r"constant 'dense.bias' at offset 1099511627776 .* out of range"),
    "negative offset": (_set_constant("dense.bias", "offset", -64), r"out of range"),
    "unaligned offset": (_set_constant("dense.bias", "offset", 8),
                         r"constant 'dense.bias' offset 8 is not a multiple of 64"),
    "overlap": (_overlap, r"constants '.*' and '.*' overlap"),
    "unknown dtype": (_set_constant("odd", "dtype", "float16"),
                      r"constant 'odd' has unknown dtype 'float16'"),
    "bad crc type": (_set_constant("odd", "crc32", "0"),
                     r"constant 'odd' field 'crc32' must be an int, got str"),
    "bool as int": (_set_constant("odd", "nbytes", True), r"must be an int, got bool"),
    "duplicate constant": (lambda h: h["constants"].append(dict(h["constants"][0])),
                           r"constant 'pack.offset' is listed twice"),
    "unknown op": (_set_node("clip", "op", "Conv"), r"node 'clip' has unknown op 'Conv'"),
    "dangling input": (_set_node("clip", "inputs", ["nope"]),
                       r"node 'clip' input 'nope' is dangling"),
    "out of order": (_swap_first_nodes,
                     r"node 'conv' reads 'x.bits', which node 'pack' produces later: "
                     r"nodes must be in topological order"),
    "self loop": (_self_loop, r"node 'clip' reads its own output 'c': the graph may not "
                              r"have a cycle"),
    "cycle": (_set_node("pack", "inputs", ["y", "pack.offset"]),
              r"node 'pack' reads 'y', which node 'mul' produces later"),
    "duplicate producer": (_duplicate_producer,
                           r"value 'd' is produced twice \(the output of node 'dense' and "
                           r"the output of node 'mul'\)"),
    "constant shadows input": (_constant_shadows_input, r"value 'x' is produced twice"),
    "duplicate node name": (_set_node("clip", "name", "dense"), r"'dense' is used twice"),
    "output not produced": (lambda h: h["outputs"][0].update(name="zz"),
                            r"graph output 'zz' is not produced"),
    "bits output": (lambda h: h["outputs"][0].update(name="c.bits", dtype="bits"),
                    r"graph output 'c.bits' has dtype 'bits'"),
    "attr dict": (_set_attr("conv", "strides", {"h": 1}),
                  r"invalid node 'conv' attr 'strides': must be int, float, str, list of "
                  r"int or list of float, got object"),
    "attr bool": (_set_attr("conv", "group", True), r"attr 'group': .* got bool"),
    "attr null": (_set_attr("conv", "group", None), r"attr 'group': .* got null"),
    "attr nested list": (_set_attr("conv", "pads", [[1, 1], [1, 1]]),
                         r"attr 'pads': a list must hold only ints or only floats, got list"),
    "attr mixed list": (_set_attr("conv", "pads", [1, 1.5]),
                        r"attr 'pads': a list must hold only ints or only floats, got float, "
                        r"int"),
    "missing field": (lambda h: h.pop("nodes"), r"header is missing the field 'nodes'"),
    "wrong field type": (lambda h: h.update(nodes={}),
                         r"header field 'nodes' must be a list, got object"),
    "unknown field": (lambda h: h.update(code="import os"), r"unknown field\(s\) 'code'"),
    "node not object": (lambda h: h["nodes"].append([1]),
                        r"node #6 must be an object, got list"),
    "input name type": (_set_node("clip", "inputs", [3]),
                        r"node 'clip' inputs must be strings, got int"),
    "value dtype": (lambda h: h["values"][0].update(dtype="int8"),
                    r"value #0 'x.bits' has unknown dtype 'int8'"),
    "value shape": (lambda h: h["values"][0].update(shape=[-2, 4]),
                    r"negative dimension -2"),
    "value of nothing": (lambda h: h["values"].append({"name": "q", "shape": [],
                                                       "dtype": "float32"}),
                         r"values describes 'q', which no node produces"),
    "metadata type": (lambda h: h.update(metadata=[]),
                      r"field 'metadata' must be an object, got list"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_header_with_valid_checksum_is_refused(data, case):
    edit, message = HOSTILE[case]
    with pytest.raises(ModelError, match=message):
        model_file.loads(_reseal(data, edit))


@pytest.mark.parametrize("header, message", [
    (b"{not json", r"not valid UTF-8 JSON"),
    (b"\xff\xfe{}", r"not valid UTF-8 JSON"),
    (b"[" * 100_000 + b"]" * 100_000, r"not valid UTF-8 JSON"),
    (b"1" * 10_000, r"not valid UTF-8 JSON"),
    (b'{"nodes": [], "nodes": []}', r"duplicate key 'nodes'"),
    (b"[]", r"expected a JSON object, got list"),
])
def test_unreadable_header_is_refused(data, header, message):
    _, _, _, blobs = _split(data)
    with pytest.raises(ModelError, match=message):
        model_file.loads(_seal(1, 0, header, blobs))


def test_header_length_past_the_trailer_is_refused(data):
    body = bytearray(data[:-40])
    body[16:24] = struct.pack("<Q", 2**63)
    sealed = bytes(body) + hashlib.sha256(body).digest() + model_file.END_MAGIC
    with pytest.raises(ModelError, match=r"header length 9223372036854775808 runs past"):
        model_file.loads(sealed)


def test_extra_bytes_before_the_trailer_are_refused(data):
    with pytest.raises(ModelError, match=r"the data section holds \d+ bytes but the "
                                         r"constants end at byte \d+"):
        model_file.loads(_reseal(data, blob_edit=lambda b: b + bytes(64)))


# ------------------------------------------------------------------- refusing to save


@pytest.mark.parametrize("change, message", [
    (lambda g: g.constants.update(w=np.zeros(3)), r"constant 'w' has dtype float64"),
    (lambda g: g.constants.update(w=[1.0]), r"constant 'w' must be a NumPy array"),
    (lambda g: g.nodes[0].attrs.update(bad={"a": 1}), r"attr 'bad'"),
    (lambda g: g.nodes.reverse(), r"topological order"),
    (lambda g: g.metadata.update(obj=object()), r"metadata is not JSON-serializable"),
])
def test_save_refuses_a_graph_load_would_refuse(change, message):
    graph = _graph()
    change(graph)
    with pytest.raises(ModelError, match=rf"cannot save graph: .*{message}"):
        model_file.dumps(graph)


# ----------------------------------------------------------------------- inspection


def test_describe_lists_nodes_with_kinds_shapes_and_bytes():
    rows = model_inspect.describe(_graph())
    assert [r["name"] for r in rows] == ["pack", "conv", "flat", "dense", "clip", "mul"]
    assert [r["kind"] for r in rows] == ["binary", "binary", "float", "binary", "float",
                                         "float"]
    conv = rows[1]
    assert conv["op"] == "BinaryConv2d"
    assert conv["output_shapes"] == [[-1, 4, 4, 5]]
    assert conv["param_bytes"] == 5 * 9 * 8 + 3 * 5 * 4
    assert conv["source"] == "Conv_1,BatchNormalization_2,Sign_3"
    assert rows[3]["param_bytes"] == 7 * 16 * 8 + 2 * 7 * 4
    assert rows[4]["param_bytes"] == 0 and rows[4]["source"] == ""
    assert rows[5]["output_shapes"] == [[-1, 7]]


def test_describe_marks_bwn_and_unknown_shapes():
    graph = Graph([ValueInfo("x", [-1, 8])], [ValueInfo("y", [-1, 2])],
                  [Node("fc", "BwnDense", ["x", "w", "s", "b"], ["y"]),
                   Node("tmp", "Relu", ["y"], ["z"])],
                  {"w": np.zeros((2, 1, 1), np.uint64), "s": np.ones(2, np.float32),
                   "b": np.zeros(2, np.float32)})
    rows = model_inspect.describe(graph)
    assert rows[0]["kind"] == "bwn" and rows[0]["output_shapes"] == [[-1, 2]]
    assert rows[1]["output_shapes"] == [None]


def test_summary_totals_by_kind(data):
    graph = model_file.loads(data)
    summary = model_inspect.summary(graph, len(data))
    assert summary["file_bytes"] == len(data)
    assert summary["nodes"] == 6
    assert summary["nodes_by_kind"] == {"binary": 3, "bwn": 0, "float": 3}
    assert summary["constants"] == 11
    assert summary["param_bytes"] == sum(a.nbytes for a in graph.constants.values())
    assert summary["param_bytes_by_kind"] == {
        "binary": 3 * 4 + (5 * 9 * 8 + 3 * 5 * 4) + (7 * 16 * 8 + 2 * 7 * 4),
        "bwn": 0, "float": 4}
    assert summary["metadata"] == {"producer": "test", "onnx_bytes": 123456}
    assert summary["inputs"] == [{"name": "x", "shape": [-1, 4, 4, 3], "dtype": "float32"}]


def test_cut_file_with_a_garbled_header_is_corrupted(data):
    with pytest.raises(ModelError, match=r"corrupted: the file does not end with the end "
                                         r"marker and its header cannot say"):
        model_file.loads(_flip(data, 24)[:-1])


def test_zero_size_constants_round_trip_anywhere():
    graph = Graph([ValueInfo("x", [1])], [ValueInfo("y", [1])],
                  [Node("add", "Add", ["x", "b"], ["y"])],
                  {"a": np.zeros(3, np.float32), "e1": np.zeros((2, 0), np.uint64),
                   "b": np.ones(1, np.float32), "e2": np.zeros(0, np.float32)})
    back = model_file.loads(model_file.dumps(graph))
    for name, array in graph.constants.items():
        assert back.constants[name].dtype == array.dtype
        assert back.constants[name].shape == array.shape
