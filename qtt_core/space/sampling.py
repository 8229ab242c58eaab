"""Draw candidate configurations from a space."""

from __future__ import annotations

from typing import Any

from ConfigSpace import ConfigurationSpace

from qtt_core.space.identity import config_id, normalise_config

__all__ = ["sample_configurations"]


def sample_configurations(space: ConfigurationSpace, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` distinct valid configurations (fewer when the space is smaller), seeded.

    Returns:
        Plain dicts of active values, in a reproducible order for a given ``seed``.
    """
    space = _copy_with_seed(space, seed)
    seen: dict[str, dict[str, Any]] = {}
    attempts = 0
    while len(seen) < n and attempts < 20 * n + 100:
        batch = space.sample_configuration(min(n - len(seen), 1024))
        batch = batch if isinstance(batch, list) else [batch]
        for configuration in batch:
            config = normalise_config(dict(configuration))
            seen.setdefault(config_id(config), config)
        attempts += len(batch)
    return list(seen.values())[:n]


def _copy_with_seed(space: ConfigurationSpace, seed: int) -> ConfigurationSpace:
    copy = ConfigurationSpace.from_serialized_dict(space.to_serialized_dict())
    copy.seed(seed)
    return copy
