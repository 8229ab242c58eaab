"""Embedding the core must stay light: no segment-anything, peft or timm behind qtt_core."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "qtt_core",
    "qtt_core.registry",
    "qtt_core.space",
    "qtt_core.testing",
    "qtt_core.metafeatures",
    "qtt_core.optimizer",
    "qtt_core.metadataset",
    "qtt_core.data",
]


def test_core_imports_no_model_libraries():
    code = (
        "import importlib, sys\n"
        f"for name in {CORE_MODULES!r}: importlib.import_module(name)\n"
        "import qtt_core; qtt_core.Registry(autoload=False).spaces.names()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('segment_anything', 'peft', 'timm', 'ray', 'sam2'))\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"qtt_core imported: {out.stdout.strip()}"
