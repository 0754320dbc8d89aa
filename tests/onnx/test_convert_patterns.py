"""The converter on PyTorch exports (tests/fixtures/torch) and on small hand-built ONNX graphs:
binarizer spellings, folds and fusions, layer kinds, float fallbacks and conversion errors.

Converted graphs run on ``run_graph`` and must match onnxruntime on the original model within
1e-4 of the output's largest magnitude, with the same argmax; the count of binary layers is
checked too, so a silently-float conversion fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from conversion_checks import (assert_close, binary_layer_sources, binary_weight, make_model,
                               onnxruntime_outputs, random_feeds)
from onnx import helper
from reference import ir_reference

from xnorinfer import ir, model_file
from xnorinfer.errors import ConversionError
from xnorinfer.onnx import convert

FIXTURES = Path(__file__).parents[1] / "fixtures" / "torch"
FIXTURE_NAMES = sorted(p.parent.name for p in FIXTURES.glob("*/manifest.json"))


# --- PyTorch fixtures -----------------------------------------------------------------------

def test_torch_fixtures_are_present():
    assert FIXTURE_NAMES, f"no PyTorch fixtures under {FIXTURES} (tests/fixtures/torch)"


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_torch_fixture_matches_onnxruntime(name, run_graph):
    folder = FIXTURES / name
    manifest = json.loads((folder / "manifest.json").read_text())
    expected = manifest["expected"]
    result = convert(folder / "model.onnx")

    assert result.report.layer_counts() == {"binary": expected["binary_layers"],
                                            "bwn": expected["bwn_layers"],
                                            "float": expected["float_layers"]}
    sources = binary_layer_sources(result.graph)
    for node in expected["binary_layer_nodes"]:
        assert sum(node in s.split(",") for s in sources) == 1, f"{node} is not one binary layer"
    float_convs = [n.attrs["source"] for n in result.graph.nodes if n.op == "Conv2d"]
    assert not set(expected["kmap_nodes"]) & {s for f in float_convs for s in f.split(",")}, \
        "the K-map box filters must fuse into their binary convs"

    for inputs in sorted(folder.glob("inputs*.npz")):
        feeds = dict(np.load(inputs))
        assert_close(run_graph(result.graph, feeds),
                     onnxruntime_outputs(folder / "model.onnx", feeds))


ZERO_FIXTURES = [name for name in FIXTURE_NAMES if json.loads(
    (FIXTURES / name / "manifest.json").read_text())["sign_margin"].get("exact_zeros")]


def test_some_fixtures_feed_exact_zeros_to_a_sign():
    assert len(ZERO_FIXTURES) >= 3, ZERO_FIXTURES


@pytest.mark.parametrize("name", ZERO_FIXTURES)
def test_plus_one_differs_where_zeros_reach_a_sign(name):
    """The fixtures whose Sign inputs hold exact zeros match onnxruntime by default (above);
    sign_zero='plus_one' binarizes those zeros to +1 and no longer does, with a note."""
    folder = FIXTURES / name
    result = convert(folder / "model.onnx", sign_zero="plus_one")
    assert any("plus_one" in note for note in result.report.notes)
    feeds = dict(np.load(folder / "inputs.npz"))
    with pytest.raises(AssertionError):
        assert_close(ir_reference.run(result.graph, feeds),
                     onnxruntime_outputs(folder / "model.onnx", feeds))


def test_model_proto_with_loaded_external_data(run_graph):
    path = FIXTURES / "external_data" / "model.onnx"
    result = convert(onnx.load(str(path)))
    feeds = dict(np.load(path.parent / "inputs.npz"))
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(path, feeds))


# --- hand-built graphs ----------------------------------------------------------------------

RNG_SEED = 1234


def conv_node(x: str, w: str, out: str, pads=(1, 1, 1, 1), **attrs) -> onnx.NodeProto:
    return helper.make_node("Conv", [x, w], [out], name=out, kernel_shape=[3, 3],
                            pads=list(pads), **attrs)


def two_binary_convs(second_binarizer: list[onnx.NodeProto]) -> onnx.ModelProto:
    """Sign -> binary conv -> BatchNorm -> (second binarizer producing 's2') -> binary conv."""
    rng = np.random.default_rng(RNG_SEED)
    channels = 70
    constants = {
        "w1": binary_weight(rng, (channels, 8, 3, 3)),
        "w2": binary_weight(rng, (20, channels, 3, 3)),
        "gamma": rng.uniform(0.5, 1.5, channels).astype(np.float32),
        "beta": rng.normal(0, 3, channels).astype(np.float32),
        "mean": rng.normal(0, 3, channels).astype(np.float32),
        "var": rng.uniform(0.5, 2, channels).astype(np.float32),
        "b": rng.normal(0, 0.5, (1, channels, 1, 1)).astype(np.float32),
    }
    nodes = [
        helper.make_node("Sign", ["x"], ["s1"], name="sign1"),
        conv_node("s1", "w1", "c1"),
        helper.make_node("BatchNormalization", ["c1", "gamma", "beta", "mean", "var"], ["bn"],
                         name="bn"),
        *second_binarizer,
        conv_node("s2", "w2", "y"),
    ]
    return make_model(nodes, {"x": [2, 8, 9, 7]}, ["y"], constants)


@pytest.mark.parametrize("rsign", [False, True], ids=["sign", "rsign"])
def test_batchnorm_and_sign_become_a_bits_threshold(rsign, run_graph):
    if rsign:  # ReActNet: Sign(x + b) with a learnable per-channel b
        binarizer = [helper.make_node("Add", ["bn", "b"], ["shifted"], name="rsign_add"),
                     helper.make_node("Sign", ["shifted"], ["s2"], name="sign2")]
    else:
        binarizer = [helper.make_node("Sign", ["bn"], ["s2"], name="sign2")]
    model = two_binary_convs(binarizer)
    result = convert(model)
    convs = [n for n in result.graph.nodes if n.op == "BinaryConv2d"]
    assert [c.attrs["output"] for c in convs] == ["bits", "float"]
    assert [n.op for n in result.graph.nodes].count("BinarizePack") == 1
    initializers = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    expected_offset = initializers["b"].ravel() if rsign else np.zeros(70, np.float32)
    np.testing.assert_array_equal(result.graph.constants[convs[0].inputs[4]], expected_offset)
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_flatten_of_bits_feeds_binary_dense_as_groups(run_graph):
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w1": binary_weight(rng, (65, 5, 3, 3)),
                 "scale": rng.uniform(0.5, 1.5, (1, 65, 1, 1)).astype(np.float32),
                 "w2": binary_weight(rng, (10, 65 * 4 * 5)).T, "shift": np.float32([-0.2])}
    nodes = [
        helper.make_node("Sign", ["x"], ["s1"], name="sign1"),
        conv_node("s1", "w1", "c1", strides=[2, 2]),
        helper.make_node("Mul", ["c1", "scale"], ["scaled"], name="alpha"),
        helper.make_node("Sub", ["scaled", "shift"], ["shifted"], name="shift"),
        helper.make_node("Sign", ["shifted"], ["s2"], name="sign2"),
        helper.make_node("Flatten", ["s2"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "w2"], ["y"], name="dense"),
    ]
    model = make_model(nodes, {"x": ["batch", 5, 8, 10]}, ["y"], constants)
    result = convert(model)
    conv, dense = [n for n in result.graph.nodes if n.op in ("BinaryConv2d", "BinaryDense")]
    assert conv.attrs["output"] == "bits"
    assert (dense.attrs["groups_in"], dense.attrs["in_channels"]) == (4 * 5, 65)
    feeds = random_feeds(model, batch=3)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_max_pool_of_a_binarized_tensor_stays_binary(run_graph):
    """``MaxPool(Sign(x + b))`` is ``Sign(MaxPool(x) + b)``: the next conv is still binary."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"b": rng.normal(0, 0.3, (4, 1, 1)).astype(np.float32),
                 "w": binary_weight(rng, (6, 4, 3, 3))}
    nodes = [
        helper.make_node("Add", ["x", "b"], ["shifted"], name="rsign_add"),
        helper.make_node("Sign", ["shifted"], ["s"], name="sign"),
        helper.make_node("MaxPool", ["s"], ["pooled"], name="pool", kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1]),
        conv_node("pooled", "w", "y"),
    ]
    model = make_model(nodes, {"x": [2, 4, 9, 11]}, ["y"], constants)
    result = convert(model)
    assert result.report.layer_counts() == {"binary": 1, "bwn": 0, "float": 0}
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_where_with_ones_like_branches_and_dynamic_batch(run_graph):
    """The dynamo exporter's ``torch.where(x >= 0, ones_like(x), -ones_like(x))``: the branches
    are Expand(1, Shape(x)), which must neither fold into a batch-sized constant nor block the
    binarizer."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"zero": np.float32(0), "one": np.float32(1),
                 "w": binary_weight(rng, (6, 4, 3, 3))}
    nodes = [
        helper.make_node("GreaterOrEqual", ["x", "zero"], ["ge"], name="ge"),
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Expand", ["one", "shape"], ["ones"], name="ones_like"),
        helper.make_node("Neg", ["ones"], ["minus_ones"], name="neg"),
        helper.make_node("Where", ["ge", "ones", "minus_ones"], ["s"], name="where"),
        conv_node("s", "w", "y"),
    ]
    model = make_model(nodes, {"x": ["batch", 4, 6, 6]}, ["y"], constants, opset=18)
    result = convert(model)
    assert result.report.layer_counts() == {"binary": 1, "bwn": 0, "float": 0}
    feeds = random_feeds(model, batch=3)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_view_batch_minus_one_at_opset_11(run_graph):
    """``x.view(x.size(0), -1)`` as Shape, Gather, Unsqueeze (axes attribute), Concat, Reshape
    on a dynamic batch, before a binary dense layer."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": binary_weight(rng, (6, 4, 3, 3)), "zero": np.array(0, dtype=np.int64),
                 "b": rng.uniform(0.1, 0.9, (1, 6, 1, 1)).astype(np.float32),
                 "minus_one": np.array([-1], dtype=np.int64),
                 "fc": binary_weight(rng, (10, 6 * 5 * 5))}
    nodes = [
        helper.make_node("Sign", ["x"], ["s"], name="sign"),
        conv_node("s", "w", "unbiased"),
        helper.make_node("Add", ["unbiased", "b"], ["c"], name="bias"),  # no exact zeros
        helper.make_node("Shape", ["c"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n"], ["n1"], name="unsqueeze", axes=[0]),
        helper.make_node("Concat", ["n1", "minus_one"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["c", "target"], ["flat"], name="view"),
        helper.make_node("Sign", ["flat"], ["s2"], name="sign2"),
        helper.make_node("Gemm", ["s2", "fc"], ["y"], name="fc", transB=1),
    ]
    model = make_model(nodes, {"x": ["batch", 4, 5, 5]}, ["y"], constants, opset=11)
    result = convert(model)
    assert result.report.layer_counts() == {"binary": 2, "bwn": 0, "float": 0}
    # The Sign of the graph input can see exact zeros; the bias keeps the conv's output off them.
    ternary = {row.onnx_nodes.split(",")[0]: row.reason for row in result.report.layers
               if row.reason}
    assert list(ternary) == ["unbiased"] and "graph input 'x'" in ternary["unbiased"]
    feeds = random_feeds(model, batch=3)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_flattened_nhwc_tensor_meets_an_onnx_ordered_one(run_graph):
    """A Flatten of an NHWC value (H, W, C feature order) added to a graph input (C, H, W
    order) must be put back in ONNX order first; the sum feeds a float Dense."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": rng.standard_normal((5, 3, 3, 3)).astype(np.float32),
                 "fc": rng.standard_normal((5 * 4 * 6, 7)).astype(np.float32)}
    nodes = [
        conv_node("x", "w", "c"),
        helper.make_node("Flatten", ["c"], ["flat"], name="flatten"),
        helper.make_node("Add", ["flat", "skip"], ["sum"], name="add"),
        helper.make_node("MatMul", ["sum", "fc"], ["y"], name="fc"),
    ]
    model = make_model(nodes, {"x": [2, 3, 4, 6], "skip": [2, 5 * 4 * 6]}, ["y"], constants)
    result = convert(model)
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_kmap_with_other_geometry_stays_float(run_graph):
    """A box filter dilated unlike the binary conv is no K map: it is kept as float ops."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": binary_weight(rng, (6, 4, 3, 3)),
                 "box": np.full((1, 1, 3, 3), 1 / 9, dtype=np.float32)}
    nodes = [
        helper.make_node("Sign", ["x"], ["s"], name="sign"),
        conv_node("s", "w", "c", strides=[1, 1]),
        helper.make_node("Abs", ["x"], ["a"], name="abs"),
        helper.make_node("ReduceMean", ["a"], ["amean"], name="amean", axes=[1], keepdims=1),
        helper.make_node("Conv", ["amean", "box"], ["k"], name="kconv", kernel_shape=[3, 3],
                         pads=[2, 2, 2, 2], dilations=[2, 2]),
        helper.make_node("Mul", ["c", "k"], ["y"], name="kmul"),
    ]
    model = make_model(nodes, {"x": [2, 4, 9, 9]}, ["y"], constants, opset=13)
    result = convert(model)
    reasons = [row.reason for row in result.report.layers if "K map" in row.reason]
    assert len(reasons) == 1 and "dilations" in reasons[0]
    assert result.report.layer_counts()["binary"] == 1
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))
    with pytest.raises(ConversionError, match="K map"):
        convert(model, allow_float=False)


