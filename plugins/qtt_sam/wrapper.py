"""The SAM-specific part: build, load weights, embed images, decode masks from boxes or
without prompts (one output token per class, :mod:`qtt_engine.dense`).

Everything else (prompts, losses, loop, freeze-thaw, evaluation, export) is the engine's
(:mod:`qtt_engine`), written against :class:`qtt_engine.PromptableModel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from segment_anything.modeling import MaskDecoder, Sam

from qtt_engine.dense import CLASS_TOKENS, add_class_tokens, class_masks
from qtt_sam.architectures import build_sam, get_architecture
from qtt_sam.weights import load_weights, weights_path

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
        path = weights_path(self.arch, self.checkpoint)  # first: a missing file fails fast
        sam = build_sam(self.arch, seed=0)
        load_weights(sam, path)
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

    def decode(self, model: Sam, embeddings: Sequence[torch.Tensor], boxes: Sequence[torch.Tensor], input_side: int) -> list[torch.Tensor]:
        """Per image, ``N_i x 4s x 4s`` mask logits (SAM's single-mask output) for its boxes.

        All prompts of all images go through the mask decoder as one batch.
        """
        counts = [len(b) for b in boxes]
        scale = self.input_size / input_side  # the prompt encoder normalises by the native size
        sparse, dense = model.prompt_encoder(points=None, boxes=torch.cat(list(boxes)) * scale, masks=None)
        grid = tuple(embeddings[0].shape[-2:])
        per_prompt = torch.cat([e.unsqueeze(0).expand(n, -1, -1, -1) for e, n in zip(embeddings, counts, strict=True)])
        image_pe = model.prompt_encoder.pe_layer(grid).unsqueeze(0)
        masks = _single_masks(model.mask_decoder, per_prompt, image_pe, sparse, dense[..., : grid[0], : grid[1]])
        return list(masks.split(counts))

    def add_class_head(self, model: Sam, num_outputs: int) -> str:
        """Class tokens in the mask decoder (:func:`qtt_engine.dense.add_class_tokens`); the whole decoder trains."""
        add_class_tokens(model.mask_decoder, num_outputs)
        return self.trainable_parts["train_mask_decoder"]

    def decode_dense(self, model: Sam, embeddings: Sequence[torch.Tensor], input_side: int) -> list[torch.Tensor]:
        """Per image, ``(K+1) x 4s x 4s`` class logits with no prompt (the no-mask dense embedding)."""
        src = torch.stack(list(embeddings))
        b, c, h, w = src.shape
        decoder = model.mask_decoder
        image_pe = model.prompt_encoder.pe_layer((h, w)).unsqueeze(0).expand(b, -1, -1, -1)
        dense = model.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1)
        class_tokens = getattr(decoder, CLASS_TOKENS).weight
        tokens = torch.cat([decoder.iou_token.weight, class_tokens]).unsqueeze(0).expand(b, -1, -1)
        hs, src = decoder.transformer(src + dense, image_pe, tokens)
        upscaled = decoder.output_upscaling(src.transpose(1, 2).reshape(b, c, h, w))
        return list(class_masks(decoder, hs[:, 1 : 1 + class_tokens.shape[0], :], upscaled).unbind(0))

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_name, "checkpoint": self.checkpoint}


def _single_masks(
    decoder: MaskDecoder, src: torch.Tensor, image_pe: torch.Tensor, sparse: torch.Tensor, dense: torch.Tensor
) -> torch.Tensor:
    """``MaskDecoder.predict_masks`` with the image embedding given per prompt, first mask only.

    segment-anything's version repeats one image's embedding for all prompts; this one takes
    ``N x C x s x s`` embeddings (one per prompt, from different images) and returns
    ``N x 4s x 4s`` logits of the first mask token (what ``multimask_output=False`` returns).
    """
    output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight], dim=0)
    tokens = torch.cat((output_tokens.unsqueeze(0).expand(sparse.size(0), -1, -1), sparse), dim=1)
    src = src + dense
    b, c, h, w = src.shape
    hs, src = decoder.transformer(src, image_pe.expand(b, -1, -1, -1), tokens)
    upscaled = decoder.output_upscaling(src.transpose(1, 2).reshape(b, c, h, w))
    hyper = decoder.output_hypernetworks_mlps[0](hs[:, 1, :])
    b, c, h, w = upscaled.shape
    return (hyper.unsqueeze(1) @ upscaled.reshape(b, c, h * w)).reshape(b, h, w)


def _resized_pos_embed(pos_embed: torch.Tensor, grid: Sequence[int]) -> torch.Tensor:
    """``1 x h x w x C`` absolute position embedding resized to ``grid`` (bicubic)."""
    if tuple(pos_embed.shape[1:3]) == tuple(grid):
        return pos_embed
    resized = F.interpolate(pos_embed.permute(0, 3, 1, 2), size=tuple(grid), mode="bicubic", align_corners=False)
    return resized.permute(0, 2, 3, 1)
