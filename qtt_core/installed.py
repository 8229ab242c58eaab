"""Whether an optional package is really installed, found without importing it."""

from __future__ import annotations

import importlib.machinery
import importlib.util

__all__ = ["package_installed"]


def package_installed(package: str, module: str) -> bool:
    """Whether ``package`` is an installed regular package that holds ``package.module``.

    Neither is imported (importing ``sam2`` or ``ray`` takes seconds). A namespace package,
    such as a folder called ``sam2`` that happens to be on ``sys.path``, does not count: it
    has no ``__init__`` and not the named module.

    Args:
        package: top-level import name, e.g. ``"sam2"``.
        module: a module the real package has, e.g. ``"build_sam"``.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return False
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        return False
    found = importlib.machinery.PathFinder.find_spec(module, list(spec.submodule_search_locations))
    return found is not None