def test_inexact_ste_cancellation_is_not_a_binarizer(run_graph):
    """``Sign(x) - Clip(x, -1, 1) + Clip(x, -2, 2)`` is not Sign(x): the conv stays BWN."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": binary_weight(rng, (6, 4, 3, 3)), "m1": np.float32(-1), "p1": np.float32(1),
                 "m2": np.float32(-2), "p2": np.float32(2)}
    nodes = [
        helper.make_node("Sign", ["x"], ["s"], name="sign"),
        helper.make_node("Clip", ["x", "m1", "p1"], ["c1"], name="clip1"),
        helper.make_node("Clip", ["x", "m2", "p2"], ["c2"], name="clip2"),
        helper.make_node("Sub", ["s", "c1"], ["d"], name="sub"),
        helper.make_node("Add", ["d", "c2"], ["ste"], name="add"),
        conv_node("ste", "w", "y"),
    ]
    model = make_model(nodes, {"x": [2, 4, 6, 6]}, ["y"], constants)
    result = convert(model)
    assert result.report.layer_counts() == {"binary": 0, "bwn": 1, "float": 0}
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def cast_comparison(compare: str, threshold: str, arithmetic: list[onnx.NodeProto],
                    negate: bool = False) -> list[onnx.NodeProto]:
    """``compare(x, threshold)`` (under a Not when ``negate``) cast to float as 'indicator',
    then ``arithmetic`` producing 's'."""
    condition = [helper.make_node(compare, ["x", threshold], ["condition"], name="compare")]
    if negate:
        condition = [helper.make_node(compare, ["x", threshold], ["inverse"], name="compare"),
                     helper.make_node("Not", ["inverse"], ["condition"], name="not")]
    cast = helper.make_node("Cast", ["condition"], ["indicator"], name="cast", to=1)
    return [*condition, cast, *arithmetic]


CAST_BINARIZERS = {  # name: (nodes making 's' from 'x', opset, offset the pack must get)
    "ge_times_2_minus_1": (cast_comparison("GreaterOrEqual", "zero", [
        helper.make_node("Mul", ["indicator", "two"], ["doubled"], name="mul"),
        helper.make_node("Sub", ["doubled", "one"], ["s"], name="sub")]), 13, None),
    "1_minus_2_times_lt": (cast_comparison("Less", "zero", [
        helper.make_node("Mul", ["two", "indicator"], ["doubled"], name="mul"),
        helper.make_node("Sub", ["one", "doubled"], ["s"], name="sub")]), 13, None),
    "opset11_not_less": (cast_comparison("Less", "zero", [
        helper.make_node("Mul", ["indicator", "two"], ["doubled"], name="mul"),
        helper.make_node("Sub", ["doubled", "one"], ["s"], name="sub")], negate=True), 11, None),
    "neg_of_lt_arithmetic": (cast_comparison("Less", "zero", [
        helper.make_node("Add", ["indicator", "indicator_minus_half"], ["centered"], name="add"),
        helper.make_node("Div", ["centered", "half"], ["scaled"], name="div"),
        helper.make_node("Neg", ["scaled"], ["s"], name="neg")]), 13, None),
    "ge_threshold": (cast_comparison("GreaterOrEqual", "quarter", [
        helper.make_node("Mul", ["indicator", "two"], ["doubled"], name="mul"),
        helper.make_node("Sub", ["doubled", "one"], ["s"], name="sub")]), 13, -0.25),
}


@pytest.mark.parametrize("spelling", list(CAST_BINARIZERS))
def test_cast_comparison_arithmetic_is_a_binarizer(spelling, run_graph):
    """``(x >= t).float() * 2 - 1`` and its relatives map x >= t to +1 (0 included when t = 0,
    as the engine does): the conv is binary and an exact 0 gives onnxruntime's result."""
    nodes, opset, offset = CAST_BINARIZERS[spelling]
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": binary_weight(rng, (6, 4, 3, 3)), "zero": np.float32(0),
                 "quarter": np.float32(0.25), "one": np.float32(1), "two": np.float32(2),
                 "half": np.float32(0.5), "indicator_minus_half": np.float32(-0.5)}
    model = make_model([*nodes, conv_node("s", "w", "y")], {"x": [2, 4, 6, 6]}, ["y"],
                       constants, opset=opset)
    result = convert(model, allow_float=False)
    assert result.report.layer_counts() == {"binary": 1, "bwn": 0, "float": 0}
    (pack,) = [n for n in result.graph.nodes if n.op == "BinarizePack"]
    if offset is None:
        assert len(pack.inputs) == 1
    else:
        np.testing.assert_array_equal(result.graph.constants[pack.inputs[1]], [offset] * 4)
    feeds = random_feeds(model)
    feeds["x"][0, 0, :2] = 0.0
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_expanded_bias_with_dynamic_batch_becomes_a_pack_offset(run_graph):
    """ReActNet's ``x + bias.expand_as(x)`` with a dynamic batch: ``Expand(b, Shape(x))`` cannot
    fold, and is skipped; the bias becomes the BinarizePack offset (no Add is emitted)."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"b": rng.normal(0, 0.3, (1, 4, 1, 1)).astype(np.float32),
                 "w": binary_weight(rng, (6, 4, 3, 3))}
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Expand", ["b", "shape"], ["expanded"], name="expand_as"),
        helper.make_node("Add", ["x", "expanded"], ["shifted"], name="move"),
        helper.make_node("Sign", ["shifted"], ["s"], name="sign"),
        conv_node("s", "w", "y"),
    ]
    model = make_model(nodes, {"x": ["batch", 4, 6, 6]}, ["y"], constants)
    result = convert(model)
    assert [n.op for n in result.graph.nodes] == ["BinarizePack", "BinaryConv2d"]
    feeds = random_feeds(model, batch=3)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_batch_sized_broadcast_constant_is_read_per_channel(run_graph):
    """A per-channel bias that the exporter materialized to the activation's full static shape
    ``[N, C, H, W]`` is read as ``[1, C, 1, 1]``: it folds into the binary conv's bias."""
    rng = np.random.default_rng(RNG_SEED)
    bias = rng.normal(0, 0.3, (1, 6, 1, 1)).astype(np.float32)
    constants = {"w": binary_weight(rng, (6, 4, 3, 3)),
                 "expanded": np.ascontiguousarray(np.broadcast_to(bias, (2, 6, 5, 5)))}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             conv_node("s", "w", "c"),
             helper.make_node("Add", ["c", "expanded"], ["y"], name="move")]
    model = make_model(nodes, {"x": [2, 4, 5, 5]}, ["y"], constants)
    result = convert(model)
    assert "Add" not in [n.op for n in result.graph.nodes]
    assert max(a.size for a in result.graph.constants.values()) < 2 * 6 * 5 * 5
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_hardtanh_into_binary_weights_gets_the_binarynet_note(run_graph):
    """BinaryNet.pytorch binarizes ``input.data``, which the exporter drops: the ONNX graph is
    Hardtanh -> layer with ±1 weights. It runs as BWN, as ONNX says, with a note saying why."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"minus_one": np.float32(-1), "one": np.float32(1),
                 "w": np.sign(binary_weight(rng, (70, 9)))}
    nodes = [helper.make_node("Clip", ["x", "minus_one", "one"], ["h"], name="hardtanh"),
             helper.make_node("Flatten", ["h"], ["f"], name="flatten"),
             helper.make_node("MatMul", ["f", "w"], ["y"], name="fc")]
    model = make_model(nodes, {"x": [2, 70, 1]}, ["y"], constants, opset=11)
    result = convert(model)
    assert result.report.layer_counts() == {"binary": 0, "bwn": 1, "float": 0}
    (note,) = result.report.notes
    assert "layer 'fc' has binary weights" in note and "input.data" in note
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_binarynet_fixture_gets_the_binarynet_note():
    result = convert(FIXTURES / "binarynet_vgg_legacy11" / "model.onnx")
    assert len(result.report.notes) == 1
    assert "layers '/features/features.3/Conv', " in result.report.notes[0]


@pytest.mark.parametrize("spelling", ["where", "cast_arithmetic"])
def test_greater_than_zero_maps_zero_to_minus_one_and_stays_float(spelling, run_graph):
    """``Where(x > 0, 1, -1)`` and ``Cast(x > 0) * 2 - 1`` give -1 at an exact 0."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": binary_weight(rng, (6, 4, 3, 3)), "zero": np.float32(0),
                 "one": np.float32(1), "minus_one": np.float32(-1), "two": np.float32(2)}
    if spelling == "where":
        binarizer = [helper.make_node("Where", ["positive", "one", "minus_one"], ["s"],
                                      name="where")]
    else:
        binarizer = [helper.make_node("Cast", ["positive"], ["indicator"], name="cast", to=1),
                     helper.make_node("Mul", ["indicator", "two"], ["doubled"], name="mul"),
                     helper.make_node("Sub", ["doubled", "one"], ["s"], name="sub")]
    nodes = [
        helper.make_node("Greater", ["x", "zero"], ["positive"], name="greater"),
        *binarizer,
        conv_node("s", "w", "y"),
    ]
    model = make_model(nodes, {"x": [2, 4, 6, 6]}, ["y"], constants)
    result = convert(model)
    assert result.report.layer_counts() == {"binary": 0, "bwn": 1, "float": 0}
    assert "maps 0 to -1" in result.report.layers[0].reason
    feeds = random_feeds(model)
    feeds["x"][0, 0, :2] = 0.0  # exact zeros must give ONNX's -1
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))
    with pytest.raises(ConversionError, match="maps 0 to -1"):
        convert(model, allow_float=False)


