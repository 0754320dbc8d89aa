"""``xnorinfer batch``: every input kind into a Parquet folder, the local and Ray engines writing
the same rows, and errors that name the file or row at fault."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import xnorinfer
from xnorinfer.cli import main
from xnorinfer.demo import MODEL

pytest.importorskip("pyarrow", reason="Parquet output needs pyarrow (xnorinfer[ray])")
from xnorinfer.batch import read_output  # noqa: E402

ROWS = 40
# Ray's own deprecation warnings (its internals call its deprecated settings) are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")


def run_batch(source: Path, out: Path, *extra: str) -> dict[str, np.ndarray]:
    assert main(["batch", str(MODEL), str(source), str(out), "--batch-size", "16", *extra]) == 0
    return read_output(out)


def test_an_npy_file_locally_and_on_ray_gives_the_same_rows(tmp_path, digit_images, digit_logits):
    np.save(tmp_path / "x.npy", digit_images)
    local = run_batch(tmp_path / "x.npy", tmp_path / "local")
    np.testing.assert_array_equal(local["row_id"], np.arange(ROWS))
    np.testing.assert_array_equal(local["logits"], digit_logits)
    pytest.importorskip("ray", reason="the Ray engine needs ray[data]")
    on_ray = run_batch(tmp_path / "x.npy", tmp_path / "ray", "--engine", "ray", "--actors", "2")
    assert on_ray.keys() == local.keys()
    for key in local:
        np.testing.assert_array_equal(on_ray[key], local[key])


def test_a_folder_of_npy_files_keeps_their_paths(tmp_path, digit_images, digit_logits):
    folder = tmp_path / "rows"
    folder.mkdir()
    for i in range(5):
        np.save(folder / f"{i:03d}.npy", digit_images[i])
    out = run_batch(folder, tmp_path / "out")
    assert [Path(p).name for p in out["path"]] == [f"{i:03d}.npy" for i in range(5)]
    np.testing.assert_array_equal(out["logits"], digit_logits[:5])


def test_a_parquet_tensor_column_and_an_npz(tmp_path, digit_images, digit_logits):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"pixels": digit_images.tolist()}), tmp_path / "x.parquet")
    out = run_batch(tmp_path / "x.parquet", tmp_path / "out", "--input-name", "pixels")
    np.testing.assert_array_equal(out["logits"], digit_logits)
    np.savez(tmp_path / "x.npz", input=digit_images, other=digit_images[:1])
    np.testing.assert_array_equal(run_batch(tmp_path / "x.npz", tmp_path / "npz")["logits"],
                                  digit_logits)


def test_a_folder_of_images_is_resized_and_normalized(tmp_path, digit_images):
    image = pytest.importorskip("PIL.Image")
    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (3, 16, 16), dtype=np.uint8)
    for i, p in enumerate(pixels):
        image.fromarray(p, mode="L").save(folder / f"{i}.png")
    out = run_batch(folder, tmp_path / "out", "--grayscale", "--image-size", "8,8",
                    "--mean", "0.5", "--std", "0.25")
    resized = np.stack([np.asarray(image.fromarray(p, mode="L").resize(
        (8, 8), image.Resampling.BILINEAR), np.float32) for p in pixels])
    x = ((resized / 255.0 - 0.5) / 0.25)[:, None].astype(np.float32)
    want = xnorinfer.InferenceSession(MODEL).run(None, {"input": x})[0]
    np.testing.assert_allclose(out["logits"], want, rtol=1e-5, atol=1e-5)
    assert [Path(p).name for p in out["path"]] == ["0.png", "1.png", "2.png"]


def test_a_row_of_another_shape_is_named(tmp_path, digit_images, capsys):
    folder = tmp_path / "rows"
    folder.mkdir()
    np.save(folder / "a.npy", digit_images[0])
    np.save(folder / "b.npy", digit_images[0][..., :4])
    assert main(["batch", str(MODEL), str(folder), str(tmp_path / "out")]) == 1
    assert "b.npy holds shape [1, 8, 4]" in capsys.readouterr().err


def test_rows_that_do_not_fit_the_model_are_named(tmp_path, digit_images, capsys):
    np.save(tmp_path / "x.npy", digit_images[..., :4])
    assert main(["batch", str(MODEL), str(tmp_path / "x.npy"), str(tmp_path / "out")]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "column 'input' has shape [1, 8, 4], the model expects [1, 8, 8] per row" in err


def test_unreadable_inputs_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("1 2 3")
    assert main(["batch", str(MODEL), str(tmp_path / "x.txt"), str(tmp_path / "out")]) == 1
    assert "cannot read" in capsys.readouterr().err
