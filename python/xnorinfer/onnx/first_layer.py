"""The opt-in reduced-precision first layer: ``convert(..., first_layer="int8" | "bf16")``.

A binarized network keeps its first conv in float (binarizing an RGB image loses too much), and
that conv then costs about as much as all the binary layers together. Marked
``precision="int8"`` (docs/ir.md), the engine runs it with per-image uint8 activations and
per-channel int8 weights through AVX-512 VNNI (x86-64) or the dot-product instructions
(aarch64); marked ``precision="bf16"``, with bf16
activations and weights summed in float32 through AVX-512 BF16. Neither is exact, so the
conversion measures what it costs, against the same graph with the fp32 first layer.
"""

from __future__ import annotations

import numpy as np

from xnorinfer import ir, model_file
from xnorinfer.build import build_info
from xnorinfer.session import InferenceSession

FIRST_LAYER_PRECISIONS = ("fp32", "int8", "bf16")
FORMATS = {"int8": "per-image uint8 activations, per-channel int8 weights",
           "bf16": "bf16 inputs and weights, float32 sums"}
# Per precision: the build_info() key naming the kernel that runs it here, and the kernels that
# make it fast (their name suffix -> the instructions they need).
FAST_KERNELS = {"int8": ("int8_kernel", {"avx512vnni": "AVX-512 VNNI", "amx": "AMX-INT8",
                                         "neondot": "Arm dot-product (SDOT)"}),
                "bf16": ("bf16_kernel", {"avx512bf16": "AVX-512 BF16"})}
LAYOUT_OPS = ("Transpose", "Reshape")
COST_SEED = 0
COST_IMAGES = 8  # random inputs the cost is measured on (the batch, where it is dynamic)


def check_first_layer(first_layer: str) -> None:
    if first_layer not in FIRST_LAYER_PRECISIONS:
        raise ValueError(f"first_layer must be one of {', '.join(FIRST_LAYER_PRECISIONS)}, "
                         f"got {first_layer!r}")


def mark_first_layers(graph: ir.Graph, first_layer: str, exact: bytes) -> list[str]:
    """Sets ``precision`` on each float Conv2d that reads a graph input (through layout ops
    only) and the reduced kernels can take (one group, no horizontal dilation); returns notes
    for the report, with the cost measured against ``exact``, the model file of the graph
    before (unused for "fp32")."""
    if first_layer == "fp32":
        return []
    return mark_reduced(graph, first_convs(graph), first_layer, "first layer",
                        f"first_layer={first_layer!r}: no float Conv2d reads a graph input, "
                        "nothing runs in reduced precision", exact, "against the fp32 first layer")


def mark_reduced(graph: ir.Graph, nodes: list[ir.Node], precision: str, subject: str,
                 nothing: str, exact: bytes, against: str) -> list[str]:
    """Sets ``precision`` on each of ``nodes`` the reduced kernels take; returns the report's
    notes: the ``subject`` left fp32, then ``nothing`` when none is marked, else what runs the
    marked ones and the cost measured against ``exact`` (what ``against`` names)."""
    marked, refused = [], []
    for node in nodes:
        if node.op == "Conv2d" and not reduced_kernels_take(node):
            refused.append(node.attrs.get("source", node.name))
            continue
        node.attrs["precision"] = precision
        marked.append(node)
    notes = []
    if refused:
        notes.append(f"{subject} {', '.join(refused)}: fp32, the {precision} kernels need one "
                     "group and no horizontal dilation")
    if not marked:
        return notes + [nothing]
    names = ", ".join(node.attrs.get("source", node.name) for node in marked)
    return notes + [f"{subject} {names}: {precision} ({FORMATS[precision]}), "
                    f"{_kernel_note(precision)}; {_measured_cost(graph, exact, against)}"]


def first_convs(graph: ir.Graph) -> list[ir.Node]:
    """The float Conv2d nodes that read a graph input (through layout ops only)."""
    consumers = graph.consumers_of()
    return [conv for value in graph.inputs for conv in _convs_reading(value.name, consumers)]


def reduced_kernels_take(conv: ir.Node) -> bool:
    """Whether the int8 and bf16 conv kernels take this Conv2d: one group, no horizontal
    dilation."""
    return conv.attrs.get("group", 1) == 1 and conv.attrs.get("dilations", [1, 1])[1] == 1


def _convs_reading(value: str, consumers: dict[str, list[ir.Node]]) -> list[ir.Node]:
    found = []
    for node in consumers.get(value, []):
        if node.op in LAYOUT_OPS:
            found += _convs_reading(node.outputs[0], consumers)
        elif node.op == "Conv2d":
            found.append(node)
    return found


def _kernel_note(precision: str) -> str:
    """Which kernel runs ``precision`` on this CPU, for the report."""
    key, fast = FAST_KERNELS[precision]
    kernel = build_info()[key]
    if kernel in fast:
        return f"through the {fast[kernel]} kernel on this CPU"
    return (f"through the portable kernel on this CPU (no {' or '.join(fast.values())} here: "
            "slower than fp32, "
            "same results)")


def _measured_cost(graph: ir.Graph, exact_model: bytes, against: str) -> str:
    """Max |difference| of every output of ``graph`` against ``exact_model`` (what ``against``
    names), on seeded N(0,1) inputs."""
    reduced = InferenceSession(model_file.dumps(graph), num_threads=1)
    exact = InferenceSession(exact_model, num_threads=1)
    rng = np.random.default_rng(COST_SEED)
    feed = {arg.name: rng.standard_normal(
        [d if isinstance(d, int) and d > 0 else (COST_IMAGES if axis == 0 else 1)
         for axis, d in enumerate(arg.shape)], dtype=np.float32)
        for arg in reduced.get_inputs()}
    parts = []
    for arg, got, want in zip(reduced.get_outputs(), reduced.run(None, feed),
                              exact.run(None, feed)):
        diff = float(np.abs(got.astype(np.float64) - want).max(initial=0))
        scale = float(np.abs(want).max(initial=0)) or 1.0
        text = f"'{arg.name}' max |difference| {diff:.3g} ({diff / scale:.2%} of max |output|)"
        if want.ndim == 2:
            agree = int(np.sum(got.argmax(axis=1) == want.argmax(axis=1)))
            text += f", argmax agrees on {agree}/{want.shape[0]}"
        parts.append(text)
    batch = next(iter(feed.values())).shape[0]
    return (f"{against} on {batch} seeded N(0,1) inputs: "
            + "; ".join(parts))
