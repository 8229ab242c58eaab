"""Where each SAM model's weights come from: a local file, the plugin's weights folder,
the checkpoint cache or the official download (through :mod:`qtt_core.checkpoints`)."""

from __future__ import annotations

from pathlib import Path

from segment_anything.modeling import Sam

from qtt_core.checkpoints import fetch_checkpoint, load_into, load_state_dict
from qtt_core.errors import UsageError
from qtt_sam.architectures import SamArchitecture

__all__ = ["WEIGHTS_DIR", "load_weights", "weights_path"]

#: files that ship with the plugin (``sam_nano.safetensors``, the sam-nano meta-dataset and predictors)
WEIGHTS_DIR = Path(__file__).resolve().parent / "assets"


def weights_path(arch: SamArchitecture, checkpoint: str | Path | None) -> Path | None:
    """The weights file of ``arch`` (fetched when needed); None for random weights.

    Order: ``checkpoint`` (a file in the official layout, as ``torch.save(sam.state_dict())``
    writes it, or ``.safetensors``); a ``.safetensors`` file of the plugin's ``assets/``
    folder; the cache or the official URL; models without a checkpoint (``sam-tiny``)
    keep their seeded random weights.

    Raises:
        UsageError: the file is missing or does not download.
    """
    if checkpoint is not None:
        return fetch_checkpoint(Path(checkpoint).name, None, None, local_path=checkpoint)
    if arch.checkpoint_file is None:
        return None
    if arch.checkpoint_file.endswith(".safetensors"):
        path = WEIGHTS_DIR / arch.checkpoint_file
        if not path.is_file():
            raise UsageError(
                f"{arch.name} weights {path} are missing; create them from a checkout of qtt-seg with "
                f"'python -m tools.sam_nano.pretrain --out DIR --export {path}' or pass --checkpoint PATH"
            )
        return path
    return fetch_checkpoint(arch.checkpoint_file, arch.checkpoint_url, arch.checkpoint_sha256)


def load_weights(sam: Sam, path: Path | None) -> None:
    """Copy the weights file at ``path`` into ``sam`` (nothing for None).

    Raises:
        UsageError: the file cannot be read or does not fit the architecture.
    """
    if path is not None:
        load_into(sam, load_state_dict(path), path)
