"""The test tree cannot pass for an installed package, and availability checks are not fooled.

pytest puts ``tests/`` and ``benchmarks/`` on ``sys.path``; a folder there named like a package
(``tests/sam2``) imports as a namespace package of that name and makes a missing optional
dependency look installed.
"""

from __future__ import annotations

import importlib.machinery
import sys

import pytest

from helpers import REPO_ROOT
from qtt_core.installed import package_installed

#: import names of the project's dependencies, optional ones included, installed here or not
_DEPENDENCIES = {
    "sam2", "hydra", "iopath", "ray", "segment_anything", "peft", "timm", "torch", "torchvision", "botorch",
    "gpytorch", "ConfigSpace", "pluggy", "numpy", "yaml", "safetensors", "PIL", "pandas", "typer", "rich",
    "matplotlib", "pyarrow", "tifffile", "pyte", "pytest", "pytest_benchmark", "sam", "qtt_core", "qtt_sam",
    "qtt_sam2", "qtt_search_spaces",
}  # fmt: skip


def _top_level_names(folder) -> list[str]:
    names = [p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    return names + [p.stem for p in folder.glob("*.py") if p.stem != "conftest"]


@pytest.mark.parametrize("folder", ["tests", "benchmarks"])
def test_no_test_folder_or_helper_shares_a_package_name(folder):
    own = {str(REPO_ROOT / "tests"), str(REPO_ROOT / "benchmarks")}
    elsewhere = [p for p in sys.path if p not in own]
    clashes = [
        name for name in _top_level_names(REPO_ROOT / folder)
        if name in _DEPENDENCIES or importlib.machinery.PathFinder.find_spec(name, elsewhere) is not None
    ]  # fmt: skip
    assert not clashes, f"rename {clashes} under {folder}/: the names shadow importable packages"


def test_a_namespace_folder_does_not_count_as_installed(tmp_path, monkeypatch):
    shadow = tmp_path / "qtt_fake_optional"
    shadow.mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not package_installed("qtt_fake_optional", "build")  # a bare folder: a namespace package
    (shadow / "__init__.py").write_text("")
    assert not package_installed("qtt_fake_optional", "build")  # a package without the named module
    (shadow / "build.py").write_text("")
    assert package_installed("qtt_fake_optional", "build")
