"""Fusion passes on the engine graph, after lowering.

- :func:`fold_affine`: a per-channel affine (ChannelAffine from a BatchNorm, or Mul/Add/Sub/Div
  by a per-channel constant) directly after a layer folds into it: into scale/bias of
  binary and BWN layers (post_scale/post_bias once a K map is fused), into the weights and bias
  of float Conv2d/Dense.
- :func:`fuse_kmap`: XNOR-Net's ``Mul(BinaryConv2d(x), Conv2d(A, box))`` with A the
  ``abs_mean`` of the BinarizePack feeding the binary conv becomes the conv's K map.
- :func:`fuse_beta`: XNOR-Net's β, ``Mul(binary layer, mean |x|)`` with x the layer's own input
  (per sample for a conv, per row for a dense layer), becomes the layer's ``kmap_src`` /
  ``beta_src`` input: the BinarizePack's ``abs_mean``, averaged by the layer itself.
- :func:`fuse_pack_affine`: a ChannelAffine that no layer before it could take (a BatchNorm
  after a relu or a pool, before a Sign) and whose output only BinarizePacks read moves into
  them (their ``scale``/``bias``), so its float tensor is never written.
- :func:`fuse_bits_output`: a binary layer whose float output only feeds BinarizePacks with one
  offset writes bits through ``out_offset`` instead (not ternary packs: a threshold makes no 0).
- :func:`fuse_residual`: ``Add(BinaryConv2d(x), shortcut)`` (a real-valued shortcut, Bi-Real
  and ReActNet style) becomes the conv's ``residual`` input, added in the conv's own pass.
- :func:`fuse_activation`: a Relu, Clip (HardTanh) or PRelu with a constant slope directly
  after a conv or dense layer's float output runs in the layer's epilogue.
- :func:`fuse_sum_bits`: a binary conv whose float output also feeds BinarizePacks writes their
  bits as its second output (``sum_offset``), so the sum is binarized while it is still hot.
- :func:`fuse_max_pool`: a float MaxPool directly after a float or BWN conv (the stem's) runs in
  the conv's pass (``pool_*`` attributes), after its activation: the conv's output is never
  written out and read back.
- :func:`fuse_nchw_pack`: a BinarizePack behind an NCHW -> NHWC Transpose (a binary layer on
  the network's input) reads the NCHW tensor itself (``input_layout = "nchw"``).
- :func:`fuse_nchw_output`: a BinaryConv2d, Conv2d or BwnConv2d whose float output only an
  NHWC -> NCHW Transpose reads (a layer that ends the network, a stem alone) writes NCHW itself
  (``output_layout = "nchw"``).
- :func:`remove_dead_nodes`: drops what no graph output needs.
- :func:`fuse_nchw_input` (run by the converter after layers get their precision): a float
  Conv2d of an image of at most 4 channels, behind an NCHW -> NHWC Transpose, reads the NCHW
  image itself (``input_layout = "nchw"``): its padded copy interleaves the planes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from xnorinfer import ir
from xnorinfer.onnx.layout import channel_vector

SCALED_LAYERS = ("BinaryConv2d", "BinaryDense", "BwnConv2d", "BwnDense")
# The binary layers' K map / β input, whose post_scale and post_bias an affine fold composes into.
_SCALING_SOURCE = {"BinaryConv2d": "kmap_src", "BinaryDense": "beta_src"}
FLOAT_LAYERS = ("Conv2d", "Dense")
KeepFloat = Callable[[str, str], None]  # (ONNX node name, reason)


def run_fusions(graph: ir.Graph, keep_float: KeepFloat) -> None:
    """All passes, to a fixed point; binary layers write bits once nothing else can fuse."""
    remove_dead_nodes(graph)
    rejected_kmaps: set[str] = set()
    while (fold_affine(graph) or fuse_kmap(graph, keep_float, rejected_kmaps)
           or fuse_beta(graph)):
        pass
    while fuse_pack_affine(graph):
        pass
    while fuse_bits_output(graph):
        pass
    while fuse_residual(graph):
        pass
    while fuse_activation(graph):
        pass
    while fuse_max_pool(graph):  # after the activations: a pooled conv takes no more
        pass
    while fuse_sum_bits(graph):
        pass
    while fuse_nchw_pack(graph) or fuse_nchw_output(graph):
        pass
    remove_dead_nodes(graph)


def fold_affine(graph: ir.Graph) -> bool:
    """Fold one per-channel affine into the layer before it; True when something changed."""
    consumers = graph.consumers_of()
    outputs = {v.name for v in graph.outputs}
    for layer in graph.nodes:
        if (layer.op not in SCALED_LAYERS + FLOAT_LAYERS or layer.attrs.get("output") == "bits"
                or _has_residual(layer)):
            continue
        value = layer.outputs[0]
        users = consumers.get(value, [])
        if value in outputs or len(users) != 1:
            continue
        channels = graph.values[value].shape[-1]
        affine = _per_channel_affine(graph, users[0], value, channels)
        if affine is None:
            continue
        _apply_affine(graph, layer, *affine)
        _absorb(graph, layer, users[0])
        return True
    return False


def _per_channel_affine(graph: ir.Graph, node: ir.Node, value: str, channels: int
                        ) -> tuple[np.ndarray, np.ndarray] | None:
    """``node(value)`` as ``value * scale + bias`` per channel, or None."""
    if node.op == "ChannelAffine" and node.inputs[0] == value:
        return graph.constants[node.inputs[1]], graph.constants[node.inputs[2]]
    if node.op not in ("Add", "Sub", "Mul", "Div") or value not in node.inputs:
        return None
    other = node.inputs[1] if node.inputs[0] == value else node.inputs[0]
    if other not in graph.constants or other == value:
        return None
    const = graph.constants[other]
    if const.ndim > len(graph.values[value].shape):
        return None
    vector = channel_vector(const, channels)
    if vector is None:
        return None
    ones, zeros = np.ones(channels, np.float32), np.zeros(channels, np.float32)
    value_first = node.inputs[0] == value
    if node.op == "Mul":
        return vector, zeros
    if node.op == "Add":
        return ones, vector
    if node.op == "Sub":
        return (ones, -vector) if value_first else (-ones, vector)
    return (np.float32(1) / vector, zeros) if value_first else None


def _apply_affine(graph: ir.Graph, layer: ir.Node, scale: np.ndarray, bias: np.ndarray) -> None:
    """Compose ``y * scale + bias`` into the layer's own parameters."""
    if layer.op in SCALED_LAYERS:
        source = _SCALING_SOURCE.get(layer.op)
        scaled = source is not None and layer.input(source)
        scale_slot, bias_slot = ("post_scale", "post_bias") if scaled else ("scale", "bias")
        old_scale = graph.constants[layer.input(scale_slot)]
        old_bias = graph.constants[layer.input(bias_slot)]
        _set_constant(graph, layer, scale_slot, old_scale * scale)
        _set_constant(graph, layer, bias_slot, old_bias * scale + bias)
        return
    weight = graph.constants[layer.input("weight")]
    per_row = scale.reshape((-1,) + (1,) * (weight.ndim - 1))
    _set_constant(graph, layer, "weight", weight * per_row)
    old_bias = graph.constants[layer.input("bias")] if layer.input("bias") else np.zeros_like(bias)
    _set_constant(graph, layer, "bias", old_bias * scale + bias)