def ternary_model() -> onnx.ModelProto:
    """Sign(x) into a conv whose weight is Sign(W) of a latent W with exact zeros."""
    latent = binary_weight(np.random.default_rng(RNG_SEED), (6, 4, 3, 3))
    latent[0, 0, 0, 0] = 0.0
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("Sign", ["latent"], ["w"], name="wsign"),
             conv_node("s", "w", "y")]
    return make_model(nodes, {"x": [2, 4, 6, 6]}, ["y"], {"latent": latent})


def test_ternary_weights_stay_float_with_the_reason(run_graph):
    model = ternary_model()
    result = convert(model)
    assert result.report.layer_counts() == {"binary": 0, "bwn": 0, "float": 1}
    assert "ternary" in result.report.layers[0].reason
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_allow_float_false_refuses_ternary_weights():
    with pytest.raises(ConversionError, match=r"node 'y' \(Conv, opset 17\).*ternary"):
        convert(ternary_model(), allow_float=False)


@pytest.mark.parametrize("sign_zero", ["auto", "exact", "plus_one"])
def test_sign_after_relu_is_exact_unless_plus_one(sign_zero, run_graph):
    """Sign(Relu(x)) holds exact zeros: by default (and with "exact") the conv reads the
    ternary form and matches onnxruntime; "plus_one" binarizes 0 to +1, says so, and differs."""
    rng = np.random.default_rng(RNG_SEED)
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Sign", ["r"], ["s"], name="sign"),
             conv_node("s", "w", "y")]
    model = make_model(nodes, {"x": [2, 4, 6, 6]}, ["y"], {"w": binary_weight(rng, (6, 4, 3, 3))})
    result = convert(model, sign_zero=sign_zero)
    assert result.report.layer_counts()["binary"] == 1
    packs = [n.attrs["output"] for n in result.graph.nodes if n.op == "BinarizePack"]
    feeds = random_feeds(model)
    got, want = run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds)
    if sign_zero == "plus_one":
        assert packs == ["bits"]
        assert any("plus_one" in note and "Relu node 'relu'" in note
                   for note in result.report.notes)
        assert not np.allclose(got["y"], want["y"], rtol=1e-4, atol=1e-4)
        return
    assert packs == ["ternary"]
    (row,) = [row for row in result.report.layers if row.onnx_nodes == "y"]
    assert "exact sign(0)" in row.reason
    if sign_zero == "auto":
        assert "Relu node 'relu'" in row.reason
    assert_close(got, want)


