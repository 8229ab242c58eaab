"""Mask losses of the search space: bce, dice, bce_dice, focal_dice (ignored pixels excluded)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss

__all__ = ["FOCAL_WEIGHT", "mask_loss"]

#: focal_dice weighs focal loss 20:1 against dice, as SAM's training did
FOCAL_WEIGHT = 20.0


def mask_loss(name: str, logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean loss over ``N`` prompts.

    Args:
        name: ``"bce"``, ``"dice"``, ``"bce_dice"`` or ``"focal_dice"``.
        logits: ``N x H x W`` mask logits.
        targets: ``N x H x W`` float, 1 inside the prompt's object.
        valid: ``H x W`` or ``N x H x W`` float, 0 where the label is the ignore value.

    Returns:
        A scalar tensor.
    """
    logits = logits.float()
    valid = valid.expand_as(logits)
    count = valid.sum().clamp_min(1.0)
    total = logits.new_zeros(())
    if name in ("bce", "bce_dice"):
        bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        total = total + (bce * valid).sum() / count
    if name == "focal_dice":
        focal = sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="none")
        total = total + FOCAL_WEIGHT * (focal * valid).sum() / count
    if name in ("dice", "bce_dice", "focal_dice"):
        total = total + _dice(logits, targets, valid)
    return total


def _dice(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    probs = torch.sigmoid(logits) * valid
    targets = targets * valid
    overlap = (probs * targets).flatten(1).sum(1)
    sizes = probs.flatten(1).sum(1) + targets.flatten(1).sum(1)
    return (1.0 - (2.0 * overlap + 1.0) / (sizes + 1.0)).mean()
