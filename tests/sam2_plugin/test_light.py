"""Registering the SAM 2 plugin and constructing its adapter import no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import require_sam2

require_sam2()

_CODE = (
    "import sys, json; import qtt_sam2.plugin as p; a = p.qtt_model_adapters()[0]; a.model_names(); "
    "p.qtt_meta_datasets(); print(json.dumps(sorted(m for m in ('sam2', 'hydra', 'peft', 'segment_anything', 'timm') if m in sys.modules)))"
)


def test_plugin_and_adapter_import_nothing_heavy():
    result = subprocess.run([sys.executable, "-c", _CODE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
