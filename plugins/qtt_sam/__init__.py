"""qtt_sam: the default plugin: SAM (segment-anything) + LoRA (peft) tuning.

- :class:`SamAdapter` (registered by :mod:`qtt_sam.plugin`), :func:`load_tuned`.
- :mod:`qtt_engine`: the model-agnostic training engine other model plugins reuse.
- :mod:`qtt_sam.wrapper`: the SAM-specific wrapper; :mod:`qtt_sam.architectures`: sizes.
"""

from __future__ import annotations

from qtt_core.predict import predict_files  # masks and overlays for image files (model-agnostic)
from qtt_sam.adapter import MODEL_NAMES, SamAdapter, load_tuned

__all__ = ["MODEL_NAMES", "SamAdapter", "load_tuned", "predict_files"]
