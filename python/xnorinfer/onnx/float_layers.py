"""The opt-in bf16 float layers: ``convert(..., float_layers="bf16")``.

Besides the first layer (``first_layer``), a binarized network keeps a few float layers: 1x1
shortcut convs, a classifier. At batch 1 a classifier reads all its weights from memory on every
run (XNOR-Net AlexNet's last layer: 16 MB in fp32, about a sixth of the network's time). Marked
``precision="bf16"`` (docs/ir.md), the engine rounds a float Conv2d's or Dense's inputs and
weights to bf16 and sums in float32 (AVX-512 BF16 where the CPU has it): half the bytes to read
and twice the multiply-adds per instruction of fp32, as OpenVINO does by default on such CPUs.
Not exact, so the conversion measures what it costs, against the fp32 model.
"""

from __future__ import annotations

from xnorinfer import ir
from xnorinfer.onnx.first_layer import first_convs, mark_reduced

FLOAT_LAYER_PRECISIONS = ("fp32", "bf16")


def check_float_layers(float_layers: str) -> None:
    if float_layers not in FLOAT_LAYER_PRECISIONS:
        raise ValueError(f"float_layers must be one of {', '.join(FLOAT_LAYER_PRECISIONS)}, "
                         f"got {float_layers!r}")


def mark_float_layers(graph: ir.Graph, float_layers: str, exact: bytes) -> list[str]:
    """Sets ``precision`` on every float Dense and every float Conv2d but the first layers
    (``first_layer`` decides theirs); returns notes for the report, with the cost of the
    converted model (every reduced layer) measured against ``exact``, the fp32 model file
    (unused for "fp32")."""
    if float_layers == "fp32":
        return []
    first = {id(conv) for conv in first_convs(graph)}
    nodes = [node for node in graph.nodes
             if node.op == "Dense" or (node.op == "Conv2d" and id(node) not in first)]
    return mark_reduced(graph, nodes, float_layers, "float layers",
                        f"float_layers={float_layers!r}: the model has no other float conv or "
                        "dense layer, nothing runs in bf16", exact, "the whole model against fp32")