@pytest.mark.parametrize("between", ["direct", "leaky_relu", "max_pool", "concat"])
def test_zeros_reach_a_sign_through_ops_that_keep_them(between, run_graph):
    """A binary conv without bias makes exact zeros (half its ±1 products disagree); they reach
    the next Sign directly, through a LeakyRelu, a MaxPool or a Concat, and stay exact. (Its
    weights are ±1, so onnxruntime's float sums are exact too; with ±alpha they can round
    next to 0, which is float noise, not a pattern.)"""
    rng = np.random.default_rng(RNG_SEED)
    middle = {"direct": [],
              "leaky_relu": [helper.make_node("LeakyRelu", ["c"], ["r"], name="leaky", alpha=0.1)],
              "max_pool": [helper.make_node("MaxPool", ["c"], ["r"], name="pool",
                                            kernel_shape=[2, 2], strides=[1, 1])],
              "concat": [helper.make_node("Concat", ["c", "c"], ["r"], name="cat", axis=1)]}[between]
    nodes = [helper.make_node("Add", ["x", "shift"], ["xs"], name="shift"),
             helper.make_node("Sign", ["xs"], ["s"], name="sign"),
             conv_node("s", "w1", "c"), *middle,
             helper.make_node("Sign", ["r" if middle else "c"], ["s2"], name="sign2"),
             conv_node("s2", "w2", "y")]
    in2 = 12 if between == "concat" else 6
    constants = {"w1": np.sign(binary_weight(rng, (6, 4, 3, 3))),
                 "w2": binary_weight(rng, (6, in2, 3, 3)),
                 "shift": np.full((1, 4, 1, 1), 0.25, np.float32)}
    model = make_model(nodes, {"x": [2, 4, 7, 7]}, ["y"], constants)
    result = convert(model)
    reasons = {row.onnx_nodes.split(",")[0]: row.reason for row in result.report.layers}
    assert reasons["c"] == ""  # Sign(x + 0.25): an offset, one plane
    assert "exact sign(0)" in reasons["y"]
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_sign_after_batchnorm_keeps_one_plane():
    """A BatchNorm's shift keeps its output off exact zeros: one bit plane, no note."""
    rng = np.random.default_rng(RNG_SEED)
    channels = 4
    bn = [rng.uniform(0.5, 1.5, channels), rng.uniform(0.1, 0.5, channels),
          rng.standard_normal(channels), rng.uniform(0.5, 1.5, channels)]
    nodes = [helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["bn"], name="bn"),
             helper.make_node("Sign", ["bn"], ["s"], name="sign"), conv_node("s", "w", "y")]
    constants = dict(zip("gbmv", (a.astype(np.float32) for a in bn)))
    constants["w"] = binary_weight(rng, (6, channels, 3, 3))
    result = convert(make_model(nodes, {"x": [2, channels, 6, 6]}, ["y"], constants))
    assert [n.attrs["output"] for n in result.graph.nodes if n.op == "BinarizePack"] == ["bits"]
    assert not result.report.notes


