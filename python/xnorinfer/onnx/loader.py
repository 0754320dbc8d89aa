"""Load an ONNX model for conversion: external data, opset check, input shapes, shape inference
and constant folding. The result is an :class:`OnnxGraph`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from google.protobuf.message import DecodeError, Message
from onnx import TensorProto, external_data_helper, helper, numpy_helper

from xnorinfer import ir
from xnorinfer.errors import ConversionError
from xnorinfer.onnx.dynamic_dims import SENTINELS
from xnorinfer.onnx.folding import fold_constants
from xnorinfer.onnx.onnx_graph import OnnxGraph

MIN_OPSET = 11

InputShapes = Mapping[str, Sequence[int | str | None]]


def load_onnx(model: str | os.PathLike | onnx.ModelProto,
              input_shapes: InputShapes | None = None) -> OnnxGraph:
    """Read, check, shape-infer and constant-fold an ONNX model.

    Parameters
    ----------
    model : path or onnx.ModelProto
        A path is loaded with its external data (looked up beside the file).
    input_shapes : mapping, optional
        ``{input name: shape}`` overriding the declared input shapes; a dim given as -1, None
        or a string stays dynamic (dim 0: the batch).

    Returns
    -------
    OnnxGraph

    Raises
    ------
    ConversionError
        Opset below 11, a non-float32 input, external data that is not loaded.
    """
    proto = _read(model)
    _check_strings(proto)
    opset = default_opset(proto)
    if opset < MIN_OPSET:
        raise ConversionError(
            f"the model uses ONNX opset {opset}; the converter reads opset {MIN_OPSET} or newer "
            "(re-export it, or upgrade it with onnx.version_converter.convert_version)")
    _check_onnx(proto)
    if proto.functions:
        proto = onnx.inliner.inline_local_functions(proto)
    _name_anonymous_nodes(proto.graph)
    onnx_bytes = proto.ByteSize()
    onnx_param_bytes = _initializer_bytes(proto.graph)
    _apply_input_shapes(proto.graph, input_shapes or {})
    _declare_input_outputs_like_inputs(proto.graph)
    graph_inputs = _graph_inputs(proto.graph)
    dim_names = _pin_symbolic_dims(proto.graph, graph_inputs)
    _check_inputs(proto.graph, graph_inputs)

    folded = fold_constants(proto, _infer_shapes(proto), opset)
    proto = _rebuild(proto, folded.nodes, folded.constants)
    shapes = _infer_shapes(proto)
    shapes.update({name: tuple(value.shape) for name, value in folded.constants.items()})
    outputs = [out.name for out in proto.graph.output]
    for name in outputs:
        if name in folded.constants:
            raise ConversionError(f"graph output '{name}' is a constant; the engine computes "
                                  "outputs from inputs only")
    return OnnxGraph(
        nodes=list(proto.graph.node), constants=folded.constants, inputs=graph_inputs,
        outputs=outputs, shapes=shapes, opset=opset,
        producer_name=f"{proto.producer_name} {proto.producer_version}".strip(),
        onnx_param_bytes=onnx_param_bytes, onnx_bytes=onnx_bytes,
        batch_dependent=folded.batch_dependent, input_dim_names=dim_names,
        model_metadata=_model_metadata(proto))


def _model_metadata(proto: onnx.ModelProto) -> dict[str, Any]:
    """The fields onnxruntime's ModelMetadata reports."""
    return {"producer_name": proto.producer_name, "graph_name": proto.graph.name,
            "domain": proto.domain, "description": proto.doc_string,
            "graph_description": proto.graph.doc_string, "version": proto.model_version,
            "custom_metadata_map": {p.key: p.value for p in proto.metadata_props}}


def default_opset(proto: onnx.ModelProto) -> int:
    """The version of the default ONNX domain the model imports."""
    for entry in proto.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    raise ConversionError("the model imports no version of the default ONNX domain")


def _read(model: str | os.PathLike | onnx.ModelProto) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        proto = onnx.ModelProto()
        proto.CopyFrom(model)
        if any(external_data_helper.uses_external_data(t) for t in proto.graph.initializer):
            raise ConversionError(
                "the ModelProto refers to external data that is not loaded; pass the model's "
                "path instead, or load it with onnx.load(path) first")
        return proto
    path = Path(model)
    if not path.is_file():
        raise ConversionError(f"no ONNX model at '{path}'")
    try:
        proto = onnx.load(str(path), load_external_data=True)
    except (OSError, ValueError, DecodeError, onnx.checker.ValidationError) as error:
        # ValidationError: external data that points outside the model's folder.
        raise ConversionError(f"cannot read ONNX model '{path}': {error}") from error
    return proto


