"""The exact number of valid configurations of a finite, conditional search space.

A configuration is valid when every active hyperparameter has a value, every inactive one
has none, and no forbidden clause holds. Hyperparameters that share no condition and no
forbidden clause are independent, so the size is the product of the sizes of the connected
components; each component is counted by walking its active assignments in topological
order (inactive hyperparameters do not branch).
"""

from __future__ import annotations

from math import prod
from typing import Any

from ConfigSpace import ConfigurationSpace

from qtt_core.space.values import hyperparameter_values

__all__ = ["count_valid_configurations"]


def count_valid_configurations(space: ConfigurationSpace) -> int:
    """Exact count of valid configurations of ``space`` (an ``int``, however large)."""
    names = list(space.keys())  # ConfigSpace keeps them topologically sorted
    return prod(_count_component(space, component) for component in _components(space, names))


def _components(space: ConfigurationSpace, names: list[str]) -> list[list[str]]:
    parent = {name: name for name in names}

    def find(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    for child, parents in space.parents_of.items():
        for hp in parents:
            union(child, hp.name)
    for clause in space.forbidden_clauses:
        members = [dlc.hyperparameter.name for dlc in clause.dlcs]
        for other in members[1:]:
            union(members[0], other)
    groups: dict[str, list[str]] = {}
    for name in names:  # keeps topological order inside each group
        groups.setdefault(find(name), []).append(name)
    return list(groups.values())


def _count_component(space: ConfigurationSpace, names: list[str]) -> int:
    values = {name: hyperparameter_values(space[name]) for name in names}
    conditions = {name: space.parent_conditions_of[name] for name in names}
    member = set(names)
    forbiddens = [
        f
        for f in space.forbidden_clauses
        if {dlc.hyperparameter.name for dlc in f.dlcs} <= member
    ]

    def is_active(name: str, assigned: dict[str, Any]) -> bool:
        for condition in conditions[name]:
            parents = [hp.name for hp in space.parents_of[name]]
            if any(p not in assigned for p in parents):
                return False  # a parent is inactive
            if not condition.satisfied_by_value(assigned):
                return False
        return True

    def walk(position: int, assigned: dict[str, Any]) -> int:
        if position == len(names):
            return 0 if any(f.is_forbidden_value(assigned) for f in forbiddens) else 1
        name = names[position]
        if not is_active(name, assigned):
            return walk(position + 1, assigned)
        total = 0
        for value in values[name]:
            assigned[name] = value
            total += walk(position + 1, assigned)
        del assigned[name]
        return total

    return walk(0, {})
