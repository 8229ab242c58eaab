"""Numeric encoding of configurations for the surrogates.

Each hyperparameter becomes one or more columns in [0, 1]:
- categorical: one-hot, one column per choice;
- ordinal and integer: one column, the value's position on a linear or log scale
  (log when the hyperparameter's ``meta`` has ``log: true`` or it is a log integer);
- constant: no column.
A conditional hyperparameter gets one more column, ``NAME:active`` (1 or 0); when it is
inactive its value columns are all 0. ``decode(encode(c)) == c`` for valid configurations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from qtt_core.errors import UsageError
from qtt_core.space.identity import normalise_config
from qtt_core.space.values import hyperparameter_values

__all__ = ["SpaceEncoder"]


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # "onehot" | "scalar"
    values: tuple[Any, ...]
    positions: tuple[float, ...]  # scalar: encoded position of each value
    conditional: bool


class SpaceEncoder:
    """Encodes configurations of one space as ``N x D`` float arrays and back.

    Args:
        space: a finite ``ConfigurationSpace`` (every hyperparameter has listed values).
    """

    def __init__(self, space: ConfigurationSpace):
        self.space = space
        conditional = set(space.conditional_hyperparameters)
        self._columns: list[_Column] = []
        for hp in space.values():
            values = tuple(hyperparameter_values(hp))
            if type(hp).__name__ == "Constant":
                continue
            if type(hp).__name__ == "CategoricalHyperparameter":
                self._columns.append(_Column(hp.name, "onehot", values, (), hp.name in conditional))
            else:
                log = bool((hp.meta or {}).get("log", False) or getattr(hp, "log", False))
                self._columns.append(
                    _Column(hp.name, "scalar", values, _positions(values, log), hp.name in conditional)
                )
        self.feature_names: list[str] = []
        for column in self._columns:
            if column.conditional:
                self.feature_names.append(f"{column.name}:active")
            if column.kind == "onehot":
                self.feature_names += [f"{column.name}={v}" for v in column.values]
            else:
                self.feature_names.append(column.name)

    @property
    def dim(self) -> int:
        """Number of columns ``D``."""
        return len(self.feature_names)

    def encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode configurations (plain mappings of active values) as an ``N x D`` float64 array.

        Raises:
            UsageError: a value that the space does not list (names the hyperparameter).
        """
        rows = np.zeros((len(configs), self.dim))
        for i, config in enumerate(configs):
            config = normalise_config(config)
            j = 0
            for column in self._columns:
                active = column.name in config
                if column.conditional:
                    rows[i, j] = float(active)
                    j += 1
                width = len(column.values) if column.kind == "onehot" else 1
                if active:
                    k = _index_of(column, config[column.name])
                    if column.kind == "onehot":
                        rows[i, j + k] = 1.0
                    else:
                        rows[i, j] = column.positions[k]
                elif not column.conditional:
                    raise UsageError(f"configuration has no value for {column.name!r}, which is always active")
                j += width
        return rows

    def decode(self, rows: np.ndarray) -> list[dict[str, Any]]:
        """Invert :meth:`encode`: nearest listed value per column, inactive ones left out."""
        rows = np.atleast_2d(np.asarray(rows, dtype=float))
        configs = []
        for row in rows:
            config: dict[str, Any] = {}
            j = 0
            for column in self._columns:
                active = True
                if column.conditional:
                    active = row[j] >= 0.5
                    j += 1
                if column.kind == "onehot":
                    width = len(column.values)
                    if active:
                        config[column.name] = column.values[int(np.argmax(row[j : j + width]))]
                    j += width
                else:
                    if active:
                        k = int(np.argmin(np.abs(np.asarray(column.positions) - row[j])))
                        config[column.name] = column.values[k]
                    j += 1
            configs.append(normalise_config(config))
        return configs


def _positions(values: tuple[Any, ...], log: bool) -> tuple[float, ...]:
    if len(values) == 1:
        return (0.0,)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not numeric:
        return tuple(i / (len(values) - 1) for i in range(len(values)))
    scale = [math.log(v) for v in values] if log and min(values) > 0 else [float(v) for v in values]
    low, high = min(scale), max(scale)
    if high == low:
        return tuple(0.0 for _ in values)
    return tuple((s - low) / (high - low) for s in scale)


def _index_of(column: _Column, value: Any) -> int:
    for k, candidate in enumerate(column.values):
        if candidate == value or str(candidate) == str(value):
            return k
        if isinstance(candidate, (int, float)) and isinstance(value, (int, float)):
            if math.isclose(float(candidate), float(value), rel_tol=1e-9, abs_tol=1e-12):
                return k
    raise UsageError(
        f"value {value!r} is not one of the values of {column.name!r}: {list(column.values)}"
    )