def fuse_kmap(graph: ir.Graph, keep_float: KeepFloat, rejected: set[str]) -> bool:
    """Fuse one XNOR-Net K map ``Mul(binary_conv, box_conv(abs_mean))``; True when fused.

    A candidate that does not fit is reported through ``keep_float`` and its binary conv's
    name added to ``rejected``.
    """
    producers = graph.producer_of()
    consumers = graph.consumers_of()
    outputs = {v.name for v in graph.outputs}
    for mul in graph.nodes:
        if mul.op != "Mul":
            continue
        candidate = _kmap_candidate(mul, producers, consumers, outputs)
        if candidate is None or candidate[0].name in rejected:
            continue
        conv, box, pack = candidate
        mismatch = _kmap_mismatch(graph, conv, box, pack)
        if mismatch:
            keep_float(conv.attrs["source"], f"K map kept as float ops: {mismatch}")
            rejected.add(conv.name)
            continue
        value = float(graph.constants[box.inputs[1]].reshape(-1)[0])
        _set_scaling_source(graph, conv, pack.outputs[1])
        conv.attrs["kmap_kernel_value"] = value
        conv.attrs["source"] = _merge_sources(conv, box)
        _absorb(graph, conv, mul)
        return True
    return False


def _kmap_candidate(mul: ir.Node, producers: dict[str, ir.Node],
                    consumers: dict[str, list[ir.Node]], outputs: set[str]
                    ) -> tuple[ir.Node, ir.Node, ir.Node] | None:
    """(binary conv, box conv, BinarizePack) when ``mul`` multiplies a float BinaryConv2d output
    by a float conv of a BinarizePack's abs_mean."""
    for conv_value, k_value in (mul.inputs, mul.inputs[::-1]):
        conv = _scalable_layer(conv_value, ("BinaryConv2d",), producers, consumers, outputs)
        box = producers.get(k_value)
        if conv is None or box is None or box.op != "Conv2d":
            continue
        pack = producers.get(box.inputs[0])
        if pack is not None and pack.op == "BinarizePack" and pack.outputs[1:] == [box.inputs[0]]:
            return conv, box, pack
    return None


