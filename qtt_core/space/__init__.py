"""Search spaces: loading, exact size, sampling, ids and numeric encoding."""

from __future__ import annotations

from qtt_core.space.counting import count_valid_configurations
from qtt_core.space.encoding import SpaceEncoder
from qtt_core.space.identity import config_id, normalise_config
from qtt_core.space.loading import builtin_space_specs, describe_space, load_space_file
from qtt_core.space.sampling import map_into_space, sample_configurations

__all__ = [
    "SpaceEncoder",
    "builtin_space_specs",
    "config_id",
    "count_valid_configurations",
    "describe_space",
    "load_space_file",
    "map_into_space",
    "normalise_config",
    "sample_configurations",
]