def _unfuse_pack_affines(graph) -> int:
    """Put each BinarizePack's fused scale/bias back as a ChannelAffine in front of it (the
    graph before fuse_pack_affine); returns how many there were."""
    count = 0
    for pack in [n for n in graph.nodes if n.op == "BinarizePack" and n.input("scale")]:
        x, scale, bias = pack.inputs[0], pack.input("scale"), pack.input("bias")
        value = f"{pack.name}:unfused"
        graph.values[value] = ir.ValueInfo(value, list(graph.values[pack.outputs[0]].shape),
                                           "float32")
        affine = ir.Node(f"{pack.name}:affine", "ChannelAffine", [x, scale, bias], [value],
                         {"source": pack.attrs["source"]})
        graph.nodes.insert(graph.nodes.index(pack), affine)
        pack.inputs = [value] + pack.inputs[1:2]
        count += 1
    return count


@pytest.mark.parametrize("case", ["pool_batchnorm", "relu_batchnorm"])
def test_an_affine_before_a_sign_moves_into_the_pack(case, run_graph):
    """A BatchNorm after a MaxPool (one negative scale), or after a Relu (no shift: its zeros
    stay exact, the ternary form), cannot fold into the layer before; it moves into the
    BinarizePack, which writes the same bits the ChannelAffine + BinarizePack pair wrote."""
    if case == "pool_batchnorm":
        model, _ = edge_binary_conv_max_pool_batchnorm_sign()
    else:
        rng = np.random.default_rng(RNG_SEED)
        nodes = [helper.make_node("Sign", ["x"], ["s0"], name="sign0"), conv_node("s0", "w0", "c"),
                 helper.make_node("Relu", ["c"], ["r"], name="relu"),
                 helper.make_node("BatchNormalization", ["r", "gamma", "beta", "mean", "var"],
                                  ["m"], name="bn"),
                 helper.make_node("Sign", ["m"], ["s"], name="sign"), conv_node("s", "w", "y")]
        # ±1 weights: onnxruntime's float sums are exact too, its zeros ours (see above).
        constants = {"w0": np.sign(binary_weight(rng, (4, 3, 3, 3))),
                     "w": binary_weight(rng, (6, 4, 3, 3)),
                     "gamma": np.float32([1.5, -0.5, 2.0, 0.25]), "beta": np.zeros(4, np.float32),
                     "mean": np.zeros(4, np.float32), "var": np.float32([1.0, 0.5, 2.0, 1.5])}
        model = make_model(nodes, {"x": [2, 3, 6, 6]}, ["y"], constants)
    graph = convert(model).graph
    assert "ChannelAffine" not in [n.op for n in graph.nodes]
    (pack,) = [n for n in graph.nodes if n.op == "BinarizePack" and n.input("scale")]
    assert pack.attrs["output"] == ("ternary" if case == "relu_batchnorm" else "bits")
    feeds = random_feeds(model)
    got = run_graph(graph, feeds)
    assert_close(got, onnxruntime_outputs(model, feeds))
    assert _unfuse_pack_affines(graph) == 1
    unfused = run_graph(graph, feeds)
    for name in got:
        np.testing.assert_array_equal(got[name], unfused[name])


