"""xnorinfer: fast CPU inference for binarized neural networks exported to ONNX.

    import xnorinfer
    xnorinfer.convert("model.onnx", "model.xnor")          # once
    sess = xnorinfer.InferenceSession("model.xnor")         # onnxruntime's calling convention
    outputs = sess.run(None, {"input": x})
"""

from xnorinfer._core import InvalidArgument, InvalidModel, OutOfMemory, UnsupportedIsa
from xnorinfer.build import build_info, get_available_isas
from xnorinfer.errors import ConversionError, ModelError
from xnorinfer.onnx import ConversionResult, convert
from xnorinfer.session import InferenceSession, NodeArg

__version__ = build_info()["version"]

__all__ = [
    "ConversionError",
    "ConversionResult",
    "InferenceSession",
    "InvalidArgument",
    "InvalidModel",
    "ModelError",
    "NodeArg",
    "OutOfMemory",
    "UnsupportedIsa",
    "build_info",
    "convert",
    "get_available_isas",
]
