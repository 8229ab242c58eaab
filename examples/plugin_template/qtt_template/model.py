"""The network: a small ViT-like image encoder and a box-conditioned convolutional decoder.

Nothing here knows about qtt-seg; replace this file with your own model. ``wrapper.py`` is the
glue that the training engine talks to.

- ``TinyEncoder``: a strided convolution cuts the image into ``patch x patch`` patches
  (``B x C x g x g``, ``g = S / patch``), a fixed 2-D sine position code is added, and
  ``depth`` pre-norm transformer blocks mix the tokens. Each block has ``attn.qkv``,
  ``attn.proj``, ``mlp.fc1`` and ``mlp.fc2`` linear layers: the modules LoRA adapts.
- ``BoxDecoder``: per box, the embedding is concatenated with three prompt maps (inside the
  box, and x, y relative to the box) and a likeness map (how much each cell looks like the
  box's inside rather than its outside), fused by a 3x3 convolution, upsampled twice and
  turned into one logit map ``2g x 2g``. The logits start as ``prior * (+1 inside, -1 outside
  the box) + gain * likeness`` plus a small learnt correction, so even the seeded random
  weights give a sensible mask and training learns the refinement.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BoxDecoder", "TinyEncoder", "TinyPromptableNet", "box_maps"]


class Attention(nn.Module):
    """Multi-head self-attention over ``B x L x C`` tokens."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        b, length, dim = tokens.shape
        q, k, v = self.qkv(tokens).reshape(b, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        mixed = F.scaled_dot_product_attention(q, k, v)
        return self.proj(mixed.transpose(1, 2).reshape(b, length, dim))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(tokens)))


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, 2 * dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        tokens = tokens + self.attn(self.norm1(tokens))
        return tokens + self.mlp(self.norm2(tokens))


class TinyEncoder(nn.Module):
    """``B x 3 x S x S`` normalised images -> ``B x C x g x g`` embeddings (``g = S / patch``)."""

    def __init__(self, dim: int, depth: int, heads: int, patch: int):
        super().__init__()
        self.stem = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.stem(images)
        b, dim, h, w = features.shape
        tokens = features.flatten(2).transpose(1, 2) + _sine_positions(h, w, dim, features)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens).transpose(1, 2).reshape(b, dim, h, w)


class BoxDecoder(nn.Module):
    """``N x C x g x g`` embeddings (one per box) + ``N x 3 x 2g x 2g`` box maps -> ``N x 2g x 2g`` logits.

    The logits start as ``prior * (+1 inside, -1 outside the box) + gain * likeness`` (a
    training-free guess) plus a small learnt convolutional correction.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.fuse = nn.Conv2d(dim + 4, dim, kernel_size=3, padding=1)
        self.up = nn.ConvTranspose2d(dim, dim // 2, kernel_size=2, stride=2)
        self.head = nn.Conv2d(dim // 2 + 4, 1, kernel_size=3, padding=1)
        self.prior = nn.Parameter(torch.tensor(1.0))
        self.gain = nn.Parameter(torch.tensor(4.0))
        with torch.no_grad():  # the correction starts small
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()

    def forward(self, embeddings: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        coarse = F.avg_pool2d(maps, 2).to(embeddings.dtype)
        likeness = _likeness(embeddings, coarse[:, :1])
        features = F.gelu(self.fuse(torch.cat([embeddings, coarse, likeness], dim=1)))
        features = F.gelu(self.up(features))
        fine_likeness = F.interpolate(likeness, size=maps.shape[-2:], mode="bilinear", align_corners=False)
        fine = torch.cat([maps.to(features.dtype), fine_likeness], dim=1)
        correction = self.head(torch.cat([features, fine], dim=1))[:, 0]
        return correction + self.prior * (2.0 * maps[:, 0] - 1.0) + self.gain * fine_likeness[:, 0]


class TinyPromptableNet(nn.Module):
    """Encoder + decoder; ``pixel_mean``/``pixel_std`` normalise ``[0, 255]`` RGB."""

    def __init__(self, dim: int, depth: int, heads: int, patch: int):
        super().__init__()
        self.encoder = TinyEncoder(dim, depth, heads, patch)
        self.decoder = BoxDecoder(dim)
        self.register_buffer("pixel_mean", torch.tensor([123.7, 116.3, 103.5]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor([58.4, 57.1, 57.4]).view(1, 3, 1, 1), persistent=False)


def box_maps(boxes: torch.Tensor, input_side: int, grid: int) -> torch.Tensor:
    """Prompt maps of ``N x 4`` boxes ``[x0, y0, x1, y1]`` (pixels of an ``S x S`` input).

    Returns:
        ``N x 3 x grid x grid``: 1 inside the box and 0 outside; x and y of each cell centre
        relative to the box (-1 at its left/top side, +1 at its right/bottom), clipped to [-2, 2].
    """
    centres = (torch.arange(grid, device=boxes.device, dtype=torch.float32) + 0.5) * (input_side / grid)
    x0, y0, x1, y1 = boxes.float().unbind(1)
    u = (2 * (centres[None, :] - x0[:, None]) / (x1 - x0).clamp(min=1.0)[:, None] - 1).clamp(-2, 2)  # N x grid
    v = (2 * (centres[None, :] - y0[:, None]) / (y1 - y0).clamp(min=1.0)[:, None] - 1).clamp(-2, 2)
    inside = ((u.abs() <= 1)[:, None, :] & (v.abs() <= 1)[:, :, None]).float()
    n = len(boxes)
    return torch.stack([inside, u[:, None, :].expand(n, grid, grid), v[:, :, None].expand(n, grid, grid)], dim=1)


def _likeness(embeddings: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """``N x 1 x g x g``: how much more each cell looks like the inside of its box than the outside
    (cosine similarity to the mean embedding inside minus that to the mean outside)."""
    outside = 1.0 - inside
    mean_in = (embeddings * inside).sum((2, 3)) / inside.sum((2, 3)).clamp(min=1e-6)
    mean_out = (embeddings * outside).sum((2, 3)) / outside.sum((2, 3)).clamp(min=1e-6)
    cells = F.normalize(embeddings, dim=1)
    to_in = (cells * F.normalize(mean_in, dim=1)[:, :, None, None]).sum(1, keepdim=True)
    to_out = (cells * F.normalize(mean_out, dim=1)[:, :, None, None]).sum(1, keepdim=True)
    return to_in - to_out


def _sine_positions(h: int, w: int, dim: int, like: torch.Tensor) -> torch.Tensor:
    """``(h * w) x dim`` fixed 2-D sine/cosine position code (works at any grid size)."""
    quarter = dim // 4
    frequencies = torch.exp(torch.arange(quarter, device=like.device) * (-math.log(100.0) / max(quarter, 1)))
    ys, xs = torch.meshgrid(torch.arange(h, device=like.device), torch.arange(w, device=like.device), indexing="ij")
    angles_y = ys.flatten()[:, None].float() * frequencies[None]
    angles_x = xs.flatten()[:, None].float() * frequencies[None]
    code = torch.cat([angles_y.sin(), angles_y.cos(), angles_x.sin(), angles_x.cos()], dim=1)
    return F.pad(code, (0, dim - code.shape[1])).to(like.dtype)