def _kmap_mismatch(graph: ir.Graph, conv: ir.Node, box: ir.Node, pack: ir.Node) -> str:
    """Why the box conv is not the K map of ``conv`` ("" when it is)."""
    if conv.inputs[0] != pack.outputs[0]:
        return "the A map is not taken from the binary conv's own input"
    weight = graph.constants[box.inputs[1]]
    if weight.shape[0] != 1 or weight.shape[-1] != 1 or not (weight == weight.flat[0]).all():
        return "the A-map conv's kernel is not one box value"
    if len(box.inputs) > 2 and box.inputs[2] and graph.constants[box.inputs[2]].any():
        return "the A-map conv has a bias"
    for key in ("kernel_shape", "strides", "dilations", "pads"):
        if list(box.attrs[key]) != list(conv.attrs[key]):
            return f"the A-map conv's {key} {box.attrs[key]} differ from {conv.attrs[key]}"
    return ""


def fuse_beta(graph: ir.Graph) -> bool:
    """Fuse one XNOR-Net β ``Mul(binary layer, mean |x|)``; True when fused."""
    producers = graph.producer_of()
    consumers = graph.consumers_of()
    outputs = {v.name for v in graph.outputs}
    for mul in graph.nodes:
        if mul.op != "Mul":
            continue
        for layer_value, beta_value in (mul.inputs, mul.inputs[::-1]):
            layer = _scalable_layer(layer_value, ("BinaryConv2d", "BinaryDense"), producers,
                                    consumers, outputs)
            if layer is None or _shape(graph, mul.outputs[0]) != _shape(graph, layer_value):
                continue
            abs_mean, averaged = _beta_source(producers, beta_value)
            pack = producers.get(abs_mean)
            # The layer averages the A map itself: over the image (conv), over its groups
            # (dense on a flattened map); a row's own mean needs no averaging.
            averages = layer.op == "BinaryConv2d" or layer.attrs.get("groups_in", 1) > 1
            if (pack is None or pack.op != "BinarizePack" or pack.outputs[1:] != [abs_mean]
                    or pack.outputs[0] != layer.inputs[0] or averaged != averages):
                continue
            _set_scaling_source(graph, layer, abs_mean)
            if layer.op == "BinaryConv2d":
                layer.attrs["scaling"] = "sample"
            _absorb(graph, layer, mul)
            return True
    return False


