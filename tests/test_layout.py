"""The test tree cannot pass for an installed package, availability checks are not fooled, and
``qtt_core`` has no import cycle.

pytest puts ``tests/`` and ``benchmarks/`` on ``sys.path``; a folder there named like a package
(``tests/sam2``) imports as a namespace package of that name and makes a missing optional
dependency look installed.
"""

from __future__ import annotations

import ast
import re
import importlib.machinery
import sys
from pathlib import Path

import pytest

from helpers import REPO_ROOT
from qtt_core.installed import package_installed

#: import names of the project's dependencies, optional ones included, installed here or not
_DEPENDENCIES = {
    "sam2", "hydra", "iopath", "ray", "segment_anything", "peft", "timm", "torch", "torchvision", "botorch",
    "gpytorch", "linear_operator", "scipy", "ConfigSpace", "pluggy", "numpy", "yaml", "safetensors", "PIL", "pandas",
    "typer", "rich", "matplotlib", "omegaconf", "pyarrow", "tifffile", "pyte", "pytest", "pytest_benchmark", "sam", "qtt_core", "qtt_sam",
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


# ----------------------------------------------------------------------- import cycles
def _import_graph(root: Path, package: str, deferred: bool = False) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` (under ``root``) that importing it runs first.

    Only imports executed at import time count: module and class bodies, ``if``/``try``/``with``
    blocks, not function bodies nor ``if TYPE_CHECKING:``. ``from X import n`` needs the module
    ``X.n`` when there is one, else ``X`` itself; a needed module also needs its packages, except
    the importer's own (they are already running), so a package's ``__init__`` importing its
    submodules is no cycle, but a submodule importing a name its package defines is.
    ``deferred``: imports in function bodies count too.
    """
    modules: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        own_package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        running = {".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 2)}  # itself, its packages
        needed: set[str] = set()
        for node in _imports(ast.parse(path.read_text(), str(path)).body, deferred):
            if isinstance(node, ast.Import):
                needed.update(alias.name for alias in node.names)
                continue
            source = node.module or ""
            if node.level:
                base = own_package.split(".")[: len(own_package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                needed.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
        graph[name] = set()
        for target in needed:
            packages = {".".join(target.split(".")[:k]) for k in range(1, target.count(".") + 1)} - running
            graph[name].update(m for m in packages | {target} if m in modules and m != name)
    return graph


def _imports(body: list[ast.stmt], deferred: bool):
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not deferred:
            continue
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _imports(node.orelse, deferred)
        else:
            handlers = [stmt for handler in getattr(node, "handlers", []) for stmt in handler.body]
            for block in (getattr(node, "body", []), getattr(node, "orelse", []), getattr(node, "finalbody", []), handlers):
                yield from _imports(block, deferred)


def _import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def test_qtt_core_has_no_import_cycle():
    graph = _import_graph(REPO_ROOT, "qtt_core")
    assert graph["qtt_core"], "the cycle finder sees no import in qtt_core/__init__.py"
    cycles = [
        f"{members}: " + ", ".join(f"{m} -> {sorted(graph[m] & set(members))}" for m in members)
        for members in _import_cycles(graph)
    ]  # fmt: skip
    assert not cycles, (
        f"import cycles in qtt_core: {cycles}; move what both modules need into a module of its own, "
        "or import inside the one function that needs it"
    )


def test_qtt_core_subpackages_do_not_import_each_other_in_a_circle():
    """Here imports inside functions count: deferring one hides a cycle from import time, not
    from the design (``data.synthetic`` once imported ``testing.data``, which imports ``data``)."""
    graph: dict[str, set[str]] = {}
    for module, imported in _import_graph(REPO_ROOT, "qtt_core", deferred=True).items():
        part = ".".join(module.split(".")[:2])  # qtt_core.data.masks -> qtt_core.data
        graph.setdefault(part, set()).update(".".join(m.split(".")[:2]) for m in imported)
        graph[part].discard(part)
    cycles = _import_cycles(graph)
    assert not cycles, f"qtt_core's subpackages import each other in a circle: {cycles}; move the shared piece"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.py": "from pkg.b import B\nA = 1", "b.py": "from .a import A\nB = 1"}, [["pkg.a", "pkg.b"]]),
        (  # imports inside functions and for type checkers run later or never
            {"a.py": "from pkg.b import B", "b.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.a import A\n"
             "else:\n    import os\ndef f():\n    from pkg.a import A"},
            [],
        ),
        (  # a package importing its submodules, one of which imports another through the package
            {"__init__.py": "from pkg.a import A\nfrom . import b", "a.py": "from pkg import b\nA = 1", "b.py": "B = 1"},
            [],
        ),
        (  # a submodule importing a name its package defines after importing the submodule
            {"__init__.py": "from pkg.a import A\nNAME = 1", "a.py": "from pkg import NAME\nA = 1"},
            [["pkg", "pkg.a"]],
        ),
        (  # importing pkg.sub.y runs pkg/sub/__init__.py first, which imports z, which imports d
            {"d.py": "from pkg.sub.y import Y", "sub/__init__.py": "from pkg.sub.z import Z", "sub/y.py": "Y = 1",
             "sub/z.py": "try:\n    from pkg.d import D\nexcept ImportError:\n    D = None"},
            [["pkg.d", "pkg.sub", "pkg.sub.z"]],
        ),
        ({"a.py": "class A:\n    from pkg.b import B", "b.py": "import pkg.a"}, [["pkg.a", "pkg.b"]]),
    ],
    ids=["siblings", "deferred-imports", "package-imports-submodules", "name-from-own-package", "package-runs-first",
         "class-body"],
)  # fmt: skip
def test_the_cycle_finder_counts_what_runs_at_import_time(tmp_path, files, expected):
    for name, text in {"__init__.py": "", **files}.items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_text(text + "\n")
    assert _import_cycles(_import_graph(tmp_path, "pkg")) == expected


def test_the_cycle_finder_counts_deferred_imports_when_asked(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import B\n")
    (tmp_path / "pkg" / "b.py").write_text("import typing\nif typing.TYPE_CHECKING:\n    import pkg.c\ndef f():\n    from pkg.a import A\n")
    (tmp_path / "pkg" / "c.py").write_text("import pkg.b\n")
    assert _import_cycles(_import_graph(tmp_path, "pkg")) == []
    assert _import_cycles(_import_graph(tmp_path, "pkg", deferred=True)) == [["pkg.a", "pkg.b"]]


def test_the_core_names_no_plugins_model_space_or_meta_dataset():
    """Plugins declare their models, spaces and meta-datasets; the core must not know them."""
    from qtt_core.registry import DEFAULT_PLUGINS, Registry

    names = {
        name
        for info in Registry().plugins()
        if info.name not in DEFAULT_PLUGINS
        for key in ("models", "search_spaces", "meta_datasets")
        for name in info.contributes.get(key, [])
    }
    assert {"sam-nano", "sam-tiny"} <= names  # the SAM plugin is registered in the test session
    core = Path(__file__).resolve().parents[1] / "qtt_core"
    found = sorted(
        f"{path.relative_to(core.parent)}: {name}"
        for path in core.rglob("*.py")
        for name in names
        if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", path.read_text())
    )
    assert not found, found
