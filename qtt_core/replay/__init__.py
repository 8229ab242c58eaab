"""The replay benchmark: optimisers on recorded learning curves, with simulated time."""

from __future__ import annotations

from qtt_core.replay.benchmark import ORACLE, ReplayResult, predictor_quality, run_replay
from qtt_core.replay.simulate import ReplayPool, normalised_regret, oracle_scores, simulate_run

__all__ = [
    "ORACLE",
    "ReplayPool",
    "ReplayResult",
    "normalised_regret",
    "oracle_scores",
    "predictor_quality",
    "run_replay",
    "simulate_run",
]