def _scalable_layer(value: str, ops: tuple[str, ...], producers: dict[str, ir.Node],
                    consumers: dict[str, list[ir.Node]], outputs: set[str]) -> ir.Node | None:
    """The layer (one of ``ops``) producing ``value`` when a Mul of ``value`` can become its K
    map / β: float output with no scaling or epilogue inputs yet, its one output consumed only
    by that Mul and not a graph output."""
    layer = producers.get(value)
    if (layer is None or layer.op not in ops or layer.attrs.get("output") != "float"
            or len(layer.inputs) > ir.input_slot(layer.op, "out_offset")
            or len(layer.outputs) > 1 or value in outputs
            or len(consumers.get(value, [])) != 1):
        return None
    return layer


def _set_scaling_source(graph: ir.Graph, layer: ir.Node, abs_mean: str) -> None:
    """Give a binary layer its K map / β input with an identity post_scale and post_bias,
    which later affine folds compose into."""
    channels = graph.values[layer.outputs[0]].shape[-1]
    layer.set_input(_SCALING_SOURCE[layer.op], abs_mean)
    _set_input(graph, layer, "post_scale", np.ones(channels, np.float32))
    _set_input(graph, layer, "post_bias", np.zeros(channels, np.float32))


def _beta_source(producers: dict[str, ir.Node], value: str) -> tuple[str, bool]:
    """The value behind ``value`` through Reshapes and GlobalAveragePools, and whether a
    GlobalAveragePool averaged it (β of a conv: the A map's mean over the image)."""
    averaged = False
    node = producers.get(value)
    while node is not None and node.op in ("Reshape", "GlobalAveragePool"):
        averaged = averaged or node.op == "GlobalAveragePool"
        value = node.inputs[0]
        node = producers.get(value)
    return value, averaged


def fuse_pack_affine(graph: ir.Graph) -> bool:
    """Move one ChannelAffine into the BinarizePacks that are its only readers; True when done.

    The packs compute ``x * scale + bias`` as the affine did (a multiply, then an add), so
    their bits and A maps do not change.
    """
    consumers = graph.consumers_of()
    outputs = {v.name for v in graph.outputs}
    for affine in graph.nodes:
        if affine.op != "ChannelAffine":
            continue
        value = affine.outputs[0]
        packs = consumers.get(value, [])
        if value in outputs or not packs or any(
                p.op != "BinarizePack" or p.inputs[0] != value or p.input("scale") for p in packs):
            continue
        for pack in packs:
            pack.inputs[0] = affine.inputs[0]
            pack.set_input("scale", affine.input("scale"))
            pack.set_input("bias", affine.input("bias"))
            pack.attrs["source"] = _merge_sources(affine, pack)
        graph.nodes.remove(affine)
        del graph.values[value]
        return True
    return False


def fuse_bits_output(graph: ir.Graph) -> bool:
    """Make one binary layer write bits for its BinarizePack consumers; True when done."""
    consumers = graph.consumers_of()
    outputs = {v.name for v in graph.outputs}
    for layer in graph.nodes:
        if (layer.op not in ("BinaryConv2d", "BinaryDense") or layer.attrs["output"] != "float"
                or _has_residual(layer) or len(layer.outputs) > 1):
            continue
        value = layer.outputs[0]
        packs = consumers.get(value, [])
        if value in outputs or not packs or any(not _plain_pack(p) for p in packs):
            continue
        offset = _common_offset(graph, packs, graph.values[value].shape[-1])
        if offset is None:
            continue
        _set_input(graph, layer, "out_offset", offset)
        layer.attrs["output"] = "bits"
        bits = _absorb_packs(graph, layer, packs)
        del graph.values[value]
        layer.outputs = [bits]
        return True
    return False


