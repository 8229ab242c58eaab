"""Export a tuned configuration (small safetensors + JSON) and load it back to predict.

An export folder holds:

- ``tuned.json``: the model wrapper's description, the configuration, the epoch, the
  input side, class names, the prompt protocol (``box`` or ``none``; with ``none`` the
  number of class-head outputs and the prefix that trained), the LoRA settings and the file
  names below;
- ``trainable.safetensors``: the trained tensors only (LoRA A/B matrices under their peft
  names, unfrozen decoder / prompt-encoder weights), a few MB;
- optionally ``merged.safetensors``: the full model with LoRA merged into the base
  weights, in the base model's own key layout (usable without peft).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from qtt_core.adapter import TunedModel
from qtt_core.errors import UsageError
from qtt_engine.cache import EmbeddingCache
from qtt_engine.config import TrainConfig
from qtt_engine.loop import EngineContext, input_side, predict_dense_maps, predict_label_maps
from qtt_engine.prompts import BoxPrompts
from qtt_engine.protocol import PromptableModel
from qtt_engine.trial import Trial, TrialState, build_model, trainable_state

__all__ = ["FORMAT", "TunedSegmenter", "export_trial", "load_tuned", "merged_state_dict"]

FORMAT = "qtt-seg-tuned/1"
META_FILE = "tuned.json"
TRAINABLE_FILE = "trainable.safetensors"
MERGED_FILE = "merged.safetensors"


def export_trial(
    wrapper: PromptableModel,
    trial: Trial,
    state: TrialState,
    out_dir: Path,
    class_names: Sequence[str],
    merged: bool = False,
    legend: dict[str, Any] | None = None,
    prompt: str = "box",
    always_trained: Sequence[str] = (),
) -> Path:
    """Write ``trial``'s tuned weights and settings to ``out_dir``; return the folder.

    Args:
        legend: the data's mask values per label (:mod:`qtt_core.data.legend`), kept so that
            predictions can be written in them.
        prompt: the protocol it was tuned with; ``none`` models predict without boxes.
        always_trained: the prefixes that trained whatever the configuration said (the class head's).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {name: value.contiguous() for name, value in trainable_state(trial.model).items()}
    save_file(tensors, str(out_dir / TRAINABLE_FILE))
    if merged:
        save_file(merged_state_dict(trial.model), str(out_dir / MERGED_FILE))
    lora = trial.lora
    meta = {
        "format": FORMAT,
        "wrapper": wrapper.describe(),
        "config": state.config,
        "epoch": state.epoch,
        "val_scores": state.scores,
        "input_side": input_side(wrapper, trial.config.resolution_scale),
        "class_names": list(class_names),
        "legend": legend,
        "prompt": prompt,
        "class_head": {"outputs": len(class_names) + 1, "trained": list(always_trained)} if prompt == "none" else None,
        "lora": None if lora is None else {
            "r": lora.r, "lora_alpha": lora.lora_alpha, "lora_dropout": lora.lora_dropout, "target_modules": lora.target_modules,
        },
        "files": {"trainable": TRAINABLE_FILE, "merged": MERGED_FILE if merged else None},
    }
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2))
    return out_dir


def merged_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's weights with LoRA merged in, keyed like the base model (CPU tensors)."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    merged = copy.deepcopy(model).cpu()
    for name, module in list(merged.named_modules()):
        if isinstance(module, BaseTunerLayer):
            module.merge()
            parent_name, _, child = name.rpartition(".")
            setattr(merged.get_submodule(parent_name) if parent_name else merged, child, module.get_base_layer())
    return {name: value.detach().contiguous() for name, value in merged.state_dict().items()}


