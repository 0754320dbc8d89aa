"""What onnxruntime users pass to and call on an InferenceSession besides ``run``: session
options, execution providers, model metadata; and loading an ONNX model (a path, its bytes or a
``ModelProto``) by converting it in memory, through the cache (:mod:`xnorinfer.model_cache`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from xnorinfer import ir, model_cache, model_file
from xnorinfer.errors import ModelError

SUPPORTED_PROVIDERS = ("CPUExecutionProvider",)


class SessionOptions:
    """onnxruntime's ``SessionOptions``, of which xnorinfer reads ``intra_op_num_threads``
    (0, the default: all cores). Other attributes onnxruntime code sets
    (``graph_optimization_level``, ``inter_op_num_threads``, ...) are accepted and ignored.
    An ``onnxruntime.SessionOptions`` is accepted as well."""

    def __init__(self) -> None:
        self.intra_op_num_threads = 0


class RunOptions:
    """onnxruntime's ``RunOptions``, accepted by ``run`` and ignored (xnorinfer has no per-run
    log level, tag or termination flag)."""


@dataclass(frozen=True)
class ModelMetadata:
    """onnxruntime's ``ModelMetadata``: the ONNX model's own description (a model converted
    before xnorinfer recorded it reports the converter as producer and nothing else)."""

    producer_name: str = ""
    graph_name: str = ""
    domain: str = ""
    description: str = ""
    graph_description: str = ""
    version: int = 0
    custom_metadata_map: dict[str, str] = field(default_factory=dict)


def check_providers(providers: Sequence[Any] | None,
                    provider_options: Sequence[dict] | None) -> None:
    """Accept what onnxruntime code passes for the CPU: no providers, or only
    ``CPUExecutionProvider`` (a name or a ``(name, options)`` pair), with empty options."""
    names, options = [], list(provider_options or [])
    for entry in providers or []:
        if isinstance(entry, (tuple, list)) and len(entry) == 2:
            names.append(entry[0])
            options.append(entry[1])
        else:
            names.append(entry)
    unsupported = [name for name in names if name not in SUPPORTED_PROVIDERS]
    if unsupported:
        raise ValueError(f"xnorinfer runs on the CPU only: providers {unsupported} are not "
                         f"supported; use {list(SUPPORTED_PROVIDERS)} or none")
    if any(options):
        raise ValueError(f"CPUExecutionProvider takes no options in xnorinfer, got {options}")


def threads_from(sess_options: Any) -> int | None:
    """``intra_op_num_threads`` of an xnorinfer or onnxruntime SessionOptions (None: default)."""
    if sess_options is None:
        return None
    threads = getattr(sess_options, "intra_op_num_threads", 0)
    return threads or None


def load_model(source: Any) -> tuple[ir.Graph, bool]:
    """The engine graph of a model file, or of an ONNX model converted (or taken from the
    cache); the flag says whether it came from ONNX."""
    import onnx

    if isinstance(source, onnx.ModelProto):
        return _from_onnx(source, source.SerializeToString(), "the ModelProto"), True
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if data.startswith(model_file.MAGIC):
            return model_file.loads(data), False
        return _from_onnx(None, data, "the bytes"), True
    path = Path(os.fspath(source))
    try:
        with open(path, "rb") as f:
            head = f.read(len(model_file.MAGIC))
    except OSError as error:
        raise ModelError(f"cannot read the model file '{path}': {error.strerror}") from None
    if head == model_file.MAGIC:
        return model_file.load(path), False
    return _from_onnx(path, path.read_bytes(), f"'{path}'"), True


def _parse_onnx(data: bytes, what: str) -> Any:
    import onnx

    try:
        proto = onnx.load_from_string(data)
        if not proto.HasField("graph"):  # any bytes that parse, empty ones too
            raise ValueError("no graph")
        return proto
    except Exception as error:  # protobuf's DecodeError, and anything else it raises
        raise ModelError(f"{what}: not an xnorinfer model file (no magic {model_file.MAGIC!r}) "
                         f"and not an ONNX model ({error})") from None


def _from_onnx(model: Any, onnx_bytes: bytes, what: str) -> ir.Graph:
    """The cached conversion of ``onnx_bytes``, else their conversion: of ``model`` (a path,
    so that external data beside it is found, or a ModelProto), or of the bytes parsed."""
    from xnorinfer.build import build_info
    from xnorinfer.onnx import convert

    name = model_cache.entry_name(onnx_bytes, build_info()["version"])
    cached = model_cache.read(name)
    if cached is not None:
        try:
            return model_file.loads(cached)
        except ModelError:
            pass  # a damaged entry: convert again and replace it
    if model is None or isinstance(model, Path):  # bytes not known to be ONNX yet
        parsed = _parse_onnx(onnx_bytes, what)
        model = parsed if model is None else model
    graph = convert(model).graph
    model_cache.write(name, model_file.dumps(graph))
    return graph


def model_metadata(graph: ir.Graph) -> ModelMetadata:
    recorded = graph.metadata.get("onnx_model")
    if not isinstance(recorded, dict):
        return ModelMetadata(producer_name=str(graph.metadata.get("producer", "")))
    return ModelMetadata(**{key: recorded[key] for key in ModelMetadata.__dataclass_fields__
                            if key in recorded})