def fuse_residual(graph: ir.Graph) -> bool:
    """Fuse one ``Add(BinaryConv2d(x), shortcut)`` into the conv; True when done.

    The conv moves down to the Add's place first (its only consumer), so a shortcut computed
    after it in node order (a downsample branch) is ready when it runs.
    """
    consumers = graph.consumers_of()
    outputs = {v.name for v in graph.outputs}
    for conv in graph.nodes:
        value = conv.outputs[0]
        users = consumers.get(value, [])
        if not (conv.op == "BinaryConv2d" and conv.attrs["output"] == "float" and len(users) == 1
                and users[0].op == "Add" and not _has_residual(conv) and len(conv.outputs) == 1
                and value not in outputs):
            continue
        add = users[0]
        shortcut = add.inputs[1] if add.inputs[0] == value else add.inputs[0]
        if shortcut == value or _shape(graph, shortcut) != _shape(graph, value):
            continue
        graph.nodes.remove(conv)
        graph.nodes.insert(graph.nodes.index(add), conv)
        conv.set_input("residual", shortcut)
        _absorb(graph, conv, add)
        return True
    return False


def fuse_activation(graph: ir.Graph) -> bool:
    """Move one Relu / Clip / PRelu into the layer before it; True when done."""
    consumers = graph.consumers_of()
    outputs = {v.name for v in graph.outputs}
    for layer in graph.nodes:
        if (layer.op not in SCALED_LAYERS + FLOAT_LAYERS or layer.attrs.get("output") == "bits"
                or layer.attrs.get("activation", "none") != "none" or len(layer.outputs) > 1):
            continue
        value = layer.outputs[0]
        users = consumers.get(value, [])
        if value in outputs or len(users) != 1 or users[0].inputs[0] != value:
            continue
        attrs = _activation_attrs(graph, users[0], graph.values[value].shape[-1])
        if attrs is None:
            continue
        layer.attrs.update(attrs)
        _absorb(graph, layer, users[0])
        return True
    return False


def fuse_max_pool(graph: ir.Graph) -> bool:
    """Move one float MaxPool into the Conv2d / BwnConv2d before it; True when done."""
    consumers = graph.consumers_of()
    outputs = {v.name for v in graph.outputs}
    for conv in graph.nodes:
        if conv.op not in ("Conv2d", "BwnConv2d") or "pool_kernel_shape" in conv.attrs:
            continue
        value = conv.outputs[0]
        users = consumers.get(value, [])
        if value in outputs or len(users) != 1 or users[0].op != "MaxPool":
            continue
        conv.attrs.update({f"pool_{name}": v for name, v in users[0].attrs.items()
                           if name not in ir.INFO_ATTRS})
        _absorb(graph, conv, users[0])
        return True
    return False


def _activation_attrs(graph: ir.Graph, node: ir.Node, channels: int) -> dict | None:
    """``node`` as a fused activation's attributes, or None when it is not one."""
    if node.op == "Relu":
        return {"activation": "relu"}
    if node.op == "Clip":
        return {"activation": "clip", "activation_min": node.attrs["min"],
                "activation_max": node.attrs["max"]}
    if node.op == "PRelu" and node.inputs[1] in graph.constants:
        slope = graph.constants[node.inputs[1]].reshape(-1)
        if slope.size in (1, channels):
            return {"activation": "prelu", "activation_slope": [float(v) for v in slope]}
    return None


def fuse_sum_bits(graph: ir.Graph) -> bool:
    """Let one binary conv with a float output also write its BinarizePack consumers' bits."""
    consumers = graph.consumers_of()
    for conv in graph.nodes:
        if conv.op != "BinaryConv2d" or conv.attrs["output"] != "float" or len(conv.outputs) > 1:
            continue
        value = conv.outputs[0]
        packs = [n for n in consumers.get(value, []) if _plain_pack(n)]
        offset = _common_offset(graph, packs, graph.values[value].shape[-1]) if packs else None
        if offset is None:
            continue
        _set_input(graph, conv, "sum_offset", offset)
        conv.outputs = [value, _absorb_packs(graph, conv, packs)]
        return True
    return False