def test_output_file_and_report(tmp_path, capsys):
    model = two_binary_convs([helper.make_node("Sign", ["bn"], ["s2"], name="sign2")])
    path = tmp_path / "model.xnor"
    result = convert(model, path, progress=False)
    loaded = model_file.load(path)
    assert [n.op for n in loaded.nodes] == [n.op for n in result.graph.nodes]
    json.dumps(result.graph.metadata)
    assert result.graph.metadata["report"]["xnor_param_bytes"] == result.report.xnor_param_bytes
    text = result.report.to_text()
    assert "BinaryConv2d" in text and "2 binary, 0 BWN, 0 float" in text
    result.report.print()
    assert "BinaryConv2d" in capsys.readouterr().out


# --- awkward graphs -------------------------------------------------------------------------

def edge_two_inputs():
    rng = np.random.default_rng(RNG_SEED)
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"), conv_node("s", "w", "c"),
             helper.make_node("Add", ["c", "skip"], ["y"], name="add")]
    return make_model(nodes, {"x": [2, 4, 5, 5], "skip": [2, 6, 5, 5]}, ["y"],
                      {"w": binary_weight(rng, (6, 4, 3, 3))}), 1


def edge_binary_conv_max_pool_batchnorm_sign():
    """The BatchNorm (one negative scale) cannot fold into the conv across the MaxPool; it
    becomes the next binarizer's threshold."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w1": binary_weight(rng, (6, 4, 3, 3)), "w2": binary_weight(rng, (5, 6, 3, 3)),
                 "gamma": np.float32([1.2, -0.7, 0.9, 1.1, 0.8, 1.3]),
                 "beta": rng.normal(0, 1, 6).astype(np.float32),
                 "mean": rng.normal(0, 1, 6).astype(np.float32),
                 "var": rng.uniform(0.5, 2, 6).astype(np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"), conv_node("s", "w1", "c"),
             helper.make_node("MaxPool", ["c"], ["p"], name="pool", kernel_shape=[2, 2],
                              strides=[2, 2]),
             helper.make_node("BatchNormalization", ["p", "gamma", "beta", "mean", "var"],
                              ["bn"], name="bn"),
             helper.make_node("Sign", ["bn"], ["s2"], name="sign2"), conv_node("s2", "w2", "y")]
    return make_model(nodes, {"x": [2, 4, 6, 6]}, ["y"], constants), 2


def edge_gemm_trans_b_0():
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": binary_weight(rng, (9, 70)).T.copy(),
                 "b": rng.normal(0, 1, 9).astype(np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("Gemm", ["s", "w", "b"], ["y"], name="fc", transB=0)]
    return make_model(nodes, {"x": [2, 70]}, ["y"], constants), 1


def edge_opset11_attribute_forms():
    """Opset 11: Clip bounds as inputs (max absent), Pad without a value, ReduceMean, Squeeze
    and Unsqueeze with axes attributes, LogSoftmax's default axis 1."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"minus_one": np.float32(-1), "one": np.float32(1),
                 "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
                 "w": binary_weight(rng, (6, 4, 3, 3))}
    nodes = [
        helper.make_node("Clip", ["x", "minus_one", "one"], ["c"], name="hardtanh"),
        helper.make_node("Clip", ["c", "minus_one", ""], ["c2"], name="clip_min_only"),
        helper.make_node("Sign", ["c2"], ["s"], name="sign"),
        helper.make_node("Pad", ["s", "pads"], ["p"], name="pad", mode="constant"),
        helper.make_node("Conv", ["p", "w"], ["conv"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("ReduceMean", ["conv"], ["gap"], name="gap", axes=[2, 3]),
        helper.make_node("Squeeze", ["gap"], ["squeezed"], name="squeeze", axes=[2, 3]),
        helper.make_node("Unsqueeze", ["squeezed"], ["u"], name="unsqueeze", axes=[2]),
        helper.make_node("Flatten", ["u"], ["f"], name="flatten"),
        helper.make_node("LogSoftmax", ["f"], ["y"], name="log_softmax"),
    ]
    return make_model(nodes, {"x": [2, 4, 5, 5]}, ["y"], constants, opset=11), 1


def edge_reshape_static_batch_minus_one():
    """``x.view(2, -1)`` with a static batch of 2 into a binary dense layer."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": binary_weight(rng, (6, 4, 3, 3)), "shape": np.array([2, -1], np.int64),
                 "b": rng.uniform(0.1, 0.9, (1, 6, 1, 1)).astype(np.float32),
                 "fc": binary_weight(rng, (7, 6 * 5 * 5))}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"), conv_node("s", "w", "c0"),
             helper.make_node("Add", ["c0", "b"], ["c"], name="bias"),
             helper.make_node("Reshape", ["c", "shape"], ["flat"], name="view"),
             helper.make_node("Sign", ["flat"], ["s2"], name="sign2"),
             helper.make_node("Gemm", ["s2", "fc"], ["y"], name="fc", transB=1)]
    return make_model(nodes, {"x": [2, 4, 5, 5]}, ["y"], constants), 2


def edge_float_heads():
    """Sigmoid, Tanh, LogSoftmax over the channels of an NCHW tensor (opset 13) and of a
    flattened one."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": rng.standard_normal((6, 4, 3, 3)).astype(np.float32),
                 "fc": rng.standard_normal((6 * 5 * 5, 7)).astype(np.float32)}
    nodes = [conv_node("x", "w", "c"),
             helper.make_node("Sigmoid", ["c"], ["gate"], name="sigmoid"),
             helper.make_node("Tanh", ["c"], ["t"], name="tanh"),
             helper.make_node("Mul", ["gate", "t"], ["gated"], name="gated"),
             helper.make_node("LogSoftmax", ["gated"], ["channels"], name="channel_log_softmax",
                              axis=1),
             helper.make_node("Flatten", ["channels"], ["f"], name="flatten"),
             helper.make_node("MatMul", ["f", "fc"], ["logits"], name="fc"),
             helper.make_node("LogSoftmax", ["logits"], ["y"], name="log_softmax", axis=1)]
    return make_model(nodes, {"x": [2, 4, 5, 5]}, ["y"], constants, opset=13), 0


def edge_output_is_an_input():
    """A graph output that is the graph input itself (declared without a shape)."""
    rng = np.random.default_rng(RNG_SEED)
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"), conv_node("s", "w", "y")]
    return make_model(nodes, {"x": ["batch", 4, 5, 5]}, ["y", "x"],
                      {"w": binary_weight(rng, (6, 4, 3, 3))}), 1


EDGE_CASES = {f.__name__.removeprefix("edge_"): f for f in [
    edge_two_inputs, edge_binary_conv_max_pool_batchnorm_sign, edge_gemm_trans_b_0,
    edge_opset11_attribute_forms, edge_reshape_static_batch_minus_one, edge_float_heads,
    edge_output_is_an_input]}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_awkward_graph_matches_onnxruntime(case, run_graph):
    model, binary_layers = EDGE_CASES[case]()
    result = convert(model, allow_float=False)
    assert result.report.layer_counts()["binary"] == binary_layers
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


# --- conversion errors ----------------------------------------------------------------------

def test_unsupported_op_names_node_op_and_opset():
    rng = np.random.default_rng(RNG_SEED)
    constants = {"W": rng.standard_normal((1, 12, 4)).astype(np.float32),
                 "R": rng.standard_normal((1, 12, 3)).astype(np.float32)}
    nodes = [helper.make_node("LSTM", ["x", "W", "R"], ["y"], name="foo", hidden_size=3)]
    model = make_model(nodes, {"x": [5, 2, 4]}, ["y"], constants)
    with pytest.raises(ConversionError,
                       match=r"^cannot convert node 'foo' \(LSTM, opset 17\): the engine has no "
                             r"LSTM op$"):
        convert(model)


def test_matmul_with_a_computed_second_input_is_an_error():
    nodes = [helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")]
    model = make_model(nodes, {"a": [2, 3], "b": [3, 4]}, ["y"])
    with pytest.raises(ConversionError, match=r"node 'mm' \(MatMul, opset 17\).*constant"):
        convert(model)


def test_matmul_with_the_constant_first_is_an_error():
    weight = np.ones((4, 5), np.float32)
    model = make_model([helper.make_node("MatMul", ["w", "x"], ["y"], name="mm")], {"x": [5, 3]},
                       ["y"], {"w": weight})
    with pytest.raises(ConversionError,
                       match=r"node 'mm' \(MatMul, opset 17\): its first input is the constant"):
        convert(model)


def test_integer_input_is_an_error():
    graph = helper.make_graph(
        [helper.make_node("Cast", ["ids"], ["y"], name="cast", to=1)], "ids",
        [helper.make_tensor_value_info("ids", onnx.TensorProto.INT64, [2, 5])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2, 5])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ConversionError, match=r"^input 'ids' has type INT64; the engine takes "
                                              r"float32 inputs only"):
        convert(model)


def test_symbolic_non_batch_dimension_stays_dynamic_or_can_be_fixed(run_graph):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    model = make_model(nodes, {"x": ["n", 3, "h", 4]}, ["y"])
    dynamic = convert(model)
    assert dynamic.graph.inputs[0].shape == [-1, 3, -1, 4]
    for h in (1, 6):
        x = np.random.default_rng(h).standard_normal((2, 3, h, 4)).astype(np.float32)
        np.testing.assert_array_equal(run_graph(dynamic.graph, {"x": x})["y"], np.maximum(x, 0))
    result = convert(model, input_shapes={"x": [-1, 3, 5, 4]})
    assert result.graph.inputs[0].shape == [-1, 3, 5, 4]
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4)).astype(np.float32)
    np.testing.assert_array_equal(run_graph(result.graph, {"x": x})["y"], np.maximum(x, 0))


