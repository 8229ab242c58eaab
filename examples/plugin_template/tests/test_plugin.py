"""The plugin's own tests: qtt-seg's conformance checks on its adapter and space, and a light
import. Run them with ``pip install -e . && pytest`` in this folder.

``qtt_core.testing`` has the checks that qtt-seg runs over every registered provider:
``check_space`` (loads, exact size, encoding round-trips) and ``check_adapter`` (freeze-thaw,
deadline, scores in [0, 1], export and ``load_tuned`` on a tiny generated dataset).
"""

from __future__ import annotations

import os
import subprocess
import sys

from qtt_core.registry import Registry
from qtt_core.testing import check_adapter, check_space
from qtt_engine import PromptableModel

from qtt_template import plugin


def _registry() -> Registry:
    """A registry with only this plugin (and qtt-seg's built-ins), whatever else is installed."""
    return Registry(autoload=False, plugins=[plugin])


def test_space_conforms():
    check_space(_registry().spaces.get(plugin.SPACE_NAME))


def test_adapter_conforms():
    registry = _registry()
    adapter = registry.adapters.get("template")
    assert isinstance(adapter.wrapper("template-tiny"), PromptableModel)
    check_adapter(adapter, registry=registry)


def test_importing_the_plugin_does_not_import_torch():
    code = "import sys, qtt_template.plugin; sys.exit('torch' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    assert subprocess.run([sys.executable, "-c", code], check=False, env=env).returncode == 0, "qtt_template.plugin imports torch"
