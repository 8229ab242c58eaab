"""The values a finite hyperparameter can take: what counting, encoding and descriptions share."""

from __future__ import annotations

from typing import Any

from qtt_core.errors import UsageError

__all__ = ["hyperparameter_values"]


def hyperparameter_values(hp: Any) -> list[Any]:
    """Every value a finite hyperparameter can take, in order.

    Raises:
        UsageError: the hyperparameter is continuous (its values cannot be counted).
    """
    kind = type(hp).__name__
    if kind == "CategoricalHyperparameter":
        return list(hp.choices)
    if kind == "OrdinalHyperparameter":
        return list(hp.sequence)
    if kind == "UniformIntegerHyperparameter":
        return list(range(int(hp.lower), int(hp.upper) + 1))
    if kind == "Constant":
        return [hp.value]
    raise UsageError(
        f"hyperparameter {hp.name!r} is {kind}: qtt-seg spaces need finitely many values; "
        "use an ordinal or categorical hyperparameter"
    )