def _plain_pack(node: ir.Node) -> bool:
    """A BinarizePack to bits of its input itself (no affine) with no abs_mean output: a layer
    can write its bits itself."""
    return (node.op == "BinarizePack" and len(node.outputs) == 1
            and node.attrs.get("output", "bits") == "bits" and not node.input("scale"))


def _has_residual(layer: ir.Node) -> bool:
    return layer.op == "BinaryConv2d" and bool(layer.input("residual"))


def _shape(graph: ir.Graph, name: str) -> list[int] | None:
    for value in graph.inputs:
        if value.name == name:
            return list(value.shape)
    info = graph.values.get(name)
    return list(info.shape) if info is not None and info.dtype == "float32" else None


def _common_offset(graph: ir.Graph, packs: list[ir.Node], channels: int) -> np.ndarray | None:
    """The one offset all ``packs`` binarize with (zeros when they have none), or None."""
    offsets = [_pack_offset(graph, p) for p in packs]
    if any(o is not None for o in offsets) and not all(
            o is not None and np.array_equal(o, offsets[0]) for o in offsets):
        return None
    return offsets[0] if offsets[0] is not None else np.zeros(channels, np.float32)


def _absorb_packs(graph: ir.Graph, layer: ir.Node, packs: list[ir.Node]) -> str:
    """Remove ``packs`` (all binarizing the same way); returns the one bits value left."""
    bits = packs[0].outputs[0]
    for extra in packs[1:]:
        _rename_input(graph, extra.outputs[0], bits)
        graph.values.pop(extra.outputs[0], None)
    for pack in packs:
        layer.attrs["source"] = _merge_sources(layer, pack)
        graph.nodes.remove(pack)
    return bits


def _set_input(graph: ir.Graph, node: ir.Node, slot: str, array: np.ndarray) -> None:
    """Set input ``slot`` of ``node`` to a new constant (named after the slot)."""
    node.set_input(slot, _new_constant(graph, node, slot, array))


def _pack_offset(graph: ir.Graph, pack: ir.Node) -> np.ndarray | None:
    return graph.constants[pack.input("offset")] if pack.input("offset") else None


# Input channels a Conv2d takes in NCHW (kMaxInterleavedPlanes, kernels/interleave).
NCHW_MAX_CHANNELS = 4


def fuse_nchw_input(graph: ir.Graph) -> bool:
    """Let one float Conv2d read the NCHW image its Transpose reads; True when done."""
    find = _channels_last_transposes(graph)
    for conv in graph.nodes:
        if (conv.op != "Conv2d" or conv.attrs.get("precision", "float32") != "float32"
                or conv.attrs.get("input_layout", "nhwc") != "nhwc"):
            continue
        transpose = find(conv.inputs[0])
        image = _shape(graph, transpose.inputs[0]) if transpose else None
        if image is None or len(image) != 4 or image[1] > NCHW_MAX_CHANNELS:
            continue
        _read_before(graph, conv, transpose)
        return True
    return False


def fuse_nchw_pack(graph: ir.Graph) -> bool:
    """Let one BinarizePack read the NCHW tensor its Transpose reads; True when done."""
    find = _channels_last_transposes(graph)
    for pack in graph.nodes:
        if pack.op != "BinarizePack" or pack.attrs.get("input_layout", "nhwc") != "nhwc":
            continue
        transpose = find(pack.inputs[0])
        if transpose is not None:
            _read_before(graph, pack, transpose)
            return True
    return False