def test_opset_below_11_is_an_error():
    model = make_model([helper.make_node("Relu", ["x"], ["y"])], {"x": [1, 2]}, ["y"], opset=10)
    with pytest.raises(ConversionError, match="opset 10"):
        convert(model)


def test_a_file_that_is_not_onnx_is_an_error(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"garbage data here")
    with pytest.raises(ConversionError, match="cannot read ONNX model"):
        convert(path)


@pytest.mark.parametrize("name", ["bireal_resnet", "bireal_official_legacy13"])
def test_real_valued_shortcuts_fuse_into_the_binary_convs(name):
    """Bi-Real blocks (BN(binary conv) + shortcut, then the next Sign) become one BinaryConv2d
    each, with the shortcut as its residual and the sum's bits as its second output: no
    standalone Add or BinarizePack is left after the stem's."""
    graph = convert(FIXTURES / name / "model.onnx").graph
    ops = [n.op for n in graph.nodes]
    assert "Add" not in ops
    assert ops.count("BinarizePack") == 1
    convs = [n for n in graph.nodes if n.op == "BinaryConv2d"]
    assert all(len(n.inputs) > 8 and n.inputs[8] for n in convs)
    assert sum(len(n.outputs) == 2 for n in convs) == len(convs) - 1  # the last feeds the head


def test_activations_after_binary_layers_run_in_their_epilogue():
    """XNOR-Net's Conv -> ReLU and a PReLU head: the activation moves into the binary layer
    (attr activation) and no standalone Relu / PRelu follows a binary layer."""
    for name, kind in [("xnornet_alexnet_kmap", "relu"), ("bnn_heads_legacy11", "prelu")]:
        graph = convert(FIXTURES / name / "model.onnx").graph
        producers = graph.producer_of()
        layers = [n for n in graph.nodes if n.op in ("BinaryConv2d", "BinaryDense")]
        assert any(n.attrs.get("activation") == kind for n in layers), name
        for node in graph.nodes:
            if node.op in ("Relu", "PRelu"):
                source = producers.get(node.inputs[0])
                assert source is None or source.op not in ("BinaryConv2d", "BinaryDense"), name


