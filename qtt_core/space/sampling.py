"""Draw candidate configurations from a space."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ConfigSpace import ConfigurationSpace

from qtt_core.space.identity import config_id, normalise_config

__all__ = ["map_into_space", "sample_configurations"]


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


def map_into_space(config: Mapping[str, Any], space: ConfigurationSpace) -> dict[str, Any] | None:
    """``config`` as a valid configuration of ``space``, or None when it cannot be one.

    Hyperparameters the space does not have are dropped; active ones ``config`` does not
    set take the space's default; a value the space does not allow gives None.

    Returns:
        Plain dict of the active values (see ``normalise_config``), or None.
    """
    from ConfigSpace.util import deactivate_inactive_hyperparameters

    values = dict(space.get_default_configuration())
    for name, value in config.items():
        if name in space and value is not None:
            if not space[name].legal_value(value):
                return None
            values[name] = value
    try:
        configuration = deactivate_inactive_hyperparameters(values, space)
        configuration.check_valid_configuration()
    except Exception:  # noqa: BLE001 - ConfigSpace raises several kinds for a forbidden or invalid combination
        return None
    return normalise_config(dict(configuration))