def _check_strings(message: Message) -> None:
    """Protobuf parses string fields without checking their UTF-8 and hands a bad one back as
    bytes, which would fail wherever the converter first used it: refuse it here."""
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            for item in [value] if isinstance(value, Message) else value:
                _check_strings(item)
        elif field.type == field.TYPE_STRING:
            items = [value] if isinstance(value, (bytes, str)) else value
            if any(isinstance(item, bytes) for item in items):
                raise ConversionError(f"invalid ONNX model: a {message.DESCRIPTOR.name} has a "
                                      f"'{field.name}' that is not valid UTF-8")


def _check_onnx(proto: onnx.ModelProto) -> None:
    """ONNX's checker on every node and initializer, then strict shape inference: wrong
    attribute or tensor types, tensors whose data do not match their dims, and attributes out
    of range are refused before the converter reads them. (``check_model`` as a whole would also
    refuse graph outputs declared without a shape, which onnxruntime runs.)"""
    _check_single_producers(proto.graph)
    ctx = onnx.checker.C.CheckerContext()
    ctx.ir_version = proto.ir_version
    ctx.opset_imports = {entry.domain: entry.version for entry in proto.opset_import}
    try:
        for tensor in proto.graph.initializer:
            onnx.checker.check_tensor(tensor, ctx)
        for node in proto.graph.node:
            onnx.checker.check_node(node, ctx)
        onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError,
            ValueError) as error:  # ValueError: from onnx's C++, e.g. an unknown data type
        raise ConversionError(f"invalid ONNX model: {error}") from None


def _check_single_producers(graph: onnx.GraphProto) -> None:
    """Every tensor has one producer: a node output may not redefine another name."""
    produced = {inp.name for inp in graph.input} | {init.name for init in graph.initializer}
    for node in graph.node:
        for name in node.output:
            if name in produced:
                raise ConversionError(f"invalid ONNX model: tensor '{name}' (an output of node "
                                      f"'{node.name}', {node.op_type}) is defined twice")
            if name:
                produced.add(name)


def _initializer_bytes(graph: onnx.GraphProto) -> int:
    """Total bytes of the initializers, each read once here so that one whose data does not
    match its dims (which ONNX's checker lets through when the data is too long) is refused."""
    total = 0
    for tensor in graph.initializer:
        try:
            total += numpy_helper.to_array(tensor).nbytes
        except (ValueError, TypeError) as error:
            raise ConversionError(f"invalid ONNX model: initializer '{tensor.name}' cannot be "
                                  f"read: {error}") from None
        except KeyError:  # a data type the checker lets through but numpy has no dtype for
            raise ConversionError(f"invalid ONNX model: initializer '{tensor.name}' cannot be "
                                  f"read: unknown data type {tensor.data_type}") from None
    return total


def _name_anonymous_nodes(graph: onnx.GraphProto) -> None:
    taken = {node.name for node in graph.node if node.name}
    for i, node in enumerate(graph.node):
        if not node.name:
            name = f"{node.op_type}_{i}"
            while name in taken:
                name += "_"
            node.name = name
            taken.add(name)


def _graph_inputs(graph: onnx.GraphProto) -> list[str]:
    """Inputs the user feeds: old exporters also list initializers as inputs."""
    initializers = {init.name for init in graph.initializer}
    return [inp.name for inp in graph.input if inp.name not in initializers]


def _apply_input_shapes(graph: onnx.GraphProto, input_shapes: InputShapes) -> None:
    by_name = {inp.name: inp for inp in graph.input}
    for name, shape in input_shapes.items():
        if name not in by_name:
            raise ConversionError(f"input_shapes names '{name}', which is not a model input "
                                  f"(inputs: {', '.join(by_name)})")
        dims = by_name[name].type.tensor_type.shape
        dims.ClearField("dim")
        for i, size in enumerate(shape):
            dim = dims.dim.add()
            if isinstance(size, int) and size >= 0:
                dim.dim_value = size
            else:  # a dynamic dim: the batch at dim 0, a symbolic name elsewhere
                dim.dim_param = size if isinstance(size, str) else "batch" if i == 0 else f"d{i}"
    # Stale intermediate shapes would contradict the new input shapes.
    if input_shapes:
        graph.ClearField("value_info")


def _declare_input_outputs_like_inputs(graph: onnx.GraphProto) -> None:
    """Give a graph output that is a graph input the input's type: declared without a shape,
    it would make ONNX shape inference forget the input's shape."""
    by_name = {inp.name: inp for inp in graph.input}
    for out in graph.output:
        if out.name in by_name:
            out.type.CopyFrom(by_name[out.name].type)


