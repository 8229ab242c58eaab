"""qtt_sam: the default plugin: SAM (segment-anything) + LoRA (peft) tuning.

- :class:`SamAdapter` (registered by :mod:`qtt_sam.plugin`), :func:`load_tuned`.
- :mod:`qtt_sam.engine`: the model-agnostic training engine other model plugins reuse.
- :mod:`qtt_sam.wrapper`: the SAM-specific wrapper; :mod:`qtt_sam.architectures`: sizes.
"""

from __future__ import annotations

from qtt_sam.adapter import MODEL_NAMES, SamAdapter, load_tuned

__all__ = ["MODEL_NAMES", "SamAdapter", "load_tuned", "predict_files"]


def predict_files(tuned, images, out_dir, boxes_file=None):
    """Segment image files and write masks and overlays; see :func:`qtt_sam.engine.predict_files`."""
    from qtt_sam.engine.predict import predict_files as _predict_files

    return _predict_files(tuned, images, out_dir, boxes_file)
