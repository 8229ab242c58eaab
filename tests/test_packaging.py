"""Every package folder is shipped: pyproject lists packages explicitly."""

from __future__ import annotations

import tomllib

from helpers import REPO_ROOT


def _declared() -> tuple[list[str], dict[str, str]]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return config["packages"], config["package-dir"]


def test_every_package_folder_is_listed_in_pyproject():
    packages, roots = _declared()
    missing = []
    for top, folder in roots.items():
        base = REPO_ROOT / folder
        for init in base.rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            relative = init.parent.relative_to(base).parts
            name = ".".join((top, *relative))
            if name not in packages:
                missing.append(name)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_listed_packages_exist():
    packages, roots = _declared()
    for name in packages:
        top, *rest = name.split(".")
        assert (REPO_ROOT / roots[top] / "/".join(rest) / "__init__.py").is_file(), name
