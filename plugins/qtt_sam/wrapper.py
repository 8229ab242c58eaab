"""The SAM-specific part: build, load weights, embed images, decode masks from boxes.

Everything else (prompts, losses, loop, freeze-thaw, evaluation, export) is the engine's
(:mod:`qtt_sam.engine`), written against :class:`qtt_sam.engine.PromptableModel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from segment_anything.modeling import Sam

from qtt_sam.architectures import build_sam, get_architecture
from qtt_sam.weights import resolve_weights

__all__ = ["SamWrapper"]

_TARGET_PATTERNS = {"qkv": r"attn\.qkv", "proj": r"attn\.proj", "mlp": r"mlp\.lin[12]"}


class SamWrapper:
    """A segment-anything model by name, for the training engine.

    Args:
        model: ``sam-vit-h``, ``sam-vit-l``, ``sam-vit-b``, ``sam-nano`` or ``sam-tiny``.
        checkpoint: a local weights file (official layout); None fetches the model's default
            (``sam-tiny``: seeded random weights).
    """

    trainable_parts = {"train_mask_decoder": "mask_decoder.", "train_prompt_encoder": "prompt_encoder."}
    part_defaults = {"train_mask_decoder": 1, "train_prompt_encoder": 0}

    def __init__(self, model: str, checkpoint: str | Path | None = None):
        self.arch = get_architecture(model)
        self.model_name = model
        self.checkpoint = str(checkpoint) if checkpoint is not None else None
        self.input_size = self.arch.image_size
        self.size_multiple = self.arch.patch_size
        self.num_encoder_blocks = self.arch.encoder_depth

    def build(self) -> Sam:
        """The model with its weights (float32, CPU, eval mode); see :mod:`qtt_sam.weights`."""
        sam = build_sam(self.arch, seed=0)
        resolve_weights(self.arch, sam, self.checkpoint)
        return sam.eval()

    def lora_target_regex(self, targets: Sequence[str], blocks: Sequence[int]) -> str:
        """E.g. ``image_encoder\\.blocks\\.(?:0|1)\\.(?:attn\\.qkv|mlp\\.lin[12])``: encoder blocks only."""
        kinds = "|".join(_TARGET_PATTERNS[t] for t in targets)
        indices = "|".join(str(b) for b in blocks)
        return rf"image_encoder\.blocks\.(?:{indices})\.(?:{kinds})"

    def embed(self, model: Sam, images: torch.Tensor) -> list[torch.Tensor]:
        """``B`` embeddings ``C x s x s`` of ``B x 3 x S x S`` images (``s = S / 16``).

        Smaller inputs than the native size interpolate the absolute position embedding
        (bicubic); the relative position tables of global attention interpolate themselves.
        """
        encoder = model.image_encoder
        pixels = (images - model.pixel_mean) / model.pixel_std
        tokens = encoder.patch_embed(pixels)
        if encoder.pos_embed is not None:
            tokens = tokens + _resized_pos_embed(encoder.pos_embed, tokens.shape[1:3])
        for block in encoder.blocks:
            tokens = block(tokens)
        embeddings = encoder.neck(tokens.permute(0, 3, 1, 2))
        return list(embeddings.unbind(0))

    def decode(self, model: Sam, embedding: torch.Tensor, boxes: torch.Tensor, input_side: int) -> torch.Tensor:
        """``N x 4s x 4s`` mask logits (single-mask output) for ``N`` boxes in input pixels."""
        scale = self.input_size / input_side  # the prompt encoder normalises by the native size
        sparse, dense = model.prompt_encoder(points=None, boxes=boxes * scale, masks=None)
        grid = embedding.shape[-2:]
        dense = dense[..., : grid[0], : grid[1]]
        image_pe = model.prompt_encoder.pe_layer(tuple(grid)).unsqueeze(0).to(embedding.dtype)
        masks, _ = model.mask_decoder(
            image_embeddings=embedding.unsqueeze(0),
            image_pe=image_pe,
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=False,
        )
        return masks[:, 0]

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_name, "checkpoint": self.checkpoint}


def _resized_pos_embed(pos_embed: torch.Tensor, grid: Sequence[int]) -> torch.Tensor:
    """``1 x h x w x C`` absolute position embedding resized to ``grid`` (bicubic)."""
    if tuple(pos_embed.shape[1:3]) == tuple(grid):
        return pos_embed
    resized = F.interpolate(pos_embed.permute(0, 3, 1, 2), size=tuple(grid), mode="bicubic", align_corners=False)
    return resized.permute(0, 2, 3, 1)
