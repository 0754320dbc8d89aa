"""XNOR-Net's β (per-sample or per-row mean |x| scaling) in every export spelling, binary and
float dense layers on activations of any rank, Gemm with transA, and a converter that refuses at
convert time what the engine would refuse at load time. Hand-built ONNX graphs, each checked
against onnxruntime on every engine path (``run_graph``)."""

from __future__ import annotations

import numpy as np
import pytest
from conversion_checks import assert_close, binary_weight, make_model, onnxruntime_outputs, random_feeds
from onnx import helper

from xnorinfer import InferenceSession, model_file
from xnorinfer.errors import ConversionError
from xnorinfer.onnx import convert

RNG_SEED = 7
FEATURES, OUT = 70, 33


def _abs_mean(x: str, out: str, spelling: str, axes: list[int], count: int) -> list:
    """mean |x| over ``axes`` (kept dims) as an exporter may write it."""
    if spelling == "reduce_mean":
        return [helper.make_node("Abs", [x], [f"{out}_abs"], name=f"{out}_abs"),
                helper.make_node("ReduceMean", [f"{out}_abs"], [out], name=out, axes=axes,
                                 keepdims=1)]
    if spelling == "reduce_l1_div":
        return [helper.make_node("ReduceL1", [x], [f"{out}_l1"], name=f"{out}_l1", axes=axes,
                                 keepdims=1),
                helper.make_node("Div", [f"{out}_l1", f"{out}_count"], [out], name=out)]
    assert spelling == "reduce_sum_mul"
    return [helper.make_node("Abs", [x], [f"{out}_abs"], name=f"{out}_abs"),
            helper.make_node("ReduceSum", [f"{out}_abs", f"{out}_axes"], [f"{out}_sum"],
                             name=f"{out}_sum", keepdims=1),
            helper.make_node("Mul", [f"{out}_sum", f"{out}_inverse"], [out], name=out)]


def _abs_mean_constants(out: str, axes: list[int], count: int) -> dict:
    return {f"{out}_count": np.array(count, np.float32),
            f"{out}_inverse": np.array(1.0 / count, np.float32),
            f"{out}_axes": np.array(axes, np.int64)}


def _assert_fused_and_exact(model, run_graph, binary_layers: int, batch: int = 2) -> None:
    result = convert(model)
    assert result.report.layer_counts()["binary"] == binary_layers
    ops = [node.op for node in result.graph.nodes]
    assert "Mul" not in ops and "GlobalAveragePool" not in ops, f"β not fused: {ops}"
    feeds = random_feeds(model, batch=batch)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


@pytest.mark.parametrize("spelling", ["reduce_mean", "reduce_l1_div", "reduce_sum_mul"])
@pytest.mark.parametrize("order", ["after_alpha_before_bias", "after_bias", "beta_first"])
def test_beta_on_a_binary_dense_layer(spelling, order, run_graph):
    """``(sign(x) @ sign(W).T * alpha) * mean|x| + b`` (XNOR-Net AlexNet's FC layers), with β
    multiplied after alpha and before the bias, after the bias, or as the Mul's first input."""
    rng = np.random.default_rng(RNG_SEED)
    weight = binary_weight(rng, (OUT, FEATURES))
    constants = {"w": np.sign(weight).T.copy(), "alpha": np.abs(weight[:, 0]),
                 "wa": weight.T.copy(), "b": rng.standard_normal(OUT).astype(np.float32),
                 **_abs_mean_constants("beta", [1], FEATURES)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             *_abs_mean("x", "beta", spelling, [1], FEATURES)]
    if order == "after_alpha_before_bias":
        nodes += [helper.make_node("MatMul", ["s", "w"], ["mm"], name="fc"),
                  helper.make_node("Mul", ["mm", "alpha"], ["scaled"], name="alpha"),
                  helper.make_node("Mul", ["scaled", "beta"], ["beta_scaled"], name="beta_mul"),
                  helper.make_node("Add", ["beta_scaled", "b"], ["y"], name="bias")]
    else:
        nodes.append(helper.make_node("Gemm", ["s", "wa", "b"], ["g"], name="fc"))
        operands = ["beta", "g"] if order == "beta_first" else ["g", "beta"]
        nodes.append(helper.make_node("Mul", operands, ["y"], name="beta_mul"))
    model = make_model(nodes, {"x": ["batch", FEATURES]}, ["y"], constants, opset=13)
    _assert_fused_and_exact(model, run_graph, binary_layers=1, batch=3)


