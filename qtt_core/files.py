"""Writing files so that a reader, or a resumed run, never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def _read_umask() -> int:
    umask = os.umask(0o022)  # reading the umask means setting it: done once, at import
    os.umask(umask)
    return umask


#: permissions ``open()`` gives a new file (0o666 less the process's umask at import)
NEW_FILE_MODE = 0o666 & ~_read_umask()


def write_atomic(path: Path, text: str | bytes) -> Path:
    """Write ``text`` to ``path`` so that a reader never sees a half-written file.

    The file gets the permissions an ordinary write would give it (a temporary file's are
    owner-only), or keeps those of the file it replaces.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, path.stat().st_mode & 0o7777 if path.exists() else NEW_FILE_MODE)
        with os.fdopen(handle, "wb") as file:
            file.write(text.encode() if isinstance(text, str) else text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
