"""Helpers shared by the op tests: run a graph on every kernel path, test activations, and read
packed bits back through a probe layer."""

from __future__ import annotations

import numpy as np

from xnorinfer import _core
from xnorinfer.bitpack import pack_bits, packed_words

ISAS = _core.available_isas()
THREADS = (1, 3)


def run_everywhere(graph: _core.Graph, feeds: list[np.ndarray]) -> list[np.ndarray]:
    """Runs the graph on every available ISA at 1 and 3 threads, asserts the outputs are
    bit-identical, and returns them."""
    feeds = [np.ascontiguousarray(f, dtype=np.float32) for f in feeds]
    baseline = None
    for isa in ISAS:
        for threads in THREADS:
            outputs = _core.Session(graph, threads, isa).run(feeds)
            if baseline is None:
                baseline, base_key = outputs, (isa, threads)
                continue
            for i, (out, base) in enumerate(zip(outputs, baseline)):
                assert out.shape == base.shape
                np.testing.assert_array_equal(
                    out.view(np.uint32), base.view(np.uint32),
                    err_msg=f"output {i}: {isa} x{threads} differs from {base_key[0]} x{base_key[1]}")
    return baseline


def random_activations(rng: np.random.Generator, shape, zeros: float = 0.04) -> np.ndarray:
    """Normal floats with a fraction `zeros` each of exact +0.0 and -0.0 (both binarize to +1)."""
    x = rng.standard_normal(shape).astype(np.float32)
    u = rng.random(shape)
    x[u < zeros] = 0.0
    x[(u >= zeros) & (u < 2 * zeros)] = -0.0
    return x


def add_bits_probe(g: _core.Graph, bits_name: str, channels: int, out_name: str, spatial: bool,
                   batch_axes: int = 1):
    """Adds a binary op reading `bits_name` ([..., channels] bits) whose float output decodes
    the bits: output o < channels has weights +1 except -1 at channel o, output `channels` is all
    +1. With a_c = ±1, a_o = (out[channels] - out[o]) / 2. `spatial`: a 1x1 BinaryConv2d (an
    NHWC input), else a BinaryDense whose rows are the first `batch_axes` axes."""
    words = packed_words(channels)
    negative = np.zeros((channels + 1, channels), bool)
    negative[np.arange(channels), np.arange(channels)] = True
    packed = pack_bits(negative)  # [channels + 1, words]
    g.add_constant(out_name + ".scale", np.ones(channels + 1, np.float32))
    g.add_constant(out_name + ".bias", np.zeros(channels + 1, np.float32))
    inputs = [bits_name, out_name + ".w", out_name + ".scale", out_name + ".bias"]
    if spatial:
        g.add_constant(out_name + ".w", packed.reshape(channels + 1, 1, 1, words))
        g.add_node(out_name + ".probe", "BinaryConv2d", inputs, [out_name],
                   {"kernel_shape": [1, 1], "group": 1, "in_channels": channels, "pad_value": 0,
                    "output": "float"})
    else:
        g.add_constant(out_name + ".w", packed.reshape(channels + 1, 1, words))
        g.add_node(out_name + ".probe", "BinaryDense", inputs, [out_name],
                   {"in_channels": channels, "groups_in": 1, "batch_axes": batch_axes,
                    "output": "float"})
