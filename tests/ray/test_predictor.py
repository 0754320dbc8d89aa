"""Ray Data batch inference (xnorinfer.ray): Predictor and predict() on a local 2-CPU Ray, the
outputs equal to an InferenceSession's, pass-through columns, a restarted actor's batch
retried with every row scored exactly once, and a bad row named in a clear error."""

from __future__ import annotations

import os

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray Data tests need ray[data] (xnorinfer[ray])")
pytest.importorskip("ray.data")

import xnorinfer  # noqa: E402
from xnorinfer.demo import MODEL  # noqa: E402
from xnorinfer.ray import Predictor, map_batches_args, model_bytes, predict  # noqa: E402

ROWS = 96
# Ray's own deprecation warnings (its internals call its deprecated settings) are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, object_store_memory=100 * 2**20, include_dashboard=False,
             log_to_driver=False)
    yield
    ray.shutdown()


def dataset(images):
    return ray.data.from_items([{"id": i, "input": image} for i, image in enumerate(images)])


def collect(ds) -> dict[str, np.ndarray]:
    rows = sorted(ds.take_all(), key=lambda row: row["id"])
    return {key: np.stack([row[key] for row in rows]) for key in rows[0]}


def test_predict_scores_every_row_and_passes_other_columns_through(digit_images, digit_logits):
    out = collect(predict(dataset(digit_images), MODEL, batch_size=16, actors=2))
    np.testing.assert_array_equal(out["id"], np.arange(ROWS))
    np.testing.assert_array_equal(out["logits"], digit_logits)
    np.testing.assert_array_equal(out["input"], digit_images)


def test_the_model_travels_as_bytes(digit_images, digit_logits, tmp_path):
    data = model_bytes(MODEL)  # converted once, here
    assert data.startswith(xnorinfer.model_file.MAGIC)
    predictor = Predictor(data)
    batch = predictor({"id": np.arange(4), "input": digit_images[:4]})
    np.testing.assert_array_equal(batch["logits"], digit_logits[:4])


def crash_once(marker):
    """A Predictor whose actor process dies mid-batch, once (the marker file remembers)."""

    class CrashOnce(Predictor):
        def __call__(self, batch):
            if not marker.exists():
                marker.touch()
                os._exit(1)
            return super().__call__(batch)

    return CrashOnce


def test_a_killed_actor_is_restarted_and_its_batch_retried(digit_images, digit_logits, tmp_path):
    marker = tmp_path / "crashed"
    CrashOnce = crash_once(marker)
    args = map_batches_args(MODEL, batch_size=16, actors=2)
    out = collect(dataset(digit_images).map_batches(CrashOnce, **args))
    assert marker.exists()
    np.testing.assert_array_equal(out["id"], np.arange(ROWS))  # every row exactly once
    np.testing.assert_array_equal(out["logits"], digit_logits)


# Ray 2.60 deprecates extra remote arguments to map_batches, yet names max_restarts=0 as the
# way to turn actor restarts off.
@pytest.mark.filterwarnings("ignore::ray.util.annotations.RayDeprecationWarning")
def test_without_restarts_a_killed_actor_fails_the_job_cleanly(digit_images, tmp_path):
    args = map_batches_args(MODEL, batch_size=16, actors=1)
    ds = dataset(digit_images).map_batches(crash_once(tmp_path / "crashed"), **args, max_restarts=0)
    with pytest.raises(Exception, match="(?i)actor.*(died|dead|unexpectedly)"):
        ds.take_all()


def test_a_bad_row_is_an_error_naming_it(digit_images):
    rows = [{"id": i, "input": digit_images[i]} for i in range(8)]
    rows[5]["input"] = np.zeros((1, 7, 8), np.float32)
    ds = ray.data.from_items(rows)
    with pytest.raises(Exception, match=r"row 5 \(id\) of column 'input' has shape \[1, 7, 8\]"):
        predict(ds, MODEL, batch_size=8, actors=1).take_all()


def test_older_ray_versions_get_concurrency(monkeypatch):
    assert "compute" in map_batches_args(MODEL, actors=3)
    monkeypatch.setattr(ray, "__version__", "2.40.0")
    args = map_batches_args(MODEL, actors=3)
    assert args["concurrency"] == 3 and "compute" not in args


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="must be positive"):
        map_batches_args(MODEL, actors=0)
    with pytest.raises(ValueError, match="input_names needs one column per model input"):
        Predictor(model_bytes(MODEL), input_names=["a", "b"])
