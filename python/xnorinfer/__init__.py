"""xnorinfer: fast CPU inference for binarized neural networks exported to ONNX.

    import xnorinfer
    xnorinfer.convert("model.onnx", "model.xnor")          # once
    sess = xnorinfer.InferenceSession("model.xnor")         # onnxruntime's calling convention
    outputs = sess.run(None, {"input": x})

    import xnorinfer as ort                                 # or, for onnxruntime code as it is
    sess = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
"""

from xnorinfer._core import InvalidArgument, InvalidModel, OutOfMemory, UnsupportedIsa
from xnorinfer.build import build_info, get_available_isas
from xnorinfer.errors import ConversionError, ModelError
from xnorinfer.onnx import ConversionResult, convert
from xnorinfer.ort_compat import ModelMetadata, RunOptions, SessionOptions
from xnorinfer.peak import peak_macs_per_second
from xnorinfer.session import InferenceSession, NodeArg, NodeTime

__version__ = build_info()["version"]

__all__ = [
    "ConversionError",
    "ConversionResult",
    "InferenceSession",
    "InvalidArgument",
    "InvalidModel",
    "ModelError",
    "ModelMetadata",
    "NodeArg",
    "NodeTime",
    "OutOfMemory",
    "RunOptions",
    "SessionOptions",
    "UnsupportedIsa",
    "build_info",
    "convert",
    "get_available_isas",
    "get_available_providers",
    "peak_macs_per_second",
]


def get_available_providers() -> list[str]:
    """onnxruntime's function: the execution providers this build has."""
    return ["CPUExecutionProvider"]
