"""``xnorinfer demo``: the main job on the bundled example.

Converts the bundled digits BNN (trained by scripts/train_digits_bnn.py on scikit-learn's
8x8 digits), runs the packed model and the float ONNX under onnxruntime on the held-out test
set, and prints accuracy, agreement, file sizes and latency of both; and the accuracy of the
opt-in reduced-precision layers (``convert(..., first_layer=..., float_layers=...)``), which
are not exact.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from xnorinfer import console
from xnorinfer.bench.timing import median_seconds, ort_session

EXAMPLES = Path(__file__).parent / "examples"
MODEL = EXAMPLES / "digits_bnn.onnx"
TEST_SET = EXAMPLES / "digits_test.npz"
# The opt-in reduced-precision conversions shown next to the exact one: name -> convert() options.
REDUCED = {"int8 first layer": {"first_layer": "int8"},
           "bf16 first layer": {"first_layer": "bf16"},
           "bf16 float layers": {"float_layers": "bf16"}}


def _onnxruntime_session(num_threads: int):
    """onnxruntime on the float ONNX, or None when onnxruntime is not installed."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None
    return ort_session(MODEL, num_threads)


def run_demo(num_threads: int | None = None, keep_dir: str | None = None) -> int:
    """Run the demo; returns the process exit code (0 when the packed model ran)."""
    from xnorinfer.onnx import convert
    from xnorinfer.session import InferenceSession

    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(keep_dir) if keep_dir else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        packed_path = out_dir / "digits_bnn.xnor"
        console.info(f"converting {MODEL.name} -> {packed_path}")
        convert(MODEL, packed_path).report.print()

        data = np.load(TEST_SET)
        x, y = data["x"].astype(np.float32), data["y"]
        sess = InferenceSession(packed_path, num_threads=num_threads)
        input_name = sess.get_inputs()[0].name
        packed_logits = sess.run(None, {input_name: x})[0]
        packed_pred = packed_logits.argmax(axis=1)
        one = x[:1]

        rows = [["xnorinfer (packed)", f"{(packed_pred == y).mean():.2%}",
                 f"{packed_path.stat().st_size:,}",
                 _ms(median_seconds(lambda: sess.run(None, {input_name: one}), 200)),
                 _ms(median_seconds(lambda: sess.run(None, {input_name: x}), 20))]]
        reduced_agreement = {}
        for variant, options in REDUCED.items():
            path = out_dir / f"digits_bnn_{variant.replace(' ', '_')}.xnor"
            convert(MODEL, path, **options)
            reduced = InferenceSession(path, num_threads=num_threads)
            pred = reduced.run(None, {input_name: x})[0].argmax(axis=1)
            reduced_agreement[variant] = int((pred == packed_pred).sum())
            rows.append([f"xnorinfer, {variant}", f"{(pred == y).mean():.2%}",
                         f"{path.stat().st_size:,}",
                         _ms(median_seconds(lambda: reduced.run(None, {input_name: one}), 200)),
                         _ms(median_seconds(lambda: reduced.run(None, {input_name: x}), 20))])
        ort_sess = _onnxruntime_session(sess.num_threads)
        if ort_sess is None:
            console.info("onnxruntime is not installed: no float reference "
                         "(pip install onnxruntime, or install xnorinfer[demo])")
        else:
            ort_input = ort_sess.get_inputs()[0].name
            float_logits = ort_sess.run(None, {ort_input: x})[0]
            float_pred = float_logits.argmax(axis=1)
            rows.append(["onnxruntime fp32 (ONNX)", f"{(float_pred == y).mean():.2%}",
                         f"{MODEL.stat().st_size:,}",
                         _ms(median_seconds(lambda: ort_sess.run(None, {ort_input: one}), 200)),
                         _ms(median_seconds(lambda: ort_sess.run(None, {ort_input: x}), 20))])
        console.table(
            f"digits BNN, {len(y)} test images, {sess.isa} kernels, {sess.num_threads} threads",
            ["model", "accuracy", "file bytes", "latency batch 1", f"latency batch {len(y)}"],
            rows)
        if ort_sess is not None:
            same = int((packed_pred == float_pred).sum())
            diff = float(np.abs(packed_logits - float_logits).max())
            console.info(f"predictions identical on {same}/{len(y)} images; "
                         f"max |logit difference| {diff:.2e}; file "
                         f"{MODEL.stat().st_size / packed_path.stat().st_size:.1f}x smaller")
        for variant, same in reduced_agreement.items():
            console.info(f"{variant} (opt-in, not exact): predictions identical to the exact "
                         f"model's on {same}/{len(y)} images")
    return 0


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"
