"""The SAM 2-specific part: build, load weights, embed images, decode masks from boxes or
without prompts (one output token per class, :mod:`qtt_engine.dense`).

Everything else (prompts, losses, loop, freeze-thaw, evaluation, export) is the SAM
plugin's engine (:mod:`qtt_engine`), written against its ``PromptableModel`` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from qtt_core.checkpoints import fetch_checkpoint, load_into, load_state_dict
from qtt_engine.dense import CLASS_TOKENS, add_class_tokens, class_masks
from qtt_sam2.architectures import Sam2Architecture, get_architecture, model_config

if TYPE_CHECKING:
    from sam2.modeling.sam2_base import SAM2Base

__all__ = ["Sam2Wrapper", "build_sam2_model", "weights_path"]

_TARGET_PATTERNS = {"qkv": r"attn\.qkv", "proj": r"attn\.proj", "mlp": r"mlp\.layers\.[01]"}
#: ImageNet mean and std of SAM 2's image transform, for images in [0, 255]
_PIXEL_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
_PIXEL_STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)


class Sam2Wrapper:
    """A SAM 2 model by name, for the training engine of :mod:`qtt_engine`.

    Args:
        model: ``sam2.1-hiera-large``, ``-base-plus``, ``-small``, ``-tiny`` or ``sam2-test``.
        checkpoint: a local weights file (official layout ``{"model": state_dict}``, a bare
            state dict, or ``.safetensors``); None fetches the model's official weights
            (``sam2-test``: seeded random weights).
    """

    trainable_parts = {"train_mask_decoder": "sam_mask_decoder.", "train_prompt_encoder": "sam_prompt_encoder."}
    #: as in the paper's recorded runs (the ``qtt-seg-sam2`` space has no such keys): both trained
    part_defaults = {"train_mask_decoder": 1, "train_prompt_encoder": 1}
    #: Hiera's coarsest feature map is 1/32 of the input; the FPN doubles it exactly
    size_multiple = 32

    def __init__(self, model: str, checkpoint: str | Path | None = None):
        self.arch = get_architecture(model)
        self.model_name = model
        self.checkpoint = str(checkpoint) if checkpoint is not None else None
        self.input_size = self.arch.image_size
        self.num_encoder_blocks = self.arch.num_blocks

    def build(self) -> SAM2Base:
        """The model with its weights (float32, CPU, eval mode)."""
        path = weights_path(self.arch, self.checkpoint)  # first: a missing file fails fast
        model = build_sam2_model(self.arch, seed=0)
        if path is not None:
            load_into(model, load_state_dict(path), path)
        return model.eval()

    def lora_target_regex(self, targets: Sequence[str], blocks: Sequence[int]) -> str:
        """E.g. ``image_encoder\\.trunk\\.blocks\\.(?:0|1)\\.(?:attn\\.qkv|mlp\\.layers\\.[01])``.

        Anchored at the trunk, so the mask decoder's ``mlp.layers.*`` never match.
        """
        kinds = "|".join(_TARGET_PATTERNS[t] for t in targets)
        indices = "|".join(str(b) for b in blocks)
        return rf"image_encoder\.trunk\.blocks\.(?:{indices})\.(?:{kinds})"

    def embed(self, model: SAM2Base, images: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
        """Per image ``(embedding, high_res_s0, high_res_s1)`` as ``SAM2ImagePredictor.set_image``.

        Args:
            images: ``B x 3 x S x S`` RGB in [0, 255].

        Returns:
            ``B`` tuples: ``C x S/16 x S/16`` image embedding (``no_mem_embed`` added) and the
            decoder-projected high-resolution features ``C/8 x S/4 x S/4`` and
            ``C/4 x S/8 x S/8``. Feature sizes come from the input, not the 1024 px defaults.
        """
        mean = images.new_tensor(_PIXEL_MEAN).view(1, 3, 1, 1)
        std = images.new_tensor(_PIXEL_STD).view(1, 3, 1, 1)
        backbone_out = model.forward_image((images - mean) / std)
        _, vision_feats, _, feat_sizes = model._prepare_backbone_features(backbone_out)
        if model.directly_add_no_mem_embed:
            vision_feats[-1] = vision_feats[-1] + model.no_mem_embed
        batch = images.shape[0]
        maps = [feat.permute(1, 2, 0).reshape(batch, -1, *size) for feat, size in zip(vision_feats, feat_sizes, strict=True)]
        s0, s1, embedding = maps
        return list(zip(embedding.unbind(0), s0.unbind(0), s1.unbind(0), strict=True))

    def decode(
        self, model: SAM2Base, embeddings: Sequence[tuple[torch.Tensor, ...]], boxes: Sequence[torch.Tensor], input_side: int
    ) -> list[torch.Tensor]:
        """Per image, ``N_i x S/4 x S/4`` mask logits (the first mask token) for its boxes.

        As ``SAM2ImagePredictor._predict``: each box is two corner points labelled 2 and 3;
        all prompts of all images go through the mask decoder as one batch.
        """
        counts = [len(b) for b in boxes]
        scale = self.input_size / input_side  # the prompt encoder normalises by the native size
        corners = torch.cat(list(boxes)).reshape(-1, 2, 2) * scale
        labels = torch.tensor([2, 3], device=corners.device).repeat(corners.shape[0], 1)
        encoder = model.sam_prompt_encoder
        sparse, dense = encoder(points=(corners, labels), boxes=None, masks=None)
        per_prompt = [torch.stack([e[level] for e, n in zip(embeddings, counts, strict=True) for _ in range(n)]) for level in range(3)]
        grid = tuple(per_prompt[0].shape[-2:])
        masks, _, _, _ = model.sam_mask_decoder(
            image_embeddings=per_prompt[0],
            image_pe=encoder.pe_layer(grid).unsqueeze(0),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense[..., : grid[0], : grid[1]],
            multimask_output=False,
            repeat_image=False,
            high_res_features=per_prompt[1:],
        )
        return list(masks[:, 0].split(counts))

    def add_class_head(self, model: SAM2Base, num_outputs: int) -> str:
        """Class tokens in the mask decoder (:func:`qtt_engine.dense.add_class_tokens`); the whole decoder trains."""
        add_class_tokens(model.sam_mask_decoder, num_outputs)
        return self.trainable_parts["train_mask_decoder"]

    def decode_dense(self, model: SAM2Base, embeddings: Sequence[tuple[torch.Tensor, ...]], input_side: int) -> list[torch.Tensor]:
        """Per image, ``(K+1) x S/4 x S/4`` class logits with no prompt (the no-mask dense embedding).

        As ``MaskDecoder.predict_masks`` with the class tokens in place of the mask tokens
        (the object-score and IoU tokens stay in the token set, as in training with prompts).
        """
        src, feat_s0, feat_s1 = (torch.stack([e[level] for e in embeddings]) for level in range(3))
        b, c, h, w = src.shape
        decoder = model.sam_mask_decoder
        image_pe = model.sam_prompt_encoder.pe_layer((h, w)).unsqueeze(0).expand(b, -1, -1, -1)
        dense = model.sam_prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1)
        leading = [decoder.obj_score_token.weight] if decoder.pred_obj_scores else []
        class_tokens = getattr(decoder, CLASS_TOKENS).weight
        tokens = torch.cat([*leading, decoder.iou_token.weight, class_tokens]).unsqueeze(0).expand(b, -1, -1)
        hs, src = decoder.transformer(src + dense, image_pe, tokens)
        src = src.transpose(1, 2).reshape(b, c, h, w)
        if decoder.use_high_res_features:
            dc1, ln1, act1, dc2, act2 = decoder.output_upscaling
            upscaled = act2(dc2(act1(ln1(dc1(src) + feat_s1))) + feat_s0)
        else:
            upscaled = decoder.output_upscaling(src)
        first = len(leading) + 1
        return list(class_masks(decoder, hs[:, first : first + class_tokens.shape[0], :], upscaled).unbind(0))

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_name, "checkpoint": self.checkpoint}


def build_sam2_model(arch: Sam2Architecture, seed: int | None = 0) -> SAM2Base:
    """A ``SAM2Base`` of ``arch`` with freshly initialised weights, from the package's config.

    The mask decoder returns its first mask token for a single-mask request in training
    and evaluation alike (``build_sam2``'s dynamic multimask post-processing is not applied).

    Args:
        seed: seeds the initialisation so that two builds are identical (None: no seeding).
    """
    from hydra.utils import instantiate

    if seed is not None:
        torch.manual_seed(seed)
    return instantiate(model_config(arch), _recursive_=True).eval()


def weights_path(arch: Sam2Architecture, checkpoint: str | Path | None) -> Path | None:
    """The weights file of ``arch`` (fetched through :mod:`qtt_core.checkpoints`); None: random.

    Raises:
        UsageError: the file is missing or does not download (the message says where to
            put it).
    """
    if checkpoint is not None:
        return fetch_checkpoint(Path(checkpoint).name, None, None, local_path=checkpoint)
    if arch.checkpoint_file is None:
        return None
    return fetch_checkpoint(arch.checkpoint_file, arch.checkpoint_url, arch.checkpoint_sha256)