def test_beta_on_a_flattened_feature_map(run_graph):
    """β over the features of a flattened NHWC map: the dense layer reads its H*W groups and
    averages their per-pixel means."""
    rng = np.random.default_rng(RNG_SEED)
    channels, size = 6, 4
    constants = {"w": binary_weight(rng, (channels, 3, 3, 3)),
                 "fc": binary_weight(rng, (OUT, channels * size * size)).T.copy(),
                 "shift": rng.uniform(0.1, 0.3, (1, channels, 1, 1)).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="stem", kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c", "shift"], ["cs"], name="shift"),
             helper.make_node("Flatten", ["cs"], ["flat"], name="flatten"),
             helper.make_node("Sign", ["flat"], ["s"], name="sign"),
             *_abs_mean("flat", "beta", "reduce_mean", [1], 0),
             helper.make_node("MatMul", ["s", "fc"], ["mm"], name="fc"),
             helper.make_node("Mul", ["mm", "beta"], ["y"], name="beta_mul")]
    model = make_model(nodes, {"x": [2, 3, size, size]}, ["y"], constants, opset=13)
    _assert_fused_and_exact(model, run_graph, binary_layers=1)


@pytest.mark.parametrize("spelling", ["reduce_mean", "reduce_l1_div"])
def test_per_sample_beta_on_a_binary_conv(spelling, run_graph):
    """``conv(sign(x), sign(W)*alpha) * mean(|x|, dims=(1, 2, 3))``: a scalar β per sample."""
    rng = np.random.default_rng(RNG_SEED)
    shape = [2, 5, 7, 6]
    count = 5 * 7 * 6
    constants = {"w": binary_weight(rng, (8, 5, 3, 3)),
                 **_abs_mean_constants("beta", [1, 2, 3], count)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             *_abs_mean("x", "beta", spelling, [1, 2, 3], count),
             helper.make_node("Conv", ["s", "w"], ["c"], name="conv", kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Mul", ["c", "beta"], ["y"], name="beta_mul")]
    model = make_model(nodes, {"x": shape}, ["y"], constants, opset=13)
    _assert_fused_and_exact(model, run_graph, binary_layers=1)
    scaling = [n.attrs.get("scaling") for n in convert(model).graph.nodes if n.op == "BinaryConv2d"]
    assert scaling == ["sample"]


@pytest.mark.parametrize("with_beta", [False, True], ids=["plain", "beta"])
def test_binary_matmul_on_tokens(with_beta, run_graph):
    """``sign(x) @ W`` with x of shape [batch, tokens, features] (binary MLP mixers, binarized
    transformers): the leading axes are rows; the batch stays dynamic. x is a graph input, so
    the exact ternary form runs, with β from the same BinarizePack."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": binary_weight(rng, (OUT, FEATURES)).T.copy(),
                 "b": rng.standard_normal(OUT).astype(np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),  # a graph input: ternary
             helper.make_node("MatMul", ["s", "w"], ["mm"], name="fc"),
             helper.make_node("Add", ["mm", "b"], ["y0"], name="bias")]
    if with_beta:
        nodes += [*_abs_mean("x", "beta", "reduce_mean", [-1], FEATURES),
                  helper.make_node("Mul", ["y0", "beta"], ["y"], name="beta_mul")]
    else:
        nodes.append(helper.make_node("Identity", ["y0"], ["y"], name="out"))
    model = make_model(nodes, {"x": ["batch", 5, FEATURES]}, ["y"], constants, opset=13)
    result = convert(model)
    (dense,) = [n for n in result.graph.nodes if n.op == "BinaryDense"]
    assert dense.attrs["batch_axes"] == 2
    if with_beta:
        assert len(dense.inputs) > 5 and dense.inputs[5]
    for batch in (1, 3):
        feeds = random_feeds(model, batch=batch)
        assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_symbolic_token_dimension_stays_dynamic(run_graph):
    """``[batch, tokens, features]`` with both leading dims symbolic: binary linears with β and
    a bias, a mean over the tokens; runs at any token count, and get_inputs() names the dims."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": binary_weight(rng, (OUT, FEATURES)).T.copy(),
                 "w2": binary_weight(rng, (12, OUT)).T.copy(),
                 "b": rng.standard_normal(OUT).astype(np.float32)}
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("MatMul", ["s", "w"], ["mm"], name="fc"),
             *_abs_mean("x", "beta", "reduce_mean", [-1], FEATURES),
             helper.make_node("Mul", ["mm", "beta"], ["scaled"], name="beta_mul"),
             helper.make_node("Add", ["scaled", "b"], ["h"], name="bias"),
             helper.make_node("Sign", ["h"], ["s2"], name="sign2"),
             helper.make_node("MatMul", ["s2", "w2"], ["t"], name="fc2"),
             helper.make_node("ReduceMean", ["t"], ["y"], name="mean", axes=[1], keepdims=0)]
    model = make_model(nodes, {"x": ["batch", "tokens", FEATURES]}, ["y"], constants, opset=13)
    result = convert(model)
    assert result.report.layer_counts()["binary"] == 2
    assert result.graph.inputs[0].shape == [-1, -1, FEATURES]
    session = InferenceSession(model_file.dumps(result.graph))
    assert session.get_inputs()[0].shape == ["batch", "tokens", FEATURES]
    for batch, tokens in ((1, 1), (2, 5), (3, 9)):
        feeds = {"x": np.random.default_rng(tokens).standard_normal(
            (batch, tokens, FEATURES)).astype(np.float32)}
        assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_a_reshape_that_merges_a_symbolic_dimension_is_refused():
    """``x.view(-1, F)`` then back to ``[B, T, F]`` from Shape ops: the engine can copy one
    dynamic dim or infer one, not rebuild two, so convert says so instead of guessing."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"], name="shape"),
             helper.make_node("Reshape", ["x", "flat_shape"], ["flat"], name="flatten"),
             helper.make_node("Relu", ["flat"], ["r"], name="relu"),
             helper.make_node("Reshape", ["r", "shape"], ["y"], name="unflatten")]
    model = make_model(nodes, {"x": ["batch", "tokens", 6]}, ["y"],
                       {"flat_shape": np.array([-1, 6], np.int64)})
    with pytest.raises(ConversionError, match="unflatten.*regroups a symbolic input dimension"):
        convert(model)


def test_float_matmul_on_rank_4(run_graph):
    """A float Dense on a rank-4 activation multiplies its last axis."""
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": rng.standard_normal((6, 9)).astype(np.float32)}
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")]
    model = make_model(nodes, {"x": [2, 3, 4, 6]}, ["y"], constants)
    result = convert(model)
    assert [n.op for n in result.graph.nodes] == ["Dense"]
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


@pytest.mark.parametrize("binarized", [False, True], ids=["float", "binary"])
def test_gemm_with_trans_a(binarized, run_graph):
    rng = np.random.default_rng(RNG_SEED)
    constants = {"w": binary_weight(rng, (OUT, FEATURES)).T.copy(),
                 "b": rng.standard_normal(OUT).astype(np.float32),
                 "shift": np.array(0.125, np.float32)}
    nodes = [helper.make_node("Add", ["x", "shift"], ["xs"], name="shift"),
             helper.make_node("Sign" if binarized else "Relu", ["xs"], ["a"], name="act"),
             helper.make_node("Gemm", ["a", "w", "b"], ["y"], name="fc", transA=1)]
    model = make_model(nodes, {"x": [FEATURES, 4]}, ["y"], constants)
    result = convert(model)
    assert result.report.layer_counts()["binary"] == int(binarized)
    feeds = random_feeds(model)
    assert_close(run_graph(result.graph, feeds), onnxruntime_outputs(model, feeds))


def test_a_graph_the_engine_refuses_fails_at_convert(tmp_path):
    """A 17x17 binary conv is over the engine's 256-tap limit: convert names the ONNX node and
    writes no file, instead of writing one that fails to load."""
    rng = np.random.default_rng(RNG_SEED)
    nodes = [helper.make_node("Sign", ["x"], ["s"], name="sign"),
             helper.make_node("Conv", ["s", "w"], ["y"], name="huge_conv",
                              kernel_shape=[17, 17])]
    model = make_model(nodes, {"x": [1, 2, 20, 20]}, ["y"],
                       {"w": binary_weight(rng, (3, 2, 17, 17))})
    path = tmp_path / "model.xnor"
    with pytest.raises(ConversionError, match=r"node 'huge_conv' \(Conv, opset 17\).*256 taps"):
        convert(model, path)
    assert not path.exists()


def test_verify_records_the_agreement():
    rng = np.random.default_rng(RNG_SEED)
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Sign", ["r"], ["s"], name="sign"),
             helper.make_node("Conv", ["s", "w"], ["y"], name="conv", kernel_shape=[3, 3])]
    model = make_model(nodes, {"x": [2, 4, 6, 6]}, ["y"], {"w": binary_weight(rng, (5, 4, 3, 3))})
    assert convert(model).verification is None
    assert convert(model, verify=True).verification.ok
    assert not convert(model, verify=True, sign_zero="plus_one").verification.ok
