"""Export, load_tuned and prediction on image files with a boxes file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from sam_test_configs import FAST

import qtt_sam
from qtt_core.checkpoints import load_into
from qtt_core.errors import UsageError
from qtt_core.testing import check_adapter
from qtt_sam import SamAdapter
from qtt_engine import IoUAccumulator, boxes_from_mask
from qtt_engine.export import TunedSegmenter
from qtt_sam.wrapper import SamWrapper

LORA = {**FAST, "lora": 1, "lora_rank": 4, "lora_targets": "qkv+proj", "train_prompt_encoder": 1, "lr": 5e-3}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, shapes):
    from qtt_core.adapter import SessionRequest

    root = tmp_path_factory.mktemp("export")
    request = SessionRequest(model="sam-tiny", data=shapes, workdir=root / "work", options={"export_merged": True})
    session = SamAdapter().open_session(request)
    session.train("c", LORA, to_epoch=2)
    out = session.export("c", root / "weights")
    test_score = session.score("c", "test")
    session.close()
    return out, test_score


def test_export_writes_small_trained_tensors_and_settings(exported):
    out, _ = exported
    meta = json.loads((out / "tuned.json").read_text())
    assert meta["wrapper"] == {"model": "sam-tiny", "checkpoint": None}
    assert meta["epoch"] == 2 and meta["input_side"] == 64 and meta["config"] == LORA
    assert meta["lora"]["r"] == 4 and "image_encoder" in meta["lora"]["target_modules"]
    tensors = load_file(str(out / "trainable.safetensors"))
    assert any(".lora_A." in k for k in tensors) and any(k.startswith("prompt_encoder.") for k in tensors)
    assert not any(k.startswith("mask_decoder.") for k in tensors) or LORA["train_mask_decoder"]
    assert not any("base_layer" in k for k in tensors)


def test_load_tuned_predicts_like_the_session(exported, shapes):
    out, test_score = exported
    tuned = qtt_sam.load_tuned(out)
    image = shapes.split("test").image(0)
    label = tuned.predict(image, boxes=[[8, 8, 40, 40]])
    assert label.shape == (64, 64) and label.dtype == np.uint8 and set(np.unique(label)) <= {0, 1}
    assert tuned.predict(image).shape == (64, 64)  # no boxes: the whole image
    assert set(np.unique(tuned.predict(image, boxes=[[8, 8, 40, 40, 3]]))) <= {0, 3}
    with pytest.raises(UsageError):
        tuned.predict(image, boxes=[[1, 2, 3]])
    # with the evaluation prompts, the loaded model scores what the session scored
    accumulator = IoUAccumulator(1)
    split = shapes.split("test")
    for index in range(len(split)):
        prompts = boxes_from_mask(split.mask(index))
        boxes = [[*box, label] for box, label in zip(prompts.boxes.tolist(), prompts.labels.tolist(), strict=True)]
        accumulator.update(tuned.predict(split.image(index), boxes), split.mask(index))
    assert accumulator.score() == pytest.approx(test_score, abs=1e-9)


def test_merged_weights_predict_the_same_without_peft(exported, shapes):
    out, _ = exported
    tuned = qtt_sam.load_tuned(out)
    plain = SamWrapper("sam-tiny").build()
    load_into(plain, load_file(str(out / "merged.safetensors")), out / "merged.safetensors")
    merged = TunedSegmenter(SamWrapper("sam-tiny"), plain, tuned.meta, torch.device("cpu"))
    image = shapes.split("test").image(1)
    with torch.no_grad():
        a = tuned.context.embed(tuned.model, [image], None, grad=False)[0]
        b = merged.context.embed(merged.model, [image], None, grad=False)[0]
    assert torch.allclose(a, b, atol=1e-4)
    assert np.array_equal(tuned.predict(image, [[5, 5, 50, 50]]), merged.predict(image, [[5, 5, 50, 50]]))


def test_predict_files_writes_masks_and_overlays(exported, shapes, tmp_path):
    out, _ = exported
    tuned = qtt_sam.load_tuned(out)
    paths = []
    for index in range(2):
        path = tmp_path / f"img{index}.png"
        Image.fromarray(shapes.split("test").image(index)).save(path)
        paths.append(path)
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({"img0.png": [[4, 4, 30, 30]], "img1": [[10, 10, 50, 40, 2]]}))
    written = qtt_sam.predict_files(tuned, paths, tmp_path / "pred", boxes)
    assert [p.name for p in written] == ["img0_mask.png", "img1_mask.png"]
    mask = np.asarray(Image.open(written[1]))
    assert mask.shape == (64, 64) and set(np.unique(mask)) <= {0, 2}
    overlay = np.asarray(Image.open(tmp_path / "pred" / "img0_overlay.png"))
    assert overlay.shape == (64, 64, 3)
    bad = tmp_path / "bad.json"
    bad.write_text('{"img0.png": [[1, 2]]}')
    with pytest.raises(UsageError, match="bad.json"):
        qtt_sam.predict_files(tuned, paths, tmp_path / "pred", bad)


def test_load_tuned_of_a_wrong_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="holds no tuned.json"):
        qtt_sam.load_tuned(tmp_path)


def test_conformance_with_sam_tiny():
    check_adapter(SamAdapter(), model="sam-tiny", config={**FAST, "lora": 1})


def test_registered_through_the_plugin_hook():
    from qtt_core.registry import Registry

    registry = Registry()
    assert isinstance(registry.adapter_for("sam-tiny"), SamAdapter)
