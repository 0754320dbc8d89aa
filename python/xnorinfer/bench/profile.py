"""Per-layer profiles of a converted model and of its peers (onnxruntime, OpenVINO) on one row per
layer.

A *layer* is one conv/dense engine node (binary, BWN or float) with the engine nodes around it:
the ``BinarizePack`` that feeds it, and the nodes after it up to the next layer (BatchNorm,
pooling, residual adds, ...). The first layer also takes the nodes before it (the input
transpose). A peer's nodes are put on the same rows through the ONNX node names each engine node
records in its ``source`` attribute; peer nodes that match no ONNX node (layout reorders a peer
inserts) get a row of their own.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from xnorinfer import ir, model_file
from xnorinfer.session import InferenceSession

UNMATCHED = "(other peer nodes)"
# onnxruntime's NCHWc layout transformer names a node after its output plus this suffix.
_ORT_SUFFIXES = ("_nchwc",)


@dataclass
class Layer:
    """One row of a per-layer profile.

    Attributes
    ----------
    name : str
        The layer's ONNX node name (its conv/dense node), or :data:`UNMATCHED`.
    kind : str
        ``"binary"``, ``"bwn"``, ``"float"``, or ``""`` for the unmatched row.
    ops : list of str
        Engine ops on this row, in execution order.
    node_indices : list of int
        Indices of those engine nodes in the graph.
    onnx_nodes : set of str
        ONNX node names the row's engine nodes came from.
    gemm : tuple of int or None
        ``(m, k, n, groups)`` of the layer's im2col GEMM, None when unknown.
    """

    name: str
    kind: str
    ops: list[str] = field(default_factory=list)
    node_indices: list[int] = field(default_factory=list)
    onnx_nodes: set[str] = field(default_factory=set)
    gemm: tuple[int, int, int, int] | None = None


def group_layers(graph: ir.Graph, batch: int) -> list[Layer]:
    """Group a converted graph's nodes into layers (see the module docstring).

    Parameters
    ----------
    graph : ir.Graph
        A converted engine graph.
    batch : int
        Batch size the GEMM shapes are given for.

    Returns
    -------
    list of Layer
        In execution order, plus a final :data:`UNMATCHED` row with no engine nodes.
    """
    layers: list[Layer] = []
    pending: list[int] = []
    for index, node in enumerate(graph.nodes):
        if node.op in ir.LAYER_OPS:
            sources = _sources(node)
            layer = Layer(sources[0] if sources else node.name, ir.op_kind(node.op),
                          gemm=gemm_shape(graph, node, batch))
            layer.node_indices = pending + [index]
            layers.append(layer)
            pending = []
        elif node.op == "BinarizePack" or not layers:
            pending.append(index)
        else:
            layers[-1].node_indices.append(index)
    if pending:
        if not layers:
            layers.append(Layer("(graph)", "float"))
        layers[-1].node_indices.extend(pending)
    for layer in layers:
        layer.ops = [graph.nodes[i].op for i in layer.node_indices]
        layer.onnx_nodes = {s for i in layer.node_indices for s in _sources(graph.nodes[i])}
    layers.append(Layer(UNMATCHED, ""))
    return layers


def gemm_shape(graph: ir.Graph, node: ir.Node, batch: int) -> tuple[int, int, int, int] | None:
    """``(m, k, n, groups)`` of a conv/dense node's im2col GEMM at ``batch``; None if unknown.

    ``k`` is the reduction length per group (kernel taps times input channels per group), so
    the layer does ``m * k * n`` multiply-accumulates.
    """
    out = graph.values.get(node.outputs[0]) or next(
        (v for v in graph.outputs if v.name == node.outputs[0]), None)
    if out is None:
        return None
    shape = [batch if d == -1 else d for d in out.shape]
    if node.attrs.get("output_layout", "nhwc") == "nchw":  # [N, O, H, W] -> [N, H, W, O]
        shape = [shape[0], *shape[2:], shape[1]]
    if "pool_kernel_shape" in node.attrs:  # the output is pooled: the conv's own is larger
        shape[1:3] = _conv_extent(graph, node)
    n = shape[-1]
    weight = graph.constants.get(node.inputs[1])
    if node.op in ("Conv2d", "BinaryConv2d", "BwnConv2d"):
        kh, kw = node.attrs["kernel_shape"]
        groups = int(node.attrs.get("group", 1))
        if node.op == "Conv2d":
            if weight is None:
                return None
            per_group = weight.shape[-1]
        else:
            per_group = int(node.attrs["in_channels"]) // groups
        return int(np.prod(shape[:-1])), kh * kw * per_group, n, groups
    if node.op == "Dense":
        return (None if weight is None else (int(np.prod(shape[:-1])), weight.shape[1], n, 1))
    k = int(node.attrs["in_channels"]) * int(node.attrs.get("groups_in", 1))
    return int(np.prod(shape[:-1])), k, n, 1


def _conv_extent(graph: ir.Graph, node: ir.Node) -> list[int]:
    """A conv node's output height and width, from its input's (ONNX's formula)."""
    x = graph.values.get(node.inputs[0]) or next(v for v in graph.inputs
                                                 if v.name == node.inputs[0])
    a = node.attrs
    first_spatial = 2 if a.get("input_layout", "nhwc") == "nchw" else 1
    extent = []
    for axis in (0, 1):
        span = a.get("dilations", [1, 1])[axis] * (a["kernel_shape"][axis] - 1) + 1
        pads = a.get("pads", [0, 0, 0, 0])[axis] + a.get("pads", [0, 0, 0, 0])[axis + 2]
        extent.append((x.shape[axis + first_spatial] + pads - span)
                      // a.get("strides", [1, 1])[axis] + 1)
    return extent


class EngineProfile:
    """Our per-node times: each :meth:`step` is an untimed run then a profiled one (the engine's
    per-node timer); :meth:`seconds` gives each node's median over the steps, in graph order.

    Parameters
    ----------
    graph : ir.Graph
        The converted graph.
    inputs : sequence of numpy.ndarray
        float32 inputs in graph input order, in the ONNX layout.
    num_threads : int
        Threads inside ops.
    isa : str, optional
        Kernel path; default as :class:`xnorinfer.InferenceSession`.
    """

    def __init__(self, graph: ir.Graph, inputs: Sequence[np.ndarray], num_threads: int,
                 isa: str | None = None) -> None:
        self._session = InferenceSession(model_file.dumps(graph), num_threads=num_threads,
                                         isa=isa)
        self._feed = {v.name: np.asarray(x, dtype=np.float32) for v, x in zip(graph.inputs, inputs)}
        self._runs: list[list[float]] = []

    def step(self) -> None:
        self._runs.append([node.seconds for node in self._session.profile(self._feed, repeats=1)])

    def seconds(self) -> list[float]:
        return [statistics.median(column) for column in zip(*self._runs)]


class OrtProfile:
    """onnxruntime's per-node times on an ONNX model, keyed by the ONNX node each comes from:
    each :meth:`step` is an untimed run then a profiled one (onnxruntime's profiler records
    both; the untimed ones are dropped). Optimized nodes map to original ONNX nodes by name or
    by output value name; nodes that match none are keyed ``"<UNMATCHED>:<ort name>"``.
    """

    def __init__(self, onnx_path: str | Path, feed: dict[str, np.ndarray], num_threads: int
                 ) -> None:
        import onnx

        from xnorinfer.bench.timing import ort_session

        self._model = onnx.load(str(onnx_path), load_external_data=False)
        self._tmp = tempfile.TemporaryDirectory()
        self._optimized = str(Path(self._tmp.name) / "optimized.onnx")
        self._session = ort_session(onnx_path, num_threads,
                                    profile_prefix=str(Path(self._tmp.name) / "ort"),
                                    optimized_model_path=self._optimized)
        self._feed = feed

    def step(self) -> None:
        self._session.run(None, self._feed)
        self._session.run(None, self._feed)

    def seconds(self) -> dict[str, float]:
        """Median seconds per ONNX node name over the steps (several onnxruntime nodes on one
        ONNX node are added). Ends the profiler: call once."""
        with self._tmp:
            events = json.loads(Path(self._session.end_profiling()).read_text())
            ort_outputs = _node_outputs(self._optimized)
        # The profiled run of each step is the second: node events inside the odd-numbered
        # model_run events count.
        runs = sorted((e["ts"], e["ts"] + e["dur"]) for e in events
                      if e.get("cat") == "Session" and e["name"] == "model_run")
        timed = runs[1::2]
        durations: dict[str, list[float]] = defaultdict(list)
        for event in events:
            if (event.get("cat") == "Node" and event["name"].endswith("_kernel_time")
                    and any(begin <= event["ts"] <= end for begin, end in timed)):
                durations[event["name"].removesuffix("_kernel_time")].append(event["dur"] * 1e-6)
        return _by_onnx_node({name: (ort_outputs.get(name, []), statistics.median(values))
                              for name, values in durations.items()},
                             _onnx_node_resolver(self._model))


class OpenVinoProfile:
    """OpenVINO's per-node times, keyed by the ONNX node each comes from: ``session`` is an
    :class:`xnorinfer.bench.openvino_peer.NetworkSession` made with ``profile=True`` from
    ``onnx_path``. Each :meth:`step` is an untimed run then a profiled one. A node is keyed by
    the first of its own name and the names of the nodes it executes (OpenVINO fuses, say, a
    BatchNorm into a conv) that is an ONNX node; nodes that match none are keyed
    ``"<UNMATCHED>:<OpenVINO name>"``.
    """

    def __init__(self, session: Any, onnx_path: str | Path, feed: dict[str, np.ndarray]) -> None:
        import onnx

        self._session = session
        self._feed = feed
        self._model = onnx.load(str(onnx_path), load_external_data=False)
        self._runs: dict[str, list[float]] = defaultdict(list)
        self._originals: dict[str, list[str]] = {}

    def step(self) -> None:
        self._session.run(None, self._feed)
        for name, (originals, seconds) in self._session.profiled_run(self._feed).items():
            self._originals[name] = originals
            self._runs[name].append(seconds)

    def seconds(self) -> dict[str, float]:
        return _by_onnx_node({name: (self._originals[name], statistics.median(values))
                              for name, values in self._runs.items()},
                             _onnx_node_resolver(self._model))


def interleaved_profiles(profiles: dict[str, Any], repeats: int) -> None:
    """Steps every profile round-robin for ``repeats`` rounds (rotated order, a pause between
    engines as :func:`xnorinfer.bench.timing.interleaved_medians` makes), so that every
    engine's per-node times come from the same minutes of the machine."""
    from xnorinfer.bench.timing import round_robin

    for name in round_robin(list(profiles), repeats):
        profiles[name].step()


def _profiled(profile: Any, repeats: int) -> Any:
    for _ in range(max(repeats, 1)):
        profile.step()
    return profile.seconds()


def engine_node_seconds(graph: ir.Graph, inputs: Sequence[np.ndarray], num_threads: int,
                        repeats: int, isa: str | None = None) -> list[float]:
    """Median seconds of every engine node over ``repeats`` steps of an :class:`EngineProfile`."""
    return _profiled(EngineProfile(graph, inputs, num_threads, isa), repeats)


def ort_node_seconds(onnx_path: str | Path, feed: dict[str, np.ndarray], num_threads: int,
                     repeats: int) -> dict[str, float]:
    """Median seconds per ONNX node over ``repeats`` steps of an :class:`OrtProfile`."""
    return _profiled(OrtProfile(onnx_path, feed, num_threads), repeats)


def openvino_node_seconds(session: Any, onnx_path: str | Path, feed: dict[str, np.ndarray],
                          repeats: int) -> dict[str, float]:
    """Median seconds per ONNX node over ``repeats`` steps of an :class:`OpenVinoProfile`."""
    return _profiled(OpenVinoProfile(session, onnx_path, feed), repeats)


def fill_times(layers: list[Layer], engine_seconds: Sequence[float],
               peer_seconds: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Per-layer seconds of our engine and of each peer.

    Parameters
    ----------
    peer_seconds : dict of str to (dict of str to float)
        Per peer (``"ort"``, ``"openvino"``): seconds per ONNX node, as
        :func:`ort_node_seconds` returns them.

    Returns
    -------
    list of dict
        One per layer: ``layer`` (the :class:`Layer`), ``ours`` seconds, and each peer's
        seconds under its key (None when that peer ran nothing for the layer).
    """
    owner = {name: i for i, layer in enumerate(layers) for name in layer.onnx_nodes}
    rows = [{"layer": layer, "ours": sum(engine_seconds[i] for i in layer.node_indices)}
            for layer in layers]
    for peer, seconds_per_node in peer_seconds.items():
        per_layer: dict[int, float] = defaultdict(float)
        for name, seconds in seconds_per_node.items():
            per_layer[owner.get(name, len(layers) - 1)] += seconds
        for i, row in enumerate(rows):
            row[peer] = per_layer.get(i)
    return rows


def _by_onnx_node(nodes: dict[str, tuple[list[str], float]], resolve: Any) -> dict[str, float]:
    """A peer's node times (each with the other names that may identify its ONNX node) keyed
    by ONNX node; several peer nodes on one ONNX node are added."""
    seconds: dict[str, float] = defaultdict(float)
    for name, (other_names, value) in nodes.items():
        onnx_node = resolve(name, other_names)
        seconds[onnx_node if onnx_node is not None else f"{UNMATCHED}:{name}"] += value
    return dict(seconds)


def _sources(node: ir.Node) -> list[str]:
    return [s.strip() for s in str(node.attrs.get("source", "")).split(",") if s.strip()]


def _node_outputs(optimized_path: str) -> dict[str, list[str]]:
    import onnx

    if not Path(optimized_path).is_file():  # onnxruntime could not save it: match by name only
        return {}
    model = onnx.load(optimized_path, load_external_data=False)
    return {node.name: list(node.output) for node in model.graph.node}


def _onnx_node_resolver(model: Any):
    names = {node.name for node in model.graph.node}
    producer = {out: node.name for node in model.graph.node for out in node.output}

    # A peer node's own name first, then its other names (onnxruntime: its outputs; OpenVINO:
    # the nodes it executes), as ONNX node names or as the outputs of ONNX nodes.
    def resolve(peer_name: str, other_names: list[str]) -> str | None:
        candidates = [peer_name, *other_names]
        candidates += [c.removesuffix(s) for c in candidates for s in _ORT_SUFFIXES]
        for candidate in candidates:
            if candidate in names:
                return candidate
            if candidate in producer:
                return producer[candidate]
        return None

    return resolve
