"""Helpers shared by the converter tests: run onnxruntime on the original model, compare
outputs, and build small ONNX models by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from xnorinfer import ir

BINARY_LAYER_OPS = ("BinaryConv2d", "BinaryDense")


def onnxruntime_outputs(model: str | Path | onnx.ModelProto, feeds: Mapping[str, np.ndarray]
                        ) -> dict[str, np.ndarray]:
    """The model's outputs under onnxruntime (CPU, no graph optimizations, one thread)."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    names = [out.name for out in session.get_outputs()]
    return dict(zip(names, session.run(None, dict(feeds))))


def assert_close(actual: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray],
                 rtol: float = 1e-4) -> None:
    """Every output within ``rtol * max|expected|`` of onnxruntime; [N, classes] outputs also
    with the same argmax (conv outputs hold ties)."""
    assert set(actual) == set(expected)
    for name, want in expected.items():
        got = actual[name]
        assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
        tolerance = rtol * float(np.abs(want).max())
        diff = float(np.abs(got - want).max())
        assert diff <= tolerance, f"{name}: max |diff| {diff:.3g} > {tolerance:.3g}"
        if want.ndim == 2:
            np.testing.assert_array_equal(got.argmax(axis=-1), want.argmax(axis=-1))


def binary_layer_sources(graph: ir.Graph) -> list[str]:
    """The ``source`` attribute of every binary conv/dense layer."""
    return [node.attrs["source"] for node in graph.nodes if node.op in BINARY_LAYER_OPS]


def random_feeds(model: onnx.ModelProto, batch: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    """N(0, 1) float32 inputs for every graph input, dim 0 set to ``batch`` when symbolic."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        shape = [d.dim_value if d.HasField("dim_value") else batch for d in dims]
        feeds[value.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def make_model(nodes: Sequence[onnx.NodeProto], inputs: Mapping[str, Sequence[int | str]],
               outputs: Sequence[str], constants: Mapping[str, np.ndarray] | None = None,
               opset: int = 17) -> onnx.ModelProto:
    """A float32 model from nodes, ``{input: shape}``, output names and initializers."""
    graph = helper.make_graph(
        list(nodes), "test",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))
         for name, shape in inputs.items()],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
        [numpy_helper.from_array(np.asarray(value), name)
         for name, value in (constants or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def binary_weight(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    """±alpha_o weights with a different positive alpha per output channel."""
    alpha = rng.uniform(0.5, 2.0, size=(shape[0],) + (1,) * (len(shape) - 1))
    return (np.where(rng.standard_normal(shape) < 0, -1.0, 1.0) * alpha).astype(np.float32)
