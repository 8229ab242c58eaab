"""The engine trains any PromptableModel: a toy non-SAM wrapper goes through the whole cycle."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sam_test_configs import FAST
from torch import nn

from qtt_core.adapter import SessionRequest
from qtt_engine import EngineSession, PromptableModel, load_tuned


class _ToyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 4, stride=4)
        self.blocks = nn.ModuleList([nn.ModuleDict({"mlp": nn.Linear(8, 8)}) for _ in range(2)])
        self.head = nn.Conv2d(9, 1, 3, padding=1)


class _ToyWrapper:
    """Patch features + a box channel -> mask logits; LoRA may go on the blocks' ``mlp``."""

    model_name = "toy"
    input_size = 64
    size_multiple = 4
    num_encoder_blocks = 2
    trainable_parts = {"train_mask_decoder": "head."}
    part_defaults = {"train_mask_decoder": 1}

    def build(self) -> nn.Module:
        torch.manual_seed(0)
        return _ToyNet().eval()

    def lora_target_regex(self, targets: Sequence[str], blocks: Sequence[int]) -> str:
        assert list(targets) == ["mlp"]
        return rf"blocks\.(?:{'|'.join(map(str, blocks))})\.mlp"

    def embed(self, model: nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
        tokens = model.stem(images / 255.0).permute(0, 2, 3, 1)
        for block in model.blocks:
            tokens = tokens + block["mlp"](tokens)
        return list(tokens.permute(0, 3, 1, 2).unbind(0))

    def decode(self, model: nn.Module, embeddings, boxes, input_side: int) -> list[torch.Tensor]:
        out = []
        for embedding, image_boxes in zip(embeddings, boxes, strict=True):
            grid = embedding.shape[-1]
            cells = (torch.arange(grid, dtype=torch.float32) + 0.5) * input_side / grid
            inside = [
                ((cells[None, :] >= b[0]) & (cells[None, :] <= b[2]) & (cells[:, None] >= b[1]) & (cells[:, None] <= b[3])).float()
                for b in image_boxes.tolist()
            ]
            stacked = torch.cat([embedding.expand(len(inside), -1, -1, -1), torch.stack(inside)[:, None]], dim=1)
            out.append(model.head(stacked)[:, 0])
        return out

    def describe(self) -> dict:
        return {"model": "toy"}


def test_toy_wrapper_follows_the_protocol():
    assert isinstance(_ToyWrapper(), PromptableModel)


def test_engine_trains_resumes_and_exports_a_non_sam_model(shapes, tmp_path):
    config = {**FAST, "lora": 1, "lora_targets": "mlp", "lora_rank": 2, "resolution_scale": 1.0}
    del config["train_prompt_encoder"]  # this model has no such part
    request = SessionRequest(model="toy", data=shapes, workdir=tmp_path / "work")
    session = EngineSession(_ToyWrapper(), request)
    reports = session.train("t", config, to_epoch=2)
    assert [r.epoch for r in reports] == [1, 2]
    trainable = set(session._live[1].trainable_names())
    assert trainable == {f"blocks.{b}.mlp.lora_{ab}.default.weight" for b in (0, 1) for ab in "AB"} | {"head.weight", "head.bias"}
    session.close()

    resumed = EngineSession(_ToyWrapper(), request)
    assert [r.epoch for r in resumed.train("t", config, to_epoch=3)] == [3]
    out = resumed.export("t", tmp_path / "weights")
    tuned = load_tuned(out, lambda description: _ToyWrapper())
    label = tuned.predict(shapes.split("test").image(0), boxes=[[4, 4, 40, 40]])
    assert label.shape == (64, 64) and label.dtype == np.uint8
    resumed.close()
