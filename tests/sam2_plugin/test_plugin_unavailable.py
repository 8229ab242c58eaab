"""Without the sam2 package, qtt-seg works and lists SAM 2 as unavailable with the install command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO_ROOT

#: a sitecustomize that makes ``sam2`` unimportable, as if it were not installed
_BLOCKER = '''
import sys

class _BlockSam2:
    def find_spec(self, name, path=None, target=None):
        if name == "sam2" or name.startswith("sam2."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _BlockSam2())
'''


def _run(tmp_path: Path, *args: str, autoload: bool) -> subprocess.CompletedProcess:
    blocker = tmp_path / "blocker"
    blocker.mkdir(exist_ok=True)
    (blocker / "sitecustomize.py").write_text(_BLOCKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(REPO_ROOT / "plugins"), str(REPO_ROOT)])}
    if autoload:  # entry points, as for a user
        env.pop("QTT_SEG_DISABLE_PLUGIN_AUTOLOAD", None)
        env.pop("QTT_SEG_PLUGINS", None)
    else:
        env["QTT_SEG_PLUGINS"] = "qtt_sam.plugin,qtt_sam2.plugin"
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)


def test_registry_lists_sam2_unavailable_with_the_install_command(tmp_path):
    code = (
        "import json; from qtt_core.registry import Registry; r = Registry(); "
        "print(json.dumps({'plugins': {i.name: [i.available, i.reason] for i in r.plugins()}, "
        "'adapters': sorted(n for n, _ in r.adapters.items())}))"
    )
    result = _run(tmp_path, "-c", code, autoload=False)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["plugins"]["qtt_sam2.plugin"] == [False, "SAM 2 needs the sam2 package: pip install qtt-seg[sam2]"]
    assert payload["plugins"]["qtt_sam.plugin"][0] is True
    assert payload["adapters"] == ["sam"]  # qtt-seg keeps working with SAM


def test_blocker_really_hides_sam2(tmp_path):
    result = _run(tmp_path, "-c", "import sam2", autoload=False)
    assert result.returncode != 0 and "No module named 'sam2'" in result.stderr


@pytest.mark.slow
def test_cli_plugins_lists_the_entry_point_unavailable(tmp_path):
    from importlib.metadata import entry_points

    if not any(ep.name == "sam2" for ep in entry_points(group="qtt_seg")):
        pytest.skip("the qtt_seg entry point 'sam2' is not installed (reinstall qtt-seg: pip install -e .)")
    result = _run(tmp_path, "-m", "qtt_core.cli.main", "plugins", "--json", autoload=True)
    assert result.returncode == 0, result.stderr
    assert "SAM 2 needs the sam2 package: pip install qtt-seg[sam2]" in result.stdout
