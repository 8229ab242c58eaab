"""Decoded samples and image embeddings kept for the whole session (across epochs and trials)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import torch

__all__ = ["EmbeddingCache", "SampleStore"]


class SampleStore:
    """Images resized to a square input side and label maps, read once per split.

    Args:
        data: a :class:`qtt_core.data.SegmentationData`.
    """

    def __init__(self, data: Any):
        self.data = data
        self._images: dict[tuple[str, int, int], np.ndarray] = {}
        self._masks: dict[tuple[str, int, int | None], np.ndarray] = {}

    def size(self, split: str) -> int:
        return len(self.data.split(split))

    def image(self, split: str, index: int, side: int) -> np.ndarray:
        """``side x side x 3`` uint8 image (resized bilinearly, aspect ratio not kept)."""
        key = (split, index, side)
        if key not in self._images:
            self._images[key] = np.ascontiguousarray(self.data.split(split).image(index, size=(side, side)))
        return self._images[key]

    def mask(self, split: str, index: int, side: int | None = None) -> np.ndarray:
        """``side x side`` uint8 label map (nearest neighbour), or the original size for None."""
        key = (split, index, side)
        if key not in self._masks:
            size = None if side is None else (side, side)
            self._masks[key] = np.ascontiguousarray(self.data.split(split).mask(index, size=size))
        return self._masks[key]


class EmbeddingCache:
    """Embeddings of a frozen image encoder, keyed by (split, index, variant, side).

    Entries stay on the device they were computed on up to ``budget_bytes``; past that, up to
    ``host_budget_bytes`` more are kept in host memory (pinned when CUDA is there, so they
    return to the GPU without blocking) and moved back to their device when read.

    Args:
        budget_bytes: bytes of entries kept on their device.
        host_budget_bytes: bytes of entries kept in host memory once the device share is full.
    """

    def __init__(self, budget_bytes: int, host_budget_bytes: int = 0):
        self.budget_bytes = budget_bytes
        self.host_budget_bytes = host_budget_bytes
        self.used_bytes = 0
        self.host_used_bytes = 0
        self._entries: dict[Hashable, Any] = {}
        self._host: dict[Hashable, tuple[Any, torch.device]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None and key in self._host:
            held, device = self._host[key]
            entry = _moved(held, device)
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def put(self, key: Hashable, embedding: Any) -> None:
        size = _nbytes(embedding)
        if self.used_bytes + size <= self.budget_bytes:
            self._entries[key] = _detached(embedding)
            self.used_bytes += size
        elif self.host_used_bytes + size <= self.host_budget_bytes:
            self._host[key] = (_to_host(_detached(embedding)), _device_of(embedding))
            self.host_used_bytes += size

    def clear(self) -> None:
        self._entries.clear()
        self._host.clear()
        self.used_bytes = self.host_used_bytes = 0

    def __len__(self) -> int:
        return len(self._entries) + len(self._host)


def _nbytes(embedding: Any) -> int:
    if isinstance(embedding, torch.Tensor):
        return embedding.numel() * embedding.element_size()
    return sum(_nbytes(item) for item in embedding)


def _detached(embedding: Any) -> Any:
    if isinstance(embedding, torch.Tensor):
        return embedding.detach()
    return type(embedding)(_detached(item) for item in embedding)


def _device_of(embedding: Any) -> torch.device:
    if isinstance(embedding, torch.Tensor):
        return embedding.device
    return _device_of(embedding[0])


def _to_host(embedding: Any) -> Any:
    if isinstance(embedding, torch.Tensor):
        held = embedding.to("cpu")
        return held.pin_memory() if embedding.device.type == "cuda" else held
    return type(embedding)(_to_host(item) for item in embedding)


def _moved(embedding: Any, device: torch.device) -> Any:
    if isinstance(embedding, torch.Tensor):
        return embedding.to(device, non_blocking=True)
    return type(embedding)(_moved(item, device) for item in embedding)
