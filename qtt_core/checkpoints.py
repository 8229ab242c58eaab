"""Model checkpoints: find, download, verify and load weight files, for every model plugin.

:func:`fetch_checkpoint` looks in this order: a local path the user gave (it must exist),
the cache directory (``$QTT_SEG_CACHE_DIR/checkpoints`` or ``~/.cache/qtt-seg/checkpoints``),
then a download with ``urllib`` into ``<name>.part`` that is checked (length against the
server's Content-Length, SHA-256 against the published one) and renamed into the cache.
Files without a published checksum get the SHA-256 of their first complete download
recorded beside them (``<name>.sha256``) and checked on every later load. Offline, on a
short download or a checksum mismatch it raises :class:`~qtt_core.errors.UsageError`
saying which file and what to do. :func:`load_state_dict` and
:func:`load_into` read ``.pth``/``.pt`` (``torch.load(weights_only=True)``) and
``.safetensors`` files and check that they fit the model.

torch is imported inside the functions that need it, so ``import qtt_core`` stays light.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from qtt_core.errors import UsageError
from qtt_core.files import write_atomic

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

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
#: file in the cache folder that a downloading process holds locked
LOCK_NAME = ".download.lock"
_CHUNK = 1 << 20


def checkpoint_cache_dir() -> Path:
    """``$QTT_SEG_CACHE_DIR/checkpoints``, or ``~/.cache/qtt-seg/checkpoints``."""
    root = os.environ.get(CACHE_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "qtt-seg"
    return base / "checkpoints"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file at ``path`` (read in 1 MiB chunks)."""
    with open(path, "rb") as handle:
        return _read_through(handle)[1]


def _read_through(source: BinaryIO, sink: BinaryIO | None = None) -> tuple[int, str]:
    """Read ``source`` to its end in 1 MiB chunks, writing them to ``sink`` if given.

    Returns:
        The number of bytes read and their hex SHA-256.
    """
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: source.read(_CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return size, digest.hexdigest()


def fetch_checkpoint(
    name: str,
    url: str | None,
    sha256: str | None,
    local_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    timeout_s: float = 30.0,
) -> Path:
    """The path of checkpoint file ``name``, downloading it into the cache when needed.

    A cached file is checked against ``sha256`` when there is one (SAM's published
    checksums); otherwise against the SHA-256 recorded beside it at its download
    (``<name>.sha256``, for files without published checksums such as SAM 2's). A cached
    file with neither (put there by hand) is used as is.

    Args:
        name: the file name the checkpoint is known by (e.g. ``"sam_vit_b_01ec64.pth"``).
        url: where to download it from (``http(s)://`` or ``file://``); None: no download.
        sha256: expected hex SHA-256; None: trust the first complete download and record its checksum.
        local_path: a file the user named; it wins and is used as is (never verified
            against ``sha256``, since users pass their own fine-tuned weights).
        cache_dir: folder to look in and download to (default :func:`checkpoint_cache_dir`).
        timeout_s: network timeout of the download, in seconds.

    Returns:
        The path of the checkpoint file.

    Raises:
        UsageError: the local file is missing, the download failed (offline) or stopped short,
            or a file's checksum does not match; the message says which file and what to do.
    """
    if local_path is not None:
        path = Path(local_path).expanduser()
        if not path.is_file():
            raise UsageError(f"checkpoint {path} does not exist; pass the path of an existing weights file")
        return path
    folder = Path(cache_dir).expanduser() if cache_dir is not None else checkpoint_cache_dir()
    target = folder / name
    if not target.is_file():
        if url is None:
            raise UsageError(f"checkpoint {name} is not in the cache; put it at {target} or pass --checkpoint PATH")
        with _download_lock(folder):
            if not target.is_file():  # another process may have downloaded it while this one waited
                _download(url, target, sha256, timeout_s)
                return target
    _verify_cached(target, sha256, url)
    return target


def _sidecar(target: Path) -> Path:
    """``<target>.sha256``: the checksum recorded when ``target`` was downloaded (``sha256sum`` format)."""
    return target.with_name(target.name + ".sha256")


def _verify_cached(target: Path, sha256: str | None, url: str | None) -> None:
    """Check a cached file against the published checksum, else against the one recorded at its download."""
    sidecar = _sidecar(target)
    if sha256 is not None:
        _check(target, sha256, f"replace {target} with the file from {url}")
    elif sidecar.is_file():
        recorded = (sidecar.read_text().split() or ["(empty)"])[0]
        _check(target, recorded, f"it changed since its download (recorded in {sidecar}); delete {target} to download it again, or pass --checkpoint PATH")


def _check(path: Path, expected: str, advice: str, actual: str | None = None) -> None:
    """Raise a one-line UsageError naming ``path`` when its SHA-256 (``actual``, else computed) is not ``expected``."""
    actual = actual or file_sha256(path)
    if actual != expected.lower():
        raise UsageError(f"checkpoint {path.name} has SHA-256 {actual}, expected {expected}; {advice}")


@contextlib.contextmanager
def _download_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (POSIX ``flock``), so one process downloads into it at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # no flock (Windows): concurrent downloads are not coordinated
        yield
        return
    with open(folder / LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _download(url: str, target: Path, sha256: str | None, timeout_s: float) -> None:
    """Download ``url`` to ``<target>.part``, check it, then rename it to ``target`` (call under :func:`_download_lock`).

    Stale ``*.part`` files of interrupted downloads are removed first. The download must be as
    long as the server's Content-Length; without ``sha256`` its checksum is recorded in
    :func:`_sidecar` for later loads.
    """
    for stale in target.parent.glob("*.part"):
        stale.unlink(missing_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, open(partial, "wb") as handle:  # noqa: S310 - http/file URLs by design
            announced = response.headers.get("Content-Length")
            received, actual = _read_through(response, handle)
        if announced is not None and received != int(announced):
            raise UsageError(
                f"download of checkpoint {target.name} from {url} stopped after {received} of {announced} bytes; "
                f"run again to retry, or download it yourself and put it at {target}, or pass --checkpoint PATH"
            )
        if sha256 is not None:
            _check(target, sha256, f"put a good copy at {target} with the file from {url}", actual=actual)
        else:
            write_atomic(_sidecar(target), f"{actual}  {target.name}\n")
        partial.replace(target)
    except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as error:
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
