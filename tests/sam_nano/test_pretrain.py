"""sam-nano's pretraining loop (resumable, deterministic) and the shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from qtt_sam.architectures import build_sam, get_architecture
from qtt_sam.weights import WEIGHTS_DIR
from tools.sam_nano import pretrain as pretraining
from tools.sam_nano.pretrain import PretrainConfig, export_weights, pretrain

SHIPPED = WEIGHTS_DIR / "sam_nano.safetensors"
TINY = PretrainConfig(model="sam-tiny", steps=3, batch_size=2, prompts_per_image=2, warmup_steps=1)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _same_weights(first: torch.nn.Module, second: torch.nn.Module) -> bool:
    a, b = first.state_dict(), second.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resumed_run_reaches_the_weights_of_a_straight_run(tmp_path):
    straight = pretrain(TINY, tmp_path / "straight")
    pretrain(TINY, tmp_path / "chunks", stop_at_step=2, checkpoint_every=1)
    assert torch.load(tmp_path / "chunks" / "last.pt", weights_only=True)["step"] == 2
    resumed = pretrain(TINY, tmp_path / "chunks", resume=True)
    assert _same_weights(straight, resumed)
    assert not _same_weights(straight, build_sam(get_architecture("sam-tiny"), seed=TINY.seed))  # it trained


def test_scenes_drawn_by_loader_processes_give_the_same_weights(tmp_path):
    """``--loader-workers`` (for a GPU, which waits on the CPU's scenes) changes speed, not weights."""
    straight = pretrain(TINY, tmp_path / "straight")
    pretrain(TINY, tmp_path / "workers", stop_at_step=2, checkpoint_every=1, loader_workers=2)
    resumed = pretrain(TINY, tmp_path / "workers", resume=True, loader_workers=2)
    assert _same_weights(straight, resumed)


def test_pretraining_on_a_missing_cuda_device_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit, match="no CUDA device"):
        pretraining.main(["--out", str(tmp_path), "--model", "sam-tiny", "--steps", "1", "--device", "cuda"])
    assert not (tmp_path / "last.pt").exists()


def test_resume_refuses_a_checkpoint_of_other_settings(tmp_path):
    pretrain(TINY, tmp_path, stop_at_step=1)
    with pytest.raises(SystemExit, match="last.pt"):
        pretrain(PretrainConfig(**{**TINY.__dict__, "seed": 1}), tmp_path, resume=True)
    with pytest.raises(SystemExit, match="last.pt"):
        pretrain(PretrainConfig(**{**TINY.__dict__, "network_share": 0.5}), tmp_path, resume=True)


def test_a_checkpoint_from_before_an_option_existed_resumes_with_the_value_it_had_then(tmp_path):
    pretrain(TINY, tmp_path, stop_at_step=1, checkpoint_every=1)
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    for option in ("network_share", "tissue_share", "loss_scale"):
        del state["config"][option]  # as written before the options were added
    torch.save(state, tmp_path / "last.pt")
    with pytest.raises(SystemExit, match="last.pt"):  # it ran with the half-size loss, not this
        pretrain(PretrainConfig(**{**TINY.__dict__, "loss_scale": 1.0}), tmp_path, resume=True, stop_at_step=2)
    pretrain(TINY, tmp_path, resume=True, stop_at_step=2)
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 2


def test_checkpoints_hold_plain_data_and_restore_numpy_rng(tmp_path):
    np.random.seed(7)
    pretrain(TINY, tmp_path, stop_at_step=1)  # the checkpoint of step 1 holds this NumPy RNG state
    expected = np.random.random(3)
    np.random.seed(8)
    state = torch.load(tmp_path / "last.pt", weights_only=True)  # no pickled objects (NumPy arrays) in it
    pretraining._restore_numpy_rng(state["numpy_rng"])
    assert np.array_equal(np.random.random(3), expected)


def test_resume_refuses_a_checkpoint_with_pickled_objects(tmp_path):
    torch.save({"numpy_rng": np.random.get_state()}, tmp_path / "last.pt")  # as older versions wrote it
    with pytest.raises(SystemExit, match=r"last.pt is no checkpoint of tensors and plain data"):
        pretrain(TINY, tmp_path, resume=True)


def test_training_loss_falls_on_one_repeated_batch():
    sam = build_sam(get_architecture("sam-tiny"), seed=0).train()
    batch = pretraining.make_batch(TINY, 0, get_architecture("sam-tiny").image_size)
    optimizer = torch.optim.AdamW(sam.parameters(), lr=2e-3)
    losses = []
    for _ in range(4):
        loss, parts = pretraining.train_step_loss(sam, *batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        assert set(parts) == {"single_loss", "multi_loss", "iou_mse", "single_iou"}
    assert losses[-1] < losses[0]


def test_batches_have_boxes_around_their_masks():
    images, boxes, masks = pretraining.make_batch(PretrainConfig(batch_size=2), 5, 256)
    assert images.shape == (2, 3, 256, 256) and float(images.max()) <= 255
    for box, mask in zip(boxes, masks):
        assert box.shape == (mask.shape[0], 4) and set(mask.unique().tolist()) <= {0.0, 1.0}
        for (x0, y0, x1, y1), target in zip(box.tolist(), mask):
            rows, cols = target.any(1).nonzero(), target.any(0).nonzero()
            assert abs(x0 - int(cols.min())) <= 16 and abs(x1 - int(cols.max()) - 1) <= 16  # jittered slightly
            assert abs(y0 - int(rows.min())) <= 16 and abs(y1 - int(rows.max()) - 1) <= 16


def test_exported_weights_are_fp16_with_segment_anything_keys(tmp_path):
    sam = build_sam(get_architecture("sam-tiny"), seed=0)
    path = tmp_path / "w.safetensors"
    export_weights(sam, path)
    state = load_file(str(path))
    assert all(t.dtype == torch.float16 for t in state.values())
    fresh = build_sam(get_architecture("sam-tiny"), seed=1)
    fresh.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    assert torch.allclose(fresh.mask_decoder.iou_token.weight, sam.mask_decoder.iou_token.weight, atol=1e-3)


@pytest.mark.skipif(not SHIPPED.is_file(), reason=f"{SHIPPED} is not there (made by python -m tools.sam_nano.pretrain)")
def test_shipped_weights_load_strictly_into_sam_nano_and_are_small():
    assert SHIPPED.stat().st_size < 15 * 1024 * 1024
    state = load_file(str(SHIPPED))
    assert all(t.dtype == torch.float16 for t in state.values())
    sam = build_sam(get_architecture("sam-nano"), seed=None)
    sam.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    assert all(torch.isfinite(t).all() for t in state.values())


def test_a_second_stage_starts_from_exported_weights_on_new_scenes(tmp_path):
    first = pretrain(TINY, tmp_path / "first")
    export_weights(first, tmp_path / "first.safetensors")
    second = PretrainConfig(**{**TINY.__dict__, "steps": 1, "lr": 0.0, "init_weights": str(tmp_path / "first.safetensors"),
                               "data_offset": 3})
    unchanged = pretrain(second, tmp_path / "second")  # lr 0: the weights are those it started from (fp16-rounded)
    assert all(torch.equal(v, first.state_dict()[k].half().float()) for k, v in unchanged.state_dict().items())
    size = get_architecture("sam-tiny").image_size
    assert torch.equal(pretraining.make_batch(second, 0, size)[0], pretraining.make_batch(TINY, 3, size)[0])
    assert not torch.equal(pretraining.make_batch(second, 0, size)[0], pretraining.make_batch(TINY, 0, size)[0])
