"""A search space inside a predictor's JSON settings (ConfigSpace's own serialisation)."""

from __future__ import annotations

import json
from typing import Any

from ConfigSpace import ConfigurationSpace

__all__ = ["space_from_dict", "space_to_dict"]


def space_to_dict(space: ConfigurationSpace) -> dict[str, Any]:
    """ConfigSpace's serialised form, made plain JSON."""
    return json.loads(json.dumps(space.to_serialized_dict(), default=_plain))


def space_from_dict(data: dict[str, Any]) -> ConfigurationSpace:
    """Invert :func:`space_to_dict`."""
    return ConfigurationSpace.from_serialized_dict(data)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
