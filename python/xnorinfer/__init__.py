"""xnorinfer: fast CPU inference for binarized neural networks exported to ONNX."""

from xnorinfer.errors import ConversionError, ModelError

__all__ = ["ConversionError", "ModelError"]