def _pin_symbolic_dims(graph: onnx.GraphProto, graph_inputs: list[str]
                       ) -> dict[str, list[str | None]]:
    """Give each symbolic non-batch input dim its name's sentinel extent (dynamic_dims.py), so
    shape inference works with concrete shapes. Returns each input's dynamic dim names (None
    for a static dim; dim 0 unknown is "batch")."""
    by_name = {inp.name: inp for inp in graph.input}
    sentinel_of: dict[str, int] = {}
    names: dict[str, list[str | None]] = {}
    for name in graph_inputs:
        tensor_type = by_name[name].type.tensor_type
        if not tensor_type.HasField("shape"):
            continue
        names[name] = []
        for i, dim in enumerate(tensor_type.shape.dim):
            if dim.HasField("dim_value"):
                names[name].append(None)
                continue
            symbol = dim.dim_param or ("batch" if i == 0 else f"{name}:{i}")
            names[name].append(symbol)
            if i == 0:
                continue  # the batch keeps its own handling (folding.BATCH_SENTINEL)
            if symbol not in sentinel_of:
                if len(sentinel_of) == len(SENTINELS):
                    raise ConversionError(f"input '{name}' has more than {len(SENTINELS)} "
                                          "distinct symbolic dimensions; fix some with "
                                          "convert(..., input_shapes=...)")
                sentinel_of[symbol] = SENTINELS[len(sentinel_of)]
            dim.dim_value = sentinel_of[symbol]
    return names


def _check_inputs(graph: onnx.GraphProto, graph_inputs: list[str]) -> None:
    by_name = {inp.name: inp for inp in graph.input}
    for name in graph_inputs:
        tensor_type = by_name[name].type.tensor_type
        if tensor_type.elem_type != TensorProto.FLOAT:
            type_name = TensorProto.DataType.Name(tensor_type.elem_type)
            raise ConversionError(f"input '{name}' has type {type_name}; the engine takes "
                                  "float32 inputs only (no integer inputs such as token ids)")
        if not tensor_type.HasField("shape"):
            raise ConversionError(f"input '{name}' has no declared shape; give one with "
                                  f"convert(..., input_shapes={{'{name}': [...]}})")
        for i, dim in enumerate(tensor_type.shape.dim):
            if dim.HasField("dim_value") and not 1 <= dim.dim_value <= ir.MAX_EXTENT:
                raise ConversionError(f"input '{name}' dim {i} is {dim.dim_value}; the engine "
                                      f"takes extents from 1 to {ir.MAX_EXTENT}")


def _infer_shapes(proto: onnx.ModelProto) -> dict[str, tuple[int, ...] | None]:
    """ONNX shape inference; dim 0 unknown becomes -1 (the batch), any other unknown dim None."""
    try:
        inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=False, data_prop=True)
    except onnx.shape_inference.InferenceError as error:
        raise ConversionError(f"ONNX shape inference failed: {error}") from error
    shapes: dict[str, tuple[int, ...] | None] = {}
    graph = inferred.graph
    for info in list(graph.input) + list(graph.value_info) + list(graph.output):
        shapes[info.name] = _shape_of(info.type.tensor_type)
    for init in graph.initializer:
        shapes[init.name] = tuple(init.dims)
    return shapes


def _shape_of(tensor_type: onnx.TypeProto.Tensor) -> tuple[int, ...] | None:
    if not tensor_type.HasField("shape"):
        return None
    dims = []
    for i, dim in enumerate(tensor_type.shape.dim):
        if dim.HasField("dim_value"):
            dims.append(dim.dim_value)
        elif i == 0:
            dims.append(-1)
        else:
            return None
    return tuple(dims)


def _rebuild(proto: onnx.ModelProto, nodes: list[onnx.NodeProto],
             constants: dict[str, np.ndarray]) -> onnx.ModelProto:
    """The model with the folded nodes gone and the constants they left as initializers."""
    used = {name for node in nodes for name in node.input if name in constants}
    graph = helper.make_graph(
        nodes, proto.graph.name,
        [inp for inp in proto.graph.input if inp.name not in constants],
        list(proto.graph.output),
        [numpy_helper.from_array(np.asarray(constants[name]), name) for name in sorted(used)])
    rebuilt = helper.make_model(graph, opset_imports=list(proto.opset_import),
                                ir_version=proto.ir_version)
    rebuilt.producer_name = proto.producer_name
    rebuilt.producer_version = proto.producer_version
    return rebuilt