def _channels_last_transposes(graph: ir.Graph) -> Callable[[str], ir.Node | None]:
    """For the graph as it is: value -> the Transpose ``[N, C, ...] -> [N, ..., C]`` that makes
    it, when one node reads the value and it is no graph output; else None."""
    consumers = graph.consumers_of()
    producers = graph.producer_of()
    outputs = {v.name for v in graph.outputs}

    def find(value: str) -> ir.Node | None:
        transpose = producers.get(value)
        if (transpose is None or transpose.op != "Transpose" or value in outputs
                or len(consumers[value]) != 1):
            return None
        perm = list(transpose.attrs["perm"])
        return transpose if len(perm) >= 3 and perm == [0, *range(2, len(perm)), 1] else None

    return find


def _read_before(graph: ir.Graph, node: ir.Node, transpose: ir.Node) -> None:
    """Let ``node`` read what ``transpose`` reads (``input_layout = "nchw"``) and drop it."""
    del graph.values[node.inputs[0]]
    node.inputs[0] = transpose.inputs[0]
    node.attrs["input_layout"] = "nchw"
    node.attrs["source"] = _merge_sources(transpose, node)
    graph.nodes.remove(transpose)


def fuse_nchw_output(graph: ir.Graph) -> bool:
    """Let one conv write the NCHW tensor the Transpose after it makes; True when done."""
    consumers = graph.consumers_of()
    outputs = {v.name for v in graph.outputs}
    for conv in graph.nodes:
        binary_float = conv.op == "BinaryConv2d" and conv.attrs.get("output") == "float"
        if (not (binary_float or conv.op in ("Conv2d", "BwnConv2d"))
                or conv.attrs.get("output_layout", "nhwc") != "nhwc" or _has_residual(conv)
                or len([name for name in conv.outputs if name]) != 1):
            continue
        users = consumers.get(conv.outputs[0], [])
        if (conv.outputs[0] in outputs or len(users) != 1 or users[0].op != "Transpose"
                or list(users[0].attrs["perm"]) != [0, 3, 1, 2]):
            continue
        conv.attrs["output_layout"] = "nchw"
        _absorb(graph, conv, users[0])
        return True
    return False


def remove_dead_nodes(graph: ir.Graph) -> None:
    """Drop nodes, unused ``abs_mean`` outputs, constants and values no output depends on."""
    live = {v.name for v in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if not any(out in live for out in node.outputs):
            continue
        if node.op == "BinarizePack" and len(node.outputs) > 1 and node.outputs[1] not in live:
            node.outputs = node.outputs[:1]
        live.update(name for name in node.inputs if name)
        kept.append(node)
    graph.nodes[:] = reversed(kept)
    graph.constants = {k: v for k, v in graph.constants.items() if k in live}
    produced = {out for node in graph.nodes for out in node.outputs}
    graph.values = {k: v for k, v in graph.values.items() if k in produced}


def _absorb(graph: ir.Graph, layer: ir.Node, follower: ir.Node) -> None:
    """Remove ``follower`` and let ``layer`` produce its output value instead."""
    del graph.values[layer.outputs[0]]
    layer.outputs = list(follower.outputs)
    layer.attrs["source"] = _merge_sources(layer, follower)
    graph.nodes.remove(follower)


def _merge_sources(first: ir.Node, second: ir.Node) -> str:
    names = first.attrs["source"].split(",") + second.attrs["source"].split(",")
    return ",".join(dict.fromkeys(n for n in names if n))


def _set_constant(graph: ir.Graph, node: ir.Node, slot: str, array: np.ndarray) -> None:
    """Give input ``slot`` of ``node`` a new value, under a fresh name."""
    node.set_input(slot, _new_constant(graph, node, f"in{ir.input_slot(node.op, slot)}", array))


def _new_constant(graph: ir.Graph, node: ir.Node, hint: str, array: np.ndarray) -> str:
    base = f"{node.name}:{hint}"
    name, i = base, 1
    while name in graph.constants or name in graph.values:
        name, i = f"{base}_{i}", i + 1
    graph.constants[name] = np.ascontiguousarray(array, dtype=np.float32)
    return name


def _rename_input(graph: ir.Graph, old: str, new: str) -> None:
    for node in graph.nodes:
        node.inputs = [new if name == old else name for name in node.inputs]
