"""Write the fuzzers' seed corpus from real files: model files converted from the small
PyTorch fixtures and the bundled demo, the small ONNX fixtures, and a libFuzzer dictionary of
the IR's op and attribute names.

    python fuzz/make_corpus.py [out_dir]      # default fuzz/corpus; about 1 MB, not committed
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from xnorinfer import ir, model_file
from xnorinfer.onnx import convert

ROOT = Path(__file__).resolve().parents[1]
ONNX_SEEDS = sorted((ROOT / "tests" / "fixtures" / "torch").glob("*/model.onnx")) + [
    ROOT / "python" / "xnorinfer" / "examples" / "digits_bnn.onnx"]
MAX_SEED_BYTES = 70_000  # larger seeds make every fuzz iteration slow
DICTIONARY_WORDS = ["float32", "bits", "float", "binary", "bwn", "uint64", "inputs", "outputs",
                    "values", "nodes", "attrs", "constants", "shape", "dtype", "offset", "nbytes",
                    "crc32", "name", "op"]


def tiny_bnn() -> onnx.ModelProto:
    """A few-kB XNOR net: Sign -> Conv(±alpha) -> BatchNorm -> Sign -> Conv -> Relu -> MaxPool
    -> Flatten -> Gemm -> Softmax, so that mutations mostly hit structure, not weight bytes."""
    rng = np.random.default_rng(0)

    def weight(shape):
        return (np.where(rng.random(shape) < 0.5, -1.0, 1.0) * 0.5).astype(np.float32)

    constants = {"w1": weight((4, 3, 3, 3)), "w2": weight((6, 4, 3, 3)), "fc": weight((5, 24)),
                 "scale": np.ones(4, np.float32), "bias": np.zeros(4, np.float32),
                 "mean": np.zeros(4, np.float32), "var": np.ones(4, np.float32)}
    nodes = [
        helper.make_node("Sign", ["x"], ["s1"]),
        helper.make_node("Conv", ["s1", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "scale", "bias", "mean", "var"], ["b1"]),
        helper.make_node("Sign", ["b1"], ["s2"]),
        helper.make_node("Conv", ["s2", "w2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc"], ["g"], transB=1),
        helper.make_node("Softmax", ["g"], ["y"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_bnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
        [numpy_helper.from_array(value, name) for name, value in constants.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def main(out: Path) -> None:
    (out / "xnor").mkdir(parents=True, exist_ok=True)
    (out / "onnx").mkdir(parents=True, exist_ok=True)
    for path in ONNX_SEEDS:
        name = path.parent.name
        if (path.parent / "model.onnx.data").exists():
            continue  # its weights live beside it; the fuzzer feeds single files
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = convert(path).graph
        graph.metadata = {}  # the conversion report is large and the loader ignores it
        data = model_file.dumps(graph)
        if len(data) <= MAX_SEED_BYTES:
            (out / "xnor" / f"{name}.xnor").write_bytes(data)
        if path.stat().st_size <= MAX_SEED_BYTES:
            (out / "onnx" / f"{name}.onnx").write_bytes(path.read_bytes())
    tiny = tiny_bnn()
    (out / "onnx" / "tiny_bnn.onnx").write_bytes(tiny.SerializeToString())
    (out / "xnor" / "tiny_bnn.xnor").write_bytes(model_file.dumps(convert(tiny).graph))
    words = set(DICTIONARY_WORDS) | set(ir.ALL_OPS) | set(ir.INFO_ATTRS)
    words |= {attr for attrs in ir.OP_ATTRS.values() for attr in attrs}
    (out / "xnor.dict").write_text("".join(f'"{word}"\n' for word in sorted(words)))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "corpus")
