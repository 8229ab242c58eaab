"""Stable ids for configurations, and the plain-dict form every part of qtt-seg uses."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["config_id", "normalise_config"]


def normalise_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration as a plain ``dict`` of active values with Python scalars, sorted by name."""
    plain = {}
    for name in sorted(config):
        value = config[name]
        if isinstance(value, np.generic):
            value = value.item()
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue  # inactive
        plain[name] = value
    return plain


def config_id(config: Mapping[str, Any]) -> str:
    """A short id that depends only on the active values (``"c"`` + 10 hex digits)."""
    text = json.dumps(normalise_config(config), sort_keys=True, default=str)
    return "c" + hashlib.sha1(text.encode()).hexdigest()[:10]
