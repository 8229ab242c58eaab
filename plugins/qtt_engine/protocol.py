"""What the training engine asks of a promptable segmentation model (SAM, SAM 2, ...).

A model plugin implements :class:`PromptableModel` (a small wrapper: build the network with
its weights, embed images, decode masks from box prompts, name the modules that may get
LoRA) and hands it to :class:`qtt_engine.EngineSession`; prompts, losses, augmentation,
the loop, freeze-thaw state, evaluation and export are the engine's. A wrapper that also
implements :class:`PromptFreeModel` is tuned without prompts too (``--prompt none``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import torch

__all__ = ["PromptFreeModel", "PromptableModel", "supports_prompt_free"]


@runtime_checkable
class PromptableModel(Protocol):
    """A model wrapper the engine trains.

    Attributes:
        model_name: the name users know the model by (e.g. ``"sam-vit-b"``).
        input_size: side of the model's native square input, in pixels (1024 for SAM).
        size_multiple: input sides must be multiples of this, in pixels (the patch size).
        num_encoder_blocks: number of transformer blocks of the image encoder.
        trainable_parts: configuration key -> module-name prefix of a part that the
            configuration may unfreeze (``{"train_mask_decoder": "mask_decoder."}``).
        part_defaults: value of each ``trainable_parts`` key when a configuration lacks it.
    """

    model_name: str
    input_size: int
    size_multiple: int
    num_encoder_blocks: int
    trainable_parts: Mapping[str, str]
    part_defaults: Mapping[str, int]

    def build(self) -> torch.nn.Module:
        """The base model with its weights loaded, on the CPU, in eval mode."""
        ...

    def lora_target_regex(self, targets: Sequence[str], blocks: Sequence[int]) -> str:
        """A regex that ``re.fullmatch``-es exactly the module names that get LoRA.

        Args:
            targets: a subset of ``("qkv", "proj", "mlp")``.
            blocks: indices of the image encoder blocks to adapt.
        """
        ...

    def embed(self, model: torch.nn.Module, images: torch.Tensor) -> list[Any]:
        """Image embeddings, one per image.

        Args:
            images: ``B x 3 x S x S`` float RGB in [0, 255], ``S`` a multiple of
                ``size_multiple`` and at most ``input_size``.

        Returns:
            ``B`` embeddings (tensors or tuples of tensors on the model's device) that
            :meth:`decode` accepts; the engine caches them when the encoder is frozen.
        """
        ...

    def decode(self, model: torch.nn.Module, embeddings: Sequence[Any], boxes: Sequence[torch.Tensor], input_side: int) -> list[torch.Tensor]:
        """Mask logits for the box prompts of several images.

        Args:
            embeddings: items of :meth:`embed`'s results, one per image.
            boxes: per image, ``N_i x 4`` float ``[x0, y0, x1, y1]`` in pixels of the
                ``S x S`` input (``N_i >= 1``).
            input_side: ``S``, the side of the input the embeddings were computed from.

        Returns:
            Per image, ``N_i x h x w`` low-resolution logits covering the whole input.
        """
        ...

    def describe(self) -> dict[str, Any]:
        """What :func:`load_tuned` needs to build this wrapper again (JSON-serialisable)."""
        ...


@runtime_checkable
class PromptFreeModel(Protocol):
    """What a :class:`PromptableModel` adds to segment without prompts (see :mod:`qtt_engine.dense`)."""

    def add_class_head(self, model: torch.nn.Module, num_outputs: int) -> str:
        """Give ``model``'s mask decoder one output token and hypernetwork MLP per label
        (:func:`qtt_engine.dense.add_class_tokens`), in place.

        Args:
            num_outputs: ``K + 1``: background and the ``K`` classes.

        Returns:
            The module-name prefix that trains in this protocol (the whole mask decoder,
            e.g. ``"mask_decoder."``).
        """
        ...

    def decode_dense(self, model: torch.nn.Module, embeddings: Sequence[Any], input_side: int) -> list[torch.Tensor]:
        """Class logits without prompts (no sparse prompt, the no-mask dense embedding).

        Args:
            embeddings: items of :meth:`PromptableModel.embed`'s results, one per image.
            input_side: ``S``, the side of the input the embeddings were computed from.

        Returns:
            Per image, ``(K+1) x h x w`` low-resolution logits covering the whole input.
        """
        ...


def supports_prompt_free(wrapper: object) -> bool:
    """True when ``wrapper`` implements :class:`PromptFreeModel`."""
    return isinstance(wrapper, PromptFreeModel)