class TunedSegmenter(TunedModel):
    """A tuned model ready to predict label maps, from box prompts or (``prompt`` ``none``) from
    the image alone.

    Attributes:
        meta: the export's ``tuned.json``.
        prompt: ``box`` or ``none``, the protocol it was tuned with.
    """

    def __init__(self, wrapper: PromptableModel, model: torch.nn.Module, meta: dict[str, Any], device: torch.device):
        self.wrapper = wrapper
        self.model = model.eval()
        self.meta = meta
        self.legend = meta.get("legend")
        self.side = int(meta["input_side"])
        self.prompt = str(meta.get("prompt", "box"))
        self.context = EngineContext(  # type: ignore[arg-type]
            wrapper, None, EmbeddingCache(0), device, max(1, len(meta["class_names"])), prompt=self.prompt
        )

    @torch.no_grad()
    def predict(self, image: np.ndarray, boxes: Sequence[Sequence[float]] | None = None) -> np.ndarray:
        """``H x W`` uint8 label map for an ``H x W x 3`` uint8 image.

        Args:
            boxes: ``[x0, y0, x1, y1]`` or ``[x0, y0, x1, y1, label]`` in pixels of ``image``
                (label 1 when not given); None: one box around the whole image. A model tuned
                without prompts takes none.

        Raises:
            UsageError: malformed boxes, or boxes for a model tuned without prompts.
        """
        height, width = image.shape[:2]
        if self.prompt == "none":
            if boxes:
                raise UsageError("this model was tuned without prompts (--prompt none); it takes no boxes")
            embeddings = self.context.embed(self.model, [self._resized(image)], None, grad=False)
            return predict_dense_maps(self.context, self.model, embeddings, [(height, width)], self.side)[0]
        rows = [list(map(float, box)) for box in boxes] if boxes else [[0, 0, width - 1, height - 1]]
        if any(len(row) not in (4, 5) for row in rows):
            raise UsageError("boxes must be [x0, y0, x1, y1] or [x0, y0, x1, y1, label] in pixels")
        prompts = BoxPrompts(
            np.asarray([row[:4] for row in rows], dtype=np.float32),
            np.asarray([int(row[4]) if len(row) == 5 else 1 for row in rows], dtype=np.int64),
            np.zeros((len(rows), 0, 0), dtype=bool),
        )
        embeddings = self.context.embed(self.model, [self._resized(image)], None, grad=False)
        return predict_label_maps(self.context, self.model, embeddings, [prompts], [(height, width)], self.side)[0]

    def _resized(self, image: np.ndarray) -> np.ndarray:
        """``side x side x 3`` uint8, bilinear."""
        return np.asarray(Image.fromarray(np.ascontiguousarray(image[..., :3])).resize((self.side, self.side), Image.BILINEAR))


def load_tuned(weights_dir: str | Path, make_wrapper: Callable[[dict[str, Any]], PromptableModel], device: str = "cpu") -> TunedSegmenter:
    """Load what :func:`export_trial` wrote.

    Args:
        make_wrapper: builds the model wrapper from ``tuned.json``'s ``wrapper`` entry.

    Raises:
        UsageError: the folder is not an export, or its weights do not fit.
    """
    folder = Path(weights_dir)
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise UsageError(f"{folder} holds no {META_FILE}; pass a folder written by export (a run's weights folder)")
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT:
        raise UsageError(f"{meta_path} has format {meta.get('format')!r}, expected {FORMAT!r}")
    wrapper = make_wrapper(meta["wrapper"])
    settings = TrainConfig.from_mapping(meta["config"], wrapper.part_defaults)
    base = wrapper.build()
    always_trained: tuple[str, ...] = ()
    if meta.get("prompt", "box") == "none":
        always_trained = (wrapper.add_class_head(base, int(meta["class_head"]["outputs"])),)  # type: ignore[attr-defined]
    base.requires_grad_(False)
    model, _ = build_model(wrapper, base, settings, always_trained)
    tensors = load_file(str(folder / meta["files"]["trainable"]))
    parameters = {name: p for name, p in model.named_parameters() if p.requires_grad}
    if set(tensors) != set(parameters):
        missing, unexpected = sorted(set(parameters) - set(tensors)), sorted(set(tensors) - set(parameters))
        raise UsageError(f"{folder / TRAINABLE_FILE} does not fit its configuration: missing {missing[:3]}, unexpected {unexpected[:3]}")
    with torch.no_grad():
        for name, value in tensors.items():
            parameters[name].copy_(value)
    model.requires_grad_(False)
    torch_device = torch.device(device)
    return TunedSegmenter(wrapper, model.to(torch_device), meta, torch_device)
