"""NCHW at a network's edges (docs/ir.md): BinarizePack's ``input_layout = "nchw"`` and the
``output_layout = "nchw"`` of BinaryConv2d, Conv2d and BwnConv2d give exactly what a Transpose
and the NHWC op give, on every ISA and thread count (run_everywhere), for awkward channel counts
and image sizes."""

from __future__ import annotations

import numpy as np
import pytest

from engine_runs import ISAS, add_bits_probe, random_activations, run_everywhere
from xnorinfer import _core
from xnorinfer.bitpack import pack_bits

# (N, C, spatial...), pack output, with offset, with scale and bias
PACK_CASES = [
    ((1, 64, 56, 56), "ternary", False, False),  # a one-layer model's input: blocks of 64 pixels
    ((2, 3, 5, 7), "bits", True, False),         # partial transpose tiles only
    ((1, 130, 9, 9), "bits", False, True),       # 81 pixels, a word and a tail of channels
    ((3, 17, 1, 1), "ternary", True, True),      # one pixel per image
    ((2, 512, 4, 5), "ternary", False, False),   # blocks of 16 pixels (16 KiB of floats)
    ((1, 1, 33, 2), "bits", False, False),       # one plane
    ((2, 20, 37), "bits", True, False),          # rank 3: [N, C, L]
]


def pack_graph(shape, output: str, offset, affine, nchw: bool) -> _core.Graph:
    """x -> BinarizePack (reading NCHW itself, or behind a Transpose) -> a BinaryDense probe
    whose float output decodes the bits (and the ternary mask); outputs the probe and abs_mean."""
    c, rank = shape[1], len(shape)
    g = _core.Graph()
    g.add_input("x", [-1, *shape[1:]])
    pack_inputs = ["x"]
    if not nchw:
        g.add_node("to_nhwc", "Transpose", ["x"], ["x_nhwc"],
                   {"perm": [0, *range(2, rank), 1]})
        pack_inputs = ["x_nhwc"]
    for name, values in (("offset", offset), *(affine or ())):
        if values is not None:
            g.add_constant(name, values)
    pack_inputs += ["offset" if offset is not None else "", *(["scale", "bias"] if affine else [])]
    attrs = {"output": output, **({"input_layout": "nchw"} if nchw else {})}
    g.add_node("pack", "BinarizePack", pack_inputs, ["xb", "amean"], attrs)
    add_bits_probe(g, "xb", c, "p", spatial=False, batch_axes=rank - 1)
    g.add_output("p")
    g.add_output("amean")
    return g


@pytest.mark.parametrize("case", PACK_CASES, ids=lambda c: "x".join(map(str, c[0])) + f"-{c[1]}")
def test_binarize_pack_reads_nchw_as_its_transpose(case):
    shape, output, with_offset, with_affine = case
    rng = np.random.default_rng(sum(shape))
    c = shape[1]
    x = random_activations(rng, shape, zeros=0.1)
    x.reshape(-1)[:2] = [np.nan, np.inf]
    offset = rng.normal(0, 0.5, c).astype(np.float32) if with_offset else None
    affine = ((("scale", rng.normal(0, 1, c).astype(np.float32)),
               ("bias", rng.normal(0, 0.5, c).astype(np.float32))) if with_affine else None)
    want = run_everywhere(pack_graph(shape, output, offset, affine, nchw=False), [x])
    got = run_everywhere(pack_graph(shape, output, offset, affine, nchw=True), [x])
    assert got[0].shape == (shape[0], *shape[2:], c + 1)
    for g_out, w_out in zip(got, want):
        np.testing.assert_array_equal(g_out.view(np.uint32), w_out.view(np.uint32))


def test_binarize_pack_nchw_reads_the_callers_unaligned_array():
    """The NCHW pack reads exactly its input: a graph input at a 4-byte offset is read in place
    (ASan in CI catches an over-read), with the same result as an aligned copy."""
    shape = (1, 70, 6, 5)
    x = random_activations(np.random.default_rng(5), shape)
    storage = np.empty(x.size + 1, np.float32)
    unaligned = storage[1:].reshape(shape)
    unaligned[...] = x
    graph = pack_graph(shape, "ternary", None, None, nchw=True)
    for isa in ISAS:
        session = _core.Session(graph, 1, isa)
        for got, want in zip(session.run([unaligned]), session.run([x.copy()])):
            np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


