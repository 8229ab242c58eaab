"""Model checkpoints: find, download, verify and load weight files, for every model plugin.

:func:`fetch_checkpoint` looks in this order: a local path the user gave (it must exist),
the cache directory (``$QTT_SEG_CACHE_DIR/checkpoints`` or ``~/.cache/qtt-seg/checkpoints``),
then a download with ``urllib`` into a temporary file that is verified and renamed into the
cache. Offline or on a checksum mismatch it raises :class:`~qtt_core.errors.UsageError`
saying where to put the file and where to get it. :func:`load_state_dict` and
:func:`load_into` read ``.pth``/``.pt`` (``torch.load(weights_only=True)``) and
``.safetensors`` files and check that they fit the model.

torch is imported inside the functions that need it, so ``import qtt_core`` stays light.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtt_core.errors import UsageError

if TYPE_CHECKING:
    import torch

__all__ = [
    "CACHE_ENV",
    "checkpoint_cache_dir",
    "fetch_checkpoint",
    "file_sha256",
    "load_into",
    "load_state_dict",
]

#: environment variable naming qtt-seg's cache root (checkpoints go to its ``checkpoints/``)
CACHE_ENV = "QTT_SEG_CACHE_DIR"
_CHUNK = 1 << 20


def checkpoint_cache_dir() -> Path:
    """``$QTT_SEG_CACHE_DIR/checkpoints``, or ``~/.cache/qtt-seg/checkpoints``."""
    root = os.environ.get(CACHE_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "qtt-seg"
    return base / "checkpoints"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file at ``path`` (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_checkpoint(
    name: str,
    url: str | None,
    sha256: str | None,
    local_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    timeout_s: float = 30.0,
) -> Path:
    """The path of checkpoint file ``name``, downloading it into the cache when needed.

    Args:
        name: the file name the checkpoint is known by (e.g. ``"sam_vit_b_01ec64.pth"``).
        url: where to download it from (``http(s)://`` or ``file://``); None: no download.
        sha256: expected hex SHA-256; None skips verification of cached and downloaded files.
        local_path: a file the user named; it wins and is used as is (never verified
            against ``sha256``, since users pass their own fine-tuned weights).
        cache_dir: folder to look in and download to (default :func:`checkpoint_cache_dir`).
        timeout_s: network timeout of the download, in seconds.

    Returns:
        The path of the checkpoint file.

    Raises:
        UsageError: the local file is missing, the download failed (offline), or a file's
            checksum does not match; the message names the path to put the file at and the URL.
    """
    if local_path is not None:
        path = Path(local_path).expanduser()
        if not path.is_file():
            raise UsageError(f"checkpoint {path} does not exist; pass the path of an existing weights file")
        return path
    folder = Path(cache_dir).expanduser() if cache_dir is not None else checkpoint_cache_dir()
    target = folder / name
    if target.is_file():
        _verify(target, target, sha256, url, kept=True)
        return target
    if url is None:
        raise UsageError(f"checkpoint {name} is not in the cache; put it at {target} or pass --checkpoint PATH")
    _download(url, target, sha256, timeout_s)
    return target


def _verify(path: Path, target: Path, sha256: str | None, url: str | None, kept: bool) -> None:
    """Check ``path``'s checksum; the message names ``target``, where the file belongs."""
    if sha256 is None:
        return
    actual = file_sha256(path)
    if actual.lower() != sha256.lower():
        where = f"replace {target}" if kept else f"put a good copy at {target}"
        raise UsageError(f"checkpoint {target.name} has SHA-256 {actual}, expected {sha256}; {where} with the file from {url}")


def _download(url: str, target: Path, sha256: str | None, timeout_s: float) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False)
    partial = Path(handle.name)
    try:
        with handle, urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - http/file URLs by design
            shutil.copyfileobj(response, handle, _CHUNK)
        _verify(partial, target, sha256, url, kept=False)
        partial.replace(target)
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise UsageError(
            f"could not download checkpoint {target.name} from {url} ({_reason(error)}); "
            f"download it yourself and put it at {target}, or pass --checkpoint PATH"
        ) from None
    finally:
        partial.unlink(missing_ok=True)


def _reason(error: Exception) -> str:
    reason = getattr(error, "reason", None)
    return str(reason or error).strip() or type(error).__name__


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a weights file: ``.safetensors``, or a torch pickle read with ``weights_only=True``.

    A pickle holding ``{"model": state_dict}`` or ``{"state_dict": state_dict}`` (common
    training-checkpoint layouts) is unwrapped.

    Raises:
        UsageError: the file cannot be read as weights.
    """
    import torch

    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        loaded: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any read failure is the file's fault
        raise UsageError(f"checkpoint {path} cannot be read as weights ({type(error).__name__}: {error}); check the file") from None
    for key in ("model", "state_dict"):
        if isinstance(loaded, Mapping) and key in loaded and isinstance(loaded[key], Mapping):
            loaded = loaded[key]
    if not isinstance(loaded, Mapping) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise UsageError(f"checkpoint {path} holds no state dict of tensors; pass a weights file")
    return dict(loaded)


def load_into(module: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str | Path) -> None:
    """Copy ``state`` into ``module``, insisting that keys and shapes fit exactly.

    Tensors are cast to the dtype of the module's own tensors (an fp16 file loads into an
    fp32 model).

    Raises:
        UsageError: naming the first few missing and unexpected keys, or mismatched shapes.
    """
    expected = module.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    if missing or unexpected:
        raise UsageError(
            f"checkpoint {source} does not fit the model: {len(missing)} missing keys {_first(missing)}, "
            f"{len(unexpected)} unexpected keys {_first(unexpected)}; pass weights of this architecture"
        )
    wrong = [f"{key} {tuple(state[key].shape)} != {tuple(value.shape)}" for key, value in expected.items() if state[key].shape != value.shape]
    if wrong:
        raise UsageError(f"checkpoint {source} does not fit the model: shapes differ for {_first(wrong)}; pass weights of this architecture")
    module.load_state_dict({key: state[key].to(expected[key].dtype) for key in expected})


def _first(items: list[str], n: int = 3) -> str:
    shown = ", ".join(items[:n])
    return f"[{shown}{', ...' if len(items) > n else ''}]"
