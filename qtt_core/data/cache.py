"""On-disk cache of decoded, resized arrays as memory-mapped ``.npy`` files.

An entry is keyed by the source file (absolute path, size in bytes, modification time in
nanoseconds), the requested resolution and the decoding options, so editing a file, asking
for another size or changing the mask encoding never returns a stale array. Entries are
written atomically (:func:`qtt_core.files.write_atomic`: temporary file, fsync, rename), so
parallel readers and writers are safe and a crash never leaves a half-written entry.
Arrays come back memory-mapped copy-on-write: writing to them never changes the cache.

The directory is ``cache_dir``, else ``$QTT_SEG_CACHE_DIR/data``, else
``~/.cache/qtt-seg/data``. Nothing prunes it; delete the folder to reclaim the space.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qtt_core.files import write_atomic

__all__ = ["ArrayCache", "default_cache_dir"]


def default_cache_dir() -> Path:
    """``$QTT_SEG_CACHE_DIR/data`` or ``~/.cache/qtt-seg/data``."""
    root = os.environ.get("QTT_SEG_CACHE_DIR")
    return Path(root).expanduser() / "data" if root else Path.home() / ".cache" / "qtt-seg" / "data"


class ArrayCache:
    """Get-or-compute for arrays derived from one file.

    Args:
        directory: where entries live; None disables caching (every call decodes).
    """

    def __init__(self, directory: str | Path | None):
        self.directory = None if directory is None else Path(directory).expanduser()
        self.hits = 0
        self.misses = 0

    def get(self, source: Path, options: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached array for ``(source, options)``, computing and storing it on a miss.

        Args:
            source: the file the array is decoded from (its identity is part of the key).
            options: everything else that changes the array (kind, size, decoding), as text.
            compute: decodes the array on a miss.
        """
        if self.directory is None:
            self.misses += 1
            return compute()
        path = self._entry(source, options)
        if path.is_file():
            try:
                array = np.load(path, mmap_mode="c")
                self.hits += 1
                return array
            except (OSError, ValueError):
                pass  # a damaged entry is recomputed below
        self.misses += 1
        array = compute()
        self._store(path, array)
        return array

    def _entry(self, source: Path, options: str) -> Path:
        stat = source.stat()
        identity = f"{os.path.abspath(source)}\0{stat.st_size}\0{stat.st_mtime_ns}\0{options}"
        digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()
        return self.directory / digest[:2] / f"{digest[2:34]}.npy"

    def _store(self, path: Path, array: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array))
        try:
            write_atomic(path, buffer.getvalue())
        except OSError:
            pass  # a read-only or full cache disk only costs speed
