"""The sam-nano tools live in ``tools/sam_nano/`` of the checkout, not in the installed package:
put the repository root on ``sys.path`` so that ``tools.sam_nano`` imports, as
``python -m tools.sam_nano.pretrain`` does from the root."""

from __future__ import annotations

import sys

from helpers import REPO_ROOT

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
