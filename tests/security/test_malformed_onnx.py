"""Malformed ONNX given to the converter: each is a ConversionError saying what is wrong, never
another exception, a crash or a silently wrong graph."""

from __future__ import annotations

import resource
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from xnorinfer import ConversionError, convert

FIXTURE = Path(__file__).parents[1] / "fixtures" / "torch" / "binary_mlp" / "model.onnx"
X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
W = numpy_helper.from_array(np.ones((8, 4), np.float32), "W")


def _model(nodes, initializers=(), inputs=(X,), outputs=(Y,)) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", list(inputs), list(outputs), list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _matmul(weight: onnx.TensorProto) -> onnx.ModelProto:
    return _model([helper.make_node("MatMul", ["x", "W"], ["y"])], [weight])


def _external(location: str) -> onnx.ModelProto:
    weight = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[8, 4],
                         data_location=TensorProto.EXTERNAL)
    weight.external_data.add(key="location", value=location)
    return _matmul(weight)


def _refused(model: bytes | onnx.ModelProto, tmp_path: Path, match: str) -> None:
    data = model if isinstance(model, bytes) else model.SerializeToString()
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    with pytest.raises(ConversionError, match=match):
        convert(path)


def test_the_well_formed_matmul_converts():
    assert convert(_matmul(W)).graph.nodes


@pytest.mark.parametrize("data", [b"", b"not protobuf at all", b"\xff" * 64],
                         ids=["empty", "text", "garbage"])
def test_bytes_that_are_not_a_model(tmp_path, data):
    _refused(data, tmp_path, r"cannot read ONNX model|imports no version of the default ONNX "
                             r"domain")


@pytest.mark.parametrize("fraction", [0.01, 0.3, 0.7, 0.999])
def test_truncated_protobuf(tmp_path, fraction):
    data = FIXTURE.read_bytes()
    _refused(data[:int(len(data) * fraction)], tmp_path, r".")


CASES = {
    "missing initializer": (_model([helper.make_node("MatMul", ["x", "W"], ["y"])]),
                            r"tensor 'W' has no producer"),
    "weight of the wrong type": (
        _matmul(numpy_helper.from_array(np.ones((8, 4), np.int8), "W")),
        r"invalid ONNX model: .*MatMul.*unsupported type: tensor\(int8\)"),
    "weight without data": (_matmul(TensorProto(name="W", data_type=TensorProto.FLOAT,
                                                dims=[10**12])),
                            r"invalid ONNX model: TensorProto \(tensor name: W\)"),
    "weight data shorter than its dims": (
        _matmul(TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[8, 4], raw_data=b"1")),
        r"raw_data size \(1 bytes\) is too small"),
    "attribute of the wrong type": (
        _model([helper.make_node("Softmax", ["x"], ["y"], axis="last")],
               outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])]),
        r"Mismatched attribute type .*axis"),
    "axis out of range": (
        _model([helper.make_node("Softmax", ["x"], ["y"], axis=7)],
               outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])]),
        r"invalid ONNX model: .*'axis' must be in"),
    "shapes that do not multiply": (
        _model([helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)], [W]),
        r"invalid ONNX model: .*Gemm"),
    "tensor defined twice": (
        _model([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["x"], ["y"])],
               outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])]),
        r"tensor 'y' .* is defined twice"),
    "cycle": (_model([helper.make_node("Relu", ["z"], ["y"]),
                      helper.make_node("Relu", ["y"], ["z"])]),
              r"invalid ONNX model"),
    "op of an unknown domain": (_model([helper.make_node("Exec", ["x"], ["y"], domain="evil")]),
                                r"No opset import for domain 'evil'"),
    "input extent past the engine's limit": (
        _model([helper.make_node("Relu", ["x"], ["y"])],
               inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2**40])],
               outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2**40])]),
        r"input 'x' dim 1 is 1099511627776; the engine takes extents from 1 to 2147483648"),
    "zero input extent": (
        _model([helper.make_node("Relu", ["x"], ["y"])],
               inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 0])],
               outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 0])]),
        r"input 'x' dim 1 is 0"),
    "external data outside the model's folder": (_external("../../../etc/passwd"),
                                                 r"cannot read ONNX model .*outside"),
    "external data that does not exist": (_external("missing.bin"),
                                          r"cannot read ONNX model"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_model_is_a_conversion_error(tmp_path, case):
    model, match = CASES[case]
    _refused(model, tmp_path, match)


def test_name_that_is_not_utf8(tmp_path):
    """Protobuf parses such a string and hands it back as bytes (fuzz finding)."""
    data = _model([helper.make_node("Relu", ["x"], ["y"])],
                  outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])]
                  ).SerializeToString().replace(b"\x12\x01g", b"\x12\x01\x8d")
    _refused(data, tmp_path, r"invalid ONNX model: a GraphProto has a 'name' that is not "
                             r"valid UTF-8")


def test_unknown_tensor_data_type(tmp_path):
    """ONNX's shape inference raises a plain ValueError for it (fuzz finding)."""
    weight = TensorProto(name="W", data_type=35, dims=[8, 4], raw_data=bytes(32))
    _refused(_matmul(weight), tmp_path, r"invalid ONNX model: Invalid tensor data type 35")


def test_data_type_the_checker_knows_but_numpy_does_not(tmp_path):
    """Data type 37 in raw data passes ONNX's checker, and shape inference never looks at an
    initializer no node reads; numpy_helper then has no dtype for it (fuzz finding: a
    KeyError escaped)."""
    weight = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[8, 4], raw_data=bytes(128))
    unused = TensorProto(name="U", data_type=37, dims=[8, 4], raw_data=bytes(32))
    model = _model([helper.make_node("MatMul", ["x", "W"], ["y"])], [weight, unused])
    _refused(model, tmp_path, r"initializer 'U' cannot be read: unknown data type 37")


def test_weight_data_longer_than_its_dims(tmp_path):
    """ONNX's checker only refuses data that is too short (fuzz finding)."""
    weight = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[8, 4], raw_data=bytes(256))
    _refused(_matmul(weight), tmp_path, r"initializer 'W' cannot be read: cannot reshape")


def test_constant_that_would_fold_to_gigabytes(tmp_path):
    """A few bytes of ConstantOfShape are not expanded to 2**27 floats at convert time: the node
    stays, and the engine has no such op."""
    shape = numpy_helper.from_array(np.array([2**24, 8], np.int64), "shape")
    model = _model([helper.make_node("ConstantOfShape", ["shape"], ["big"]),
                    helper.make_node("Add", ["x", "big"], ["y"])], [shape],
                   outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _refused(model, tmp_path, r"node 'ConstantOfShape_0' \(ConstantOfShape, opset 13\)")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 256 * 1024


def test_conv_weight_for_other_input_channels(tmp_path):
    """ONNX's shape inference lets it through; the engine would refuse the converted graph
    (fuzz finding)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    weight = numpy_helper.from_array(np.ones((2, 3, 3, 3), np.float32), "W")
    model = _model([helper.make_node("Conv", ["x", "W"], ["y"])], [weight], inputs=[x],
                   outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    _refused(model, tmp_path, r"node 'Conv_0' \(Conv, opset 13\): its weight of shape "
                              r"\[2, 3, 3, 3\] does not fit an input of 4 channels in 1 group")
