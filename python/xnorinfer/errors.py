"""Exceptions raised by xnorinfer's Python layer.

Errors raised inside the C++ engine arrive as the classes registered by the extension module
(``xnorinfer._core``): ``InvalidArgument`` and ``InvalidModel`` are ValueErrors,
``UnsupportedIsa`` is a RuntimeError. The classes here are for what Python checks itself.
"""


class ModelError(ValueError):
    """A model file that cannot be loaded: truncated, corrupted, hostile or from a newer version."""


class ConversionError(ValueError):
    """An ONNX model that cannot be converted; the message names the node, op type and opset."""
