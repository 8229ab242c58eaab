"""Read search spaces from YAML files and describe them."""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

from ConfigSpace import ConfigurationSpace

from qtt_core.errors import UsageError
from qtt_core.space.counting import count_valid_configurations
from qtt_core.space.values import hyperparameter_values
from qtt_core.specs import SearchSpaceSpec

__all__ = ["builtin_space_specs", "describe_space", "load_space_file"]


def load_space_file(path: str | Path) -> ConfigurationSpace:
    """Load a ``ConfigurationSpace`` from a ConfigSpace YAML (or JSON) file.

    Raises:
        UsageError: the file is missing or is not a ConfigSpace serialisation.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"search space file {path} does not exist; give a registered space name or a YAML file")
    try:
        if path.suffix == ".json":
            return ConfigurationSpace.from_json(path)
        return ConfigurationSpace.from_yaml(path)
    except Exception as error:  # noqa: BLE001 - ConfigSpace raises many kinds
        raise UsageError(
            f"search space file {path} is not a valid ConfigSpace YAML/JSON file ({error}); "
            "write it with ConfigurationSpace.to_yaml"
        ) from None


def builtin_space_specs() -> list[SearchSpaceSpec]:
    """One spec per YAML file shipped in ``search_spaces/`` (package ``qtt_search_spaces``)."""
    specs = []
    folder = importlib.resources.files("qtt_search_spaces")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        path = Path(str(entry))
        name = path.stem
        specs.append(
            SearchSpaceSpec(
                name=name,
                load=lambda path=path: load_space_file(path),
                description=_first_comment(path),
                source=path,
            )
        )
    return specs


def _first_comment(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def describe_space(name: str, space: ConfigurationSpace) -> dict[str, Any]:
    """A JSON-ready description: name, exact size, hyperparameters with values and conditions."""
    conditions: dict[str, list[str]] = {}
    for condition in space.conditions:
        for child in _condition_children(condition):
            conditions.setdefault(child, []).append(str(condition))
    hyperparameters = []
    for hp in space.values():
        hyperparameters.append(
            {
                "name": hp.name,
                "type": type(hp).__name__.replace("Hyperparameter", "").lower(),
                "values": [_plain(v) for v in hyperparameter_values(hp)],
                "default": _plain(hp.default_value),
                "log": bool((hp.meta or {}).get("log", False)),
                "active_when": conditions.get(hp.name, []),
            }
        )
    return {
        "name": name,
        "size": count_valid_configurations(space),
        "hyperparameters": hyperparameters,
        "forbidden": [str(f) for f in space.forbidden_clauses],
    }


def _condition_children(condition: Any) -> list[str]:
    if hasattr(condition, "child"):
        return [condition.child.name]
    return sorted({c.child.name for c in condition.components})


def _plain(value: Any) -> Any:
    """numpy scalars to Python scalars, for JSON."""
    return value.item() if hasattr(value, "item") else value
