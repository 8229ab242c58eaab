"""Atomic writes: whole files only, ordinary permissions, a replaced file keeps its mode."""

from __future__ import annotations

import os
import stat

from qtt_core.files import NEW_FILE_MODE, write_atomic


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_permissions_of_an_ordinary_write(tmp_path):
    ordinary = tmp_path / "ordinary.txt"
    ordinary.write_text("x")
    written = write_atomic(tmp_path / "sub" / "atomic.txt", "hello")
    assert written.read_text() == "hello" and _mode(written) == _mode(ordinary) == NEW_FILE_MODE
    assert [p.name for p in written.parent.iterdir()] == ["atomic.txt"]  # no temporary left behind


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "kept.csv"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == 0o640
