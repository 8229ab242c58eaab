"""Prompt-free segmentation (``--prompt none``): one output token per class in the mask decoder.

The SAMed recipe (LoRA SAM for multi-organ segmentation): the mask decoder runs with no sparse
prompt and the no-mask dense embedding, and instead of SAM's few mask tokens it has one output
token, with its own hypernetwork MLP, per label (background and the ``K`` classes). Its
``K + 1`` mask logits per pixel are trained with cross-entropy and Dice and read with argmax.

The new tokens and MLPs start as copies of the decoder's first mask token and MLP (the one a
single-mask box prompt reads), so every label starts from what the pretrained decoder knows;
the training targets tell them apart. In this protocol the whole mask decoder trains.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["CLASS_HYPERNETWORKS", "CLASS_TOKENS", "add_class_tokens", "class_masks", "dense_label_maps", "dense_loss"]

#: attribute names of the class head inside a mask decoder
CLASS_TOKENS = "class_tokens"
CLASS_HYPERNETWORKS = "class_hypernetworks"


def add_class_tokens(decoder: torch.nn.Module, num_outputs: int) -> None:
    """Give a SAM-style mask decoder ``num_outputs`` class tokens and hypernetwork MLPs.

    Args:
        decoder: a module with ``mask_tokens`` (``nn.Embedding``) and
            ``output_hypernetworks_mlps`` (``nn.ModuleList``), as SAM's and SAM 2's mask decoders.
        num_outputs: ``K + 1``: background and the ``K`` classes.

    Adds ``decoder.class_tokens`` (``num_outputs x C`` embedding) and
    ``decoder.class_hypernetworks`` (``num_outputs`` MLPs), initialised from the first mask
    token and MLP; the decoder's own tokens are untouched.
    """
    first_token = decoder.mask_tokens.weight[:1].detach()
    tokens = torch.nn.Embedding(num_outputs, first_token.shape[1])
    with torch.no_grad():
        tokens.weight.copy_(first_token.expand(num_outputs, -1))
    setattr(decoder, CLASS_TOKENS, tokens)
    first_mlp = decoder.output_hypernetworks_mlps[0]
    setattr(decoder, CLASS_HYPERNETWORKS, torch.nn.ModuleList(copy.deepcopy(first_mlp) for _ in range(num_outputs)))


def class_masks(decoder: torch.nn.Module, tokens_out: torch.Tensor, upscaled: torch.Tensor) -> torch.Tensor:
    """``B x (K+1) x h x w`` logits from the class tokens' outputs and the upscaled image features.

    Args:
        tokens_out: ``B x (K+1) x C`` the transformer's outputs at the class tokens.
        upscaled: ``B x C' x h x w`` the decoder's upscaled embedding.
    """
    mlps = getattr(decoder, CLASS_HYPERNETWORKS)
    hyper = torch.stack([mlp(tokens_out[:, i, :]) for i, mlp in enumerate(mlps)], dim=1)
    b, c, h, w = upscaled.shape
    return (hyper @ upscaled.reshape(b, c, h * w)).reshape(b, -1, h, w)


def dense_loss(name: str, logits: torch.Tensor, labels: torch.Tensor, ignore_index: int) -> torch.Tensor:
    """Mean loss of ``B`` images' ``K + 1``-way logits against their label maps.

    The search space's mask losses, made multiclass: ``bce`` is cross-entropy, ``dice`` the
    soft Dice over the ``K + 1`` softmax maps, ``bce_dice`` both, ``focal_dice`` focal
    cross-entropy (gamma 2) and Dice. Pixels labelled ``ignore_index`` count nowhere.

    Args:
        logits: ``B x (K+1) x H x W``.
        labels: ``B x H x W`` int64 labels 0..K or ``ignore_index``.
    """
    logits = logits.float()
    valid = labels != ignore_index
    safe = torch.where(valid, labels, torch.zeros_like(labels))
    count = valid.sum().clamp_min(1)
    total = logits.new_zeros(())
    cross_entropy = F.cross_entropy(logits, safe, reduction="none") * valid
    if name in ("bce", "bce_dice"):
        total = total + cross_entropy.sum() / count
    if name == "focal_dice":
        true_probability = torch.exp(-cross_entropy)
        total = total + ((1 - true_probability) ** 2 * cross_entropy).sum() / count
    if name in ("dice", "bce_dice", "focal_dice"):
        total = total + _soft_dice(logits, safe, valid)
    return total


def _soft_dice(logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """``1 -`` the mean over labels of the soft Dice of the softmax maps (valid pixels only)."""
    probs = torch.softmax(logits, dim=1) * valid[:, None]
    onehot = F.one_hot(labels, logits.shape[1]).permute(0, 3, 1, 2).to(probs.dtype) * valid[:, None]
    overlap = (probs * onehot).sum(dim=(0, 2, 3))
    sizes = probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    return (1.0 - (2.0 * overlap + 1.0) / (sizes + 1.0)).mean()


def dense_label_maps(logits: list[torch.Tensor], shapes: list[tuple[int, int]]) -> list[np.ndarray]:
    """``H_i x W_i`` uint8 label maps: per pixel the argmax of ``(K+1) x h x w`` logits resized (bilinear)."""
    maps = []
    for image_logits, shape in zip(logits, shapes, strict=True):
        resized = F.interpolate(image_logits[None].float(), size=tuple(shape), mode="bilinear", align_corners=False)[0]
        maps.append(resized.argmax(dim=0).to(torch.uint8).cpu().numpy())
    return maps
