"""ONNX to engine-graph converter: load and fold, recognize binarizers and binary layers,
lower to the op set of docs/ir.md, fuse, and report."""

from xnorinfer.onnx.converter import ConversionResult, convert
from xnorinfer.onnx.report import ConversionReport, LayerRow

__all__ = ["ConversionReport", "ConversionResult", "LayerRow", "convert"]
