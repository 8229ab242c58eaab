"""`qtt-seg predict` on bad input: a damaged run folder, clashing names and rotated photos."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from helpers import registry_with, run_cli
from qtt_core.testing import MockAdapter, make_shapes_data
from qtt_core.tuner import tune


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished run of the mock model (under a second)."""
    out = tmp_path_factory.mktemp("tuned") / "run"
    data = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32))
    tune(data, 10, out=out, registry=registry_with(MockAdapter()), model="mock", optimizer="random", max_epochs=1, n_candidates=2, device="cpu")
    return out


@pytest.fixture
def run(finished_run, tmp_path, monkeypatch):
    """A copy of the finished run, moved elsewhere; `qtt-seg predict` finds the mock model."""
    registry = registry_with(MockAdapter())
    monkeypatch.setattr("qtt_core.registry.Registry", lambda *args, **kwargs: registry)
    return shutil.copytree(finished_run, tmp_path / "run")


def _image(path, height=8, width=12, **save_options):
    Image.fromarray(np.full((height, width, 3), 90, np.uint8)).save(path, **save_options)
    return path


def _one_line_usage_error(result) -> str:
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr


def test_exif_orientation_is_applied_as_in_training(run, tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated 90 degrees: 12 x 8 (H x W)
    photo = _image(tmp_path / "photo.jpg", 8, 12, exif=exif)
    result = run_cli("predict", run, photo, "--out", tmp_path / "pred")
    assert result.returncode == 0, result
    assert np.asarray(Image.open(tmp_path / "pred" / "photo_mask.png")).shape == (12, 8)
    assert Image.open(tmp_path / "pred" / "photo_overlay.png").size == (8, 12)  # (W, H)


@pytest.mark.parametrize(
    ("content", "says"),
    [("{not json", "is damaged"), ("[1, 2]", "is incomplete"), ('{"weights": "weights"}', "is incomplete (no 'model')")],
)
def test_damaged_result_json_is_a_usage_error(run, tmp_path, content, says):
    (run / "result.json").write_text(content)
    message = _one_line_usage_error(run_cli("predict", run, _image(tmp_path / "a.png"), "--out", tmp_path / "pred"))
    assert f"{run / 'result.json'} {says}" in message and "re-run" in message
    assert not (tmp_path / "pred").exists()


def test_absent_result_json_or_weights_are_usage_errors(run, tmp_path):
    image = _image(tmp_path / "a.png")
    result = json.loads((run / "result.json").read_text())
    (run / "result.json").write_text(json.dumps({**result, "weights": str(tmp_path / "gone")}))
    shutil.rmtree(run / "weights")
    assert "holds no weights/ folder" in _one_line_usage_error(run_cli("predict", run, image, "--out", tmp_path / "pred"))
    (run / "result.json").unlink()
    assert "holds no result.json" in _one_line_usage_error(run_cli("predict", run, image, "--out", tmp_path / "pred"))
    assert not (tmp_path / "pred").exists()


def test_images_with_the_same_stem_are_refused_before_writing(run, tmp_path):
    (tmp_path / "sub").mkdir()
    images = [_image(tmp_path / "a.png"), _image(tmp_path / "b.png"), _image(tmp_path / "sub" / "a.jpg")]
    message = _one_line_usage_error(run_cli("predict", run, *images, "--out", tmp_path / "pred"))
    assert f"{images[0]} and {images[2]}" in message and "b.png" not in message
    assert not (tmp_path / "pred").exists()


def test_masks_are_written_in_the_values_the_model_was_tuned_on(tmp_path):
    """A model tuned on masks where Sky is id 0 and Road id 7 writes 0 and 7, not labels 1 and 2."""
    from qtt_core.adapter import TunedModel
    from qtt_core.predict import predict_files

    class Tuned(TunedModel):
        legend = {"kind": "ids", "background": None, "ignore": [255],
                  "classes": [{"name": "Sky", "label": 1, "value": 0}, {"name": "Road", "label": 2, "value": 7}]}

        def predict(self, image, boxes=None):
            labels = np.ones(image.shape[:2], np.uint8)
            labels[4:] = 2
            return labels

    written = predict_files(Tuned(), [_image(tmp_path / "street.png")], tmp_path / "out")
    saved = np.asarray(Image.open(written[0]))
    assert saved[:4].tolist() == np.zeros((4, 12)).tolist() and set(np.unique(saved[4:])) == {7}
    Tuned.legend = None  # a model without a legend writes its labels
    assert set(np.unique(np.asarray(Image.open(predict_files(Tuned(), [_image(tmp_path / "b.png")], tmp_path / "out2")[0])))) == {1, 2}