def test_a_max_pool_after_the_float_stem_runs_in_its_pass():
    """XNOR-Net AlexNet's Conv -> BN -> ReLU -> MaxPool stem becomes one Conv2d with the ReLU
    and the pool's attributes (pool_*); the MaxPools after binary layers stay separate nodes."""
    graph = convert(FIXTURES / "xnornet_alexnet_kmap" / "model.onnx").graph
    stem = next(n for n in graph.nodes if n.op == "Conv2d")
    assert stem.attrs["activation"] == "relu"
    assert stem.attrs["pool_kernel_shape"] == [3, 3] and stem.attrs["pool_strides"] == [2, 2]
    assert not any(n.op == "MaxPool" and n.inputs[0] == stem.outputs[0] for n in graph.nodes)


def test_the_float_stem_reads_the_nchw_image():
    """The fp32 stem reads the NCHW graph input itself (no Transpose before it); an int8 stem,
    whose kernels read NHWC, keeps the Transpose."""
    model = FIXTURES / "xnornet_alexnet_kmap" / "model.onnx"
    graph = convert(model).graph
    stem = graph.nodes[0]
    assert stem.op == "Conv2d" and stem.attrs["input_layout"] == "nchw"
    assert stem.inputs[0] == graph.inputs[0].name
    assert "Transpose" not in [n.op for n in graph.nodes[:2]]
    int8 = convert(model, first_layer="int8").graph
    transpose, stem = int8.nodes[:2]
    assert transpose.op == "Transpose" and stem.inputs[0] == transpose.outputs[0]
    assert stem.attrs["precision"] == "int8" and "input_layout" not in stem.attrs


@pytest.mark.parametrize("stride,sign_zero", [(1, "auto"), (2, "plus_one")])
def test_a_one_layer_model_reads_and_writes_nchw_itself(stride, sign_zero, run_graph):
    """Sign -> binary Conv on an NCHW graph input and output: the pack reads the NCHW input and
    the conv writes the NCHW output, no Transpose left; the result matches onnxruntime."""
    rng = np.random.default_rng(stride)
    model = make_model(
        [helper.make_node("Sign", ["x"], ["s"]),
         helper.make_node("Conv", ["s", "w"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                          strides=[stride, stride])],
        {"x": ["N", 70, 9, 10]}, ["y"], {"w": binary_weight(rng, (33, 70, 3, 3))})
    graph = convert(model, sign_zero=sign_zero).graph
    assert [n.op for n in graph.nodes] == ["BinarizePack", "BinaryConv2d"]
    pack, conv = graph.nodes
    assert pack.attrs["input_layout"] == "nchw" and pack.inputs[0] == "x"
    assert conv.attrs["output_layout"] == "nchw" and conv.outputs == ["y"]
    feeds = random_feeds(model)
    if sign_zero == "auto":
        feeds["x"][0, :, 2] = 0.0  # exact zeros: Sign(0) = 0 with the ternary pack
    assert_close(run_graph(graph, feeds), onnxruntime_outputs(model, feeds))


@pytest.mark.parametrize("pool", [True, False], ids=["stem", "conv-only"])
def test_a_float_stem_alone_reads_and_writes_nchw_itself(pool, run_graph):
    """A stem on its own (Conv -> BatchNorm -> Relu -> MaxPool, NCHW in and out, what a user
    benchmarking it exports) becomes one Conv2d that reads the image and writes the NCHW output
    itself, no Transpose left; the result matches onnxruntime."""
    rng = np.random.default_rng(11)
    c = 16
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[7, 7], strides=[2, 2],
                              pads=[3, 3, 3, 3]),
             helper.make_node("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["n"]),
             helper.make_node("Relu", ["n"], ["r" if pool else "y"])]
    if pool:
        nodes.append(helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=[3, 3],
                                      strides=[2, 2], pads=[1, 1, 1, 1]))
    constants = {"w": rng.standard_normal((c, 3, 7, 7)).astype(np.float32),
                 "b": rng.standard_normal(c).astype(np.float32),
                 "g": rng.uniform(0.5, 1.5, c).astype(np.float32),
                 "beta": rng.standard_normal(c).astype(np.float32),
                 "mean": rng.standard_normal(c).astype(np.float32),
                 "var": rng.uniform(0.5, 1.5, c).astype(np.float32)}
    model = make_model(nodes, {"x": ["N", 3, 29, 22]}, ["y"], constants)
    graph = convert(model).graph
    assert [n.op for n in graph.nodes] == ["Conv2d"]
    stem = graph.nodes[0]
    assert stem.inputs[0] == "x" and stem.outputs == ["y"]
    assert stem.attrs["input_layout"] == "nchw" and stem.attrs["output_layout"] == "nchw"
    assert ("pool_kernel_shape" in stem.attrs) == pool
    feeds = random_feeds(model)
    assert_close(run_graph(graph, feeds), onnxruntime_outputs(model, feeds))


def test_nchw_edges_stay_where_the_nhwc_tensors_are_read_again():
    """A conv output a Relu reads too keeps its Transpose, as does an NHWC input that a MaxPool
    reads too."""
    rng = np.random.default_rng(3)
    model = make_model(
        [helper.make_node("Sign", ["x"], ["s"]),
         helper.make_node("Conv", ["s", "w"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["y"], ["r"]),
         helper.make_node("MaxPool", ["x"], ["xr"], kernel_shape=[2, 2])],
        {"x": [1, 64, 5, 5]}, ["y", "r", "xr"], {"w": binary_weight(rng, (8, 64, 3, 3))})
    graph = convert(model).graph
    pack = next(n for n in graph.nodes if n.op == "BinarizePack")
    conv = next(n for n in graph.nodes if n.op == "BinaryConv2d")
    assert "input_layout" not in pack.attrs and "output_layout" not in conv.attrs
    feeds = random_feeds(model)
    assert_close(ir_reference.run(graph, feeds), onnxruntime_outputs(model, feeds))
