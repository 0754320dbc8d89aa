"""MaxPool on packed bits: the AND of the window's words equals binarizing the float MaxPool
(binarizing is monotone), on every ISA and thread count."""

import numpy as np
import pytest

from reference import numpy_ops
from xnorinfer import _core
from xnorinfer.bitpack import pack_bits


def probe_graph(shape, pool_attrs, packed: bool) -> _core.Graph:
    """x -> (pack -> MaxPool on bits) or (MaxPool on floats -> pack) -> 1x1 probe conv whose
    output j < C is the dot with "-1 at channel j only" and output C the plain sum, so each
    pooled bit can be read back exactly: value_j = (out[C] - out[j]) / 2."""
    c = shape[-1]
    g = _core.Graph()
    g.add_input("x", list(shape))
    if packed:
        g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
        g.add_node("pool", "MaxPool", ["xb"], ["pb"], pool_attrs)
    else:
        g.add_node("pool", "MaxPool", ["x"], ["pf"], pool_attrs)
        g.add_node("pack", "BinarizePack", ["pf"], ["pb"], {})
    negative = np.zeros((c + 1, 1, 1, c), bool)
    negative[np.arange(c), 0, 0, np.arange(c)] = True
    g.add_constant("w", pack_bits(negative))
    g.add_constant("s", np.ones(c + 1, np.float32))
    g.add_constant("b", np.zeros(c + 1, np.float32))
    g.add_node("probe", "BinaryConv2d", ["pb", "w", "s", "b"], ["y"],
               {"kernel_shape": [1, 1], "in_channels": c, "output": "float"})
    g.add_output("y")
    return g


@pytest.mark.parametrize("c", [1, 3, 64, 70, 130])
@pytest.mark.parametrize("attrs", [
    {"kernel_shape": [2, 2], "strides": [2, 2]},
    {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
    {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [0, 1, 2, 1], "dilations": [1, 2]},
    {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1},
], ids=["2x2s2", "3x3s2p1", "asym-dilated", "ceil"])
def test_packed_max_pool_equals_binarized_float_max_pool(c, attrs):
    rng = np.random.default_rng(c)
    x = rng.standard_normal((2, 9, 8, c)).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = 0.0
    results = []
    for isa in _core.available_isas():
        for threads in (1, 3):
            packed = _core.Session(probe_graph(x.shape, attrs, True), threads, isa).run([x])[0]
            results.append(packed)
    reference = _core.Session(probe_graph(x.shape, attrs, False), 1, "scalar").run([x])[0]
    values = (reference[..., -1:] - reference[..., :-1]) / 2
    expected_pool = numpy_ops.sign_binarize(numpy_ops.max_pool_nhwc(
        x, attrs["kernel_shape"], attrs["strides"], attrs.get("dilations", (1, 1)),
        attrs.get("pads", (0, 0, 0, 0)), bool(attrs.get("ceil_mode", 0))))
    np.testing.assert_array_equal(values, expected_pool)
    for r in results:
        np.testing.assert_array_equal(r, reference)


def test_average_pool_refuses_bits():
    g = _core.Graph()
    g.add_input("x", [1, 4, 4, 8])
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    g.add_node("pool", "AveragePool", ["xb"], ["y"], {"kernel_shape": [2, 2]})
    g.add_output("y")
    with pytest.raises(_core.InvalidModel, match="AveragePool.*must be float32"):
        _core.Session(g, 1, "scalar").output_shapes([[1, 4, 4, 8]])
