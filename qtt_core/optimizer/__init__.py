"""Optimisers with ask/tell: Quick-Tune and baselines."""

from __future__ import annotations

from qtt_core.optimizer.base import Ask, Optimizer

__all__ = ["Ask", "Optimizer"]
