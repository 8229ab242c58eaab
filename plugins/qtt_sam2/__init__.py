"""qtt_sam2: SAM 2 (the ``sam2`` package) tuned with LoRA, reusing ``qtt_sam``'s engine.

- :class:`Sam2Adapter` (registered by :mod:`qtt_sam2.plugin`), :func:`load_tuned`.
- :mod:`qtt_sam2.wrapper`: the SAM 2 ``PromptableModel``; :mod:`qtt_sam2.architectures`: models.

Importing this package imports neither ``sam2`` nor torch model code.
"""

from __future__ import annotations

from qtt_sam2.adapter import MODEL_NAMES, Sam2Adapter, load_tuned

__all__ = ["MODEL_NAMES", "Sam2Adapter", "load_tuned"]
