"""The embedding cache: entries on their device, then in host memory, then none."""

from __future__ import annotations

import torch

from qtt_engine.cache import EmbeddingCache
from qtt_engine.session import _cache_budgets


def test_entries_past_the_device_share_go_to_host_memory_then_stop():
    one = torch.ones(4, 4)  # 64 bytes
    pair = (torch.zeros(4, 4), torch.full((2, 2), 3.0))  # 80 bytes, as SAM 2's multi-scale features
    cache = EmbeddingCache(budget_bytes=64, host_budget_bytes=80)
    cache.put("a", one)
    cache.put("b", pair)
    cache.put("c", one)  # no room left anywhere
    assert len(cache) == 2 and (cache.used_bytes, cache.host_used_bytes) == (64, 80)
    assert torch.equal(cache.get("a"), one)
    held = cache.get("b")
    assert isinstance(held, tuple) and all(torch.equal(x, y) for x, y in zip(held, pair, strict=True))
    assert held[0].device == pair[0].device
    assert cache.get("c") is None and (cache.hits, cache.misses) == (2, 1)
    cache.clear()
    assert len(cache) == 0 and cache.get("a") is None


def test_budgets_split_between_gpu_and_host_memory_on_cuda_only(monkeypatch):
    total = 3 * 2**30
    assert _cache_budgets(total, torch.device("cpu")) == (total, 0)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (6 * 2**30, 80 * 2**30))
    assert _cache_budgets(total, torch.device("cuda")) == (2 * 2**30, 2**30)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (60 * 2**30, 80 * 2**30))
    assert _cache_budgets(total, torch.device("cuda")) == (total, 0)
