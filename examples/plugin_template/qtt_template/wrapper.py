"""The glue between the network (``model.py``) and qtt-seg's training engine.

``TemplateWrapper`` follows ``qtt_engine.protocol.PromptableModel``: it builds the network with
its weights, embeds images, decodes masks from box prompts and names the modules that may get
LoRA. Prompts, losses, augmentation, the training loop, freeze-thaw, evaluation and export are
the engine's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from qtt_core.errors import UnknownNameError

from qtt_template.architectures import ARCHITECTURES
from qtt_template.model import TinyPromptableNet, box_maps

__all__ = ["TemplateWrapper"]

#: LoRA target kinds the engine asks for (``lora_targets`` of a configuration) -> module names
_TARGET_PATTERNS = {"qkv": r"attn\.qkv", "proj": r"attn\.proj", "mlp": r"mlp\.fc[12]"}


class TemplateWrapper:
    """A model of :data:`ARCHITECTURES` by name, for the training engine.

    Args:
        model: a name of :data:`ARCHITECTURES` (``template-tiny``).
        checkpoint: a weights file (``.safetensors`` or ``torch.save(state_dict)``); None: the
            seeded random initialisation (the same weights in every process).
    """

    #: configuration key -> module-name prefix it unfreezes (the space has ``train_mask_decoder``)
    trainable_parts = {"train_mask_decoder": "decoder."}
    part_defaults = {"train_mask_decoder": 1}

    def __init__(self, model: str, checkpoint: str | Path | None = None):
        if model not in ARCHITECTURES:
            raise UnknownNameError(f"unknown model {model!r}; known: {', '.join(ARCHITECTURES)}")
        self.arch = ARCHITECTURES[model]
        self.model_name = model
        self.checkpoint = str(checkpoint) if checkpoint is not None else None
        self.input_size = self.arch.input_size
        self.size_multiple = self.arch.patch
        self.num_encoder_blocks = self.arch.depth

    def build(self) -> TinyPromptableNet:
        """The network with its weights, float32, on the CPU, in eval mode."""
        with torch.random.fork_rng(devices=[]):  # seed the initialisation without touching the caller's generator
            torch.manual_seed(self.arch.seed)
            net = TinyPromptableNet(self.arch.dim, self.arch.depth, self.arch.heads, self.arch.patch)
        if self.checkpoint is not None:
            net.load_state_dict(_read_state_dict(Path(self.checkpoint)))
        return net.eval()

    def lora_target_regex(self, targets: Sequence[str], blocks: Sequence[int]) -> str:
        """E.g. ``encoder\\.blocks\\.(?:0|1)\\.(?:attn\\.qkv|mlp\\.fc[12])``: encoder blocks only."""
        kinds = "|".join(_TARGET_PATTERNS[t] for t in targets)
        indices = "|".join(str(b) for b in blocks)
        return rf"encoder\.blocks\.(?:{indices})\.(?:{kinds})"

    def embed(self, model: TinyPromptableNet, images: torch.Tensor) -> list[torch.Tensor]:
        """``B`` embeddings ``C x g x g`` of ``B x 3 x S x S`` images in [0, 255] (``g = S / patch``)."""
        pixels = (images - model.pixel_mean) / model.pixel_std
        return list(model.encoder(pixels).unbind(0))

    def decode(
        self, model: TinyPromptableNet, embeddings: Sequence[torch.Tensor], boxes: Sequence[torch.Tensor], input_side: int
    ) -> list[torch.Tensor]:
        """Per image, ``N_i x 2g x 2g`` mask logits for its ``N_i x 4`` boxes (pixels of the input).

        All boxes of all images go through the decoder as one batch.
        """
        counts = [len(b) for b in boxes]
        grid = embeddings[0].shape[-1]
        per_box = torch.cat([e.unsqueeze(0).expand(n, -1, -1, -1) for e, n in zip(embeddings, counts, strict=True)])
        maps = box_maps(torch.cat(list(boxes)), input_side, 2 * grid)
        return list(model.decoder(per_box, maps).split(counts))

    def describe(self) -> dict[str, Any]:
        """What ``load_tuned`` needs to build this wrapper again (written to ``tuned.json``)."""
        return {"model": self.model_name, "checkpoint": self.checkpoint}


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist; pass a .safetensors or torch.save(state_dict) file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)