# (N, H, W, C in, O, kernel, stride, pads, group, pad_value, pack output)
CONV_CASES = [
    (1, 56, 56, 64, 64, 3, 1, (1, 1, 1, 1), 1, 0, "ternary"),  # a one-layer model's layer
    (2, 7, 7, 512, 512, 3, 1, (1, 1, 1, 1), 1, 0, "bits"),     # channel chunks on threads
    (1, 28, 28, 128, 256, 3, 2, (1, 1, 1, 1), 1, 0, "bits"),   # stride 2, rows split
    (2, 9, 11, 65, 70, 3, 1, (1, 0, 2, 1), 1, 1, "bits"),      # ±1 padding: the counts path
    (1, 6, 5, 64, 6, 3, 1, (1, 1, 1, 1), 2, 0, "bits"),        # groups: the counts path
    (3, 1, 1, 17, 5, 1, 1, (0, 0, 0, 0), 1, 0, "ternary"),     # one pixel, partial tiles
    (1, 20, 3, 33, 129, 5, 2, (2, 2, 2, 2), 1, -1, "bits"),    # a word and a tail of outputs
]


def conv_graph(case, nchw: bool) -> _core.Graph:
    n, h, w, c, o, k, stride, pads, group, pad_value, output = case
    rng = np.random.default_rng(h * 100 + o)
    g = _core.Graph()
    g.add_input("x", [-1, h, w, c])
    g.add_constant("w", pack_bits(rng.random((o, k, k, c // group)) < 0.5))
    g.add_constant("scale", rng.uniform(0.5, 1.5, o).astype(np.float32))
    g.add_constant("bias", rng.normal(0, 0.5, o).astype(np.float32))
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {"output": output})
    attrs = {"kernel_shape": [k, k], "strides": [stride, stride], "pads": list(pads),
             "group": group, "in_channels": c, "pad_value": pad_value, "output": "float",
             "activation": "relu"}
    if nchw:
        attrs["output_layout"] = "nchw"
    g.add_node("conv", "BinaryConv2d", ["xb", "w", "scale", "bias"], ["y"], attrs)
    g.add_output("y")
    return g


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[1]}x{c[2]}x{c[3]}-o{c[4]}-s{c[6]}")
def test_binary_conv2d_writes_nchw_as_its_transpose(case):
    n, h, w, c = case[:4]
    x = random_activations(np.random.default_rng(c), (n, h, w, c), zeros=0.1)
    [want] = run_everywhere(conv_graph(case, nchw=False), [x])
    [got] = run_everywhere(conv_graph(case, nchw=True), [x])
    np.testing.assert_array_equal(got, np.ascontiguousarray(want.transpose(0, 3, 1, 2)))


# (op, N, H, W, C in, O, kernel, stride, pads, group, precision, input NCHW, fused 3x3/2 pool)
FLOAT_CONV_CASES = [
    ("Conv2d", 1, 30, 26, 3, 64, 7, 2, (3, 3, 3, 3), 1, "float32", True, True),  # a stem alone
    ("Conv2d", 2, 30, 26, 3, 64, 7, 2, (3, 3, 3, 3), 1, "float32", True, False),
    ("Conv2d", 1, 19, 23, 3, 96, 11, 4, (2, 2, 2, 2), 1, "float32", False, True),  # 48-wide blocks
    ("Conv2d", 2, 9, 11, 17, 70, 3, 1, (1, 0, 2, 1), 1, "float32", False, False),  # im2col GEMM
    ("Conv2d", 1, 6, 5, 8, 6, 3, 1, (1, 1, 1, 1), 2, "float32", False, False),  # groups
    ("Conv2d", 3, 7, 7, 33, 20, 1, 1, (0, 0, 0, 0), 1, "float32", False, False),  # 1x1: no copy
    ("Conv2d", 2, 23, 19, 3, 70, 5, 2, (2, 2, 2, 2), 1, "int8", False, True),
    ("Conv2d", 1, 13, 17, 3, 40, 5, 1, (2, 2, 2, 2), 1, "bf16", False, False),
    ("BwnConv2d", 2, 12, 10, 9, 33, 3, 1, (1, 1, 1, 1), 1, "float32", False, True),
]


def float_conv_graph(case, nchw_out: bool) -> _core.Graph:
    op, n, h, w, c, o, k, stride, pads, group, precision, nchw_in, pool = case
    rng = np.random.default_rng(h * 100 + o)
    g = _core.Graph()
    g.add_input("x", [-1, c, h, w] if nchw_in else [-1, h, w, c])
    attrs = {"kernel_shape": [k, k], "strides": [stride, stride], "pads": list(pads),
             "group": group, "activation": "relu"}
    if op == "BwnConv2d":
        g.add_constant("w", pack_bits(rng.random((o, k, k, c // group)) < 0.5))
        g.add_constant("scale", rng.uniform(0.5, 1.5, o).astype(np.float32))
        inputs = ["x", "w", "scale", "bias"]
        attrs["in_channels"] = c
    else:
        g.add_constant("w", rng.standard_normal((o, k, k, c // group)).astype(np.float32))
        inputs = ["x", "w", "bias"]
        attrs["precision"] = precision
    g.add_constant("bias", rng.normal(0, 0.5, o).astype(np.float32))
    if nchw_in:
        attrs["input_layout"] = "nchw"
    if pool:
        attrs.update({"pool_kernel_shape": [3, 3], "pool_strides": [2, 2],
                      "pool_pads": [1, 1, 1, 1]})
    if nchw_out:
        attrs["output_layout"] = "nchw"
    g.add_node("conv", op, inputs, ["y"], attrs)
    g.add_output("y")
    return g


@pytest.mark.parametrize("case", FLOAT_CONV_CASES,
                         ids=lambda c: f"{c[0]}-{c[2]}x{c[3]}x{c[4]}-o{c[5]}-k{c[6]}-{c[10]}"
                                       + ("-pool" if c[12] else ""))
def test_float_conv2d_writes_nchw_as_its_transpose(case):
    op, n, h, w, c = case[:5]
    shape = (n, c, h, w) if case[11] else (n, h, w, c)
    x = np.random.default_rng(c + h).standard_normal(shape).astype(np.float32)
    [want] = run_everywhere(float_conv_graph(case, nchw_out=False), [x])
    [got] = run_everywhere(float_conv_graph(case, nchw_out=True), [x])
    np.testing.assert_array_equal(got.view(np.uint32),
                                  np.ascontiguousarray(want.transpose(0, 3, 1, 2)).view(np.uint32))


@pytest.mark.parametrize("op,attrs,extra,message", [
    ("BinarizePack", {"input_layout": "nhcw"}, None, "input_layout must be 'nhwc' or 'nchw'"),
    ("BinaryConv2d", {"output_layout": "chw"}, None, "output_layout must be 'nhwc' or 'nchw'"),
    ("Conv2d", {"output_layout": "NCHW"}, None, "output_layout must be 'nhwc' or 'nchw'"),
    ("BinaryConv2d", {"output_layout": "nchw", "output": "bits"}, "out_offset",
     "output_layout 'nchw' needs a float output with no residual and no y_bits"),
    ("BinaryConv2d", {"output_layout": "nchw"}, "residual",
     "output_layout 'nchw' needs a float output with no residual and no y_bits"),
])
def test_layouts_are_checked(op, attrs, extra, message):
    g = _core.Graph()
    g.add_input("x", [1, 4, 4, 8])
    inputs = ["x"]
    if op == "BinaryConv2d":
        g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
        g.add_constant("w", pack_bits(np.zeros((2, 1, 1, 8), bool)))
        g.add_constant("s", np.ones(2, np.float32))
        inputs = ["xb", "w", "s", "s"]
        if extra == "out_offset":
            inputs.append("s")
        elif extra == "residual":
            g.add_input("r", [1, 4, 4, 2])
            inputs += ["", "", "", "", "r"]
        attrs = {"kernel_shape": [1, 1], "in_channels": 8, "output": "float", **attrs}
    elif op == "Conv2d":
        g.add_constant("w", np.ones((2, 1, 1, 8), np.float32))
        inputs = ["x", "w"]
        attrs = {"kernel_shape": [1, 1], **attrs}
    g.add_node("node", op, inputs, ["y"], attrs)
    g.add_output("y")
    with pytest.raises(_core.InvalidModel, match=f"node 'node'.*{message}"):
        _core.Session(g, 1, "scalar")


def test_binarize_pack_nchw_needs_rank_3():
    g = _core.Graph()
    g.add_input("x", [2, 8])
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {"input_layout": "nchw"})
    g.add_constant("w", pack_bits(np.zeros((1, 1, 8), bool)))
    g.add_constant("s", np.ones(1, np.float32))
    g.add_node("d", "BinaryDense", ["xb", "w", "s", "s"], ["y"], {"in_channels": 8, "output": "float"})
    g.add_output("y")
    session = _core.Session(g, 1, "scalar")
    with pytest.raises(_core.InvalidModel, match="node 'pack'.*rank 3 or more, got rank 2"):
        session.run([np.zeros((2, 8), np.float32)])
