"""Bad input that used to escape as an internal error: decompression bombs; cache entries that a
crash could leave half-written."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from helpers import run_cli
from qtt_core import files
from qtt_core.data.cache import ArrayCache
from qtt_core.data.readers import read_header, read_image, read_mask
from qtt_core.errors import UsageError


def test_decompression_bomb_is_one_problem_line_in_data_check(monkeypatch, binary_folder, gen):
    Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(binary_folder / "images" / "sample00.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)  # 24 x 32 pixels pass, 100 x 100 are a bomb
    before = gen.snapshot(binary_folder)
    result = run_cli("data", "check", binary_folder)
    assert result.returncode == 2, result
    problems = [line for line in result.stderr.splitlines() if line.startswith("qtt-seg: problem: ")]
    assert len(problems) == 1 and "sample00.png is too large" in problems[0] and "resize it" in problems[0]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert gen.snapshot(binary_folder) == before


@pytest.mark.parametrize("suffix", [".png", ".tif"])  # a TIFF must not fall through to tifffile
def test_readers_refuse_bombs_naming_the_file(monkeypatch, tmp_path, suffix):
    path = tmp_path / f"big{suffix}"
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    for read in (read_header, read_image, read_mask):
        with pytest.raises(UsageError, match=rf"big\{suffix} is too large to decode safely .*MAX_IMAGE_PIXELS"):
            read(path)


def test_cache_entries_are_synced_to_disk_and_leave_no_temporary_files(monkeypatch, tmp_path):
    synced = []
    real_fsync = files.os.fsync
    monkeypatch.setattr(files.os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    source = tmp_path / "source.png"
    source.write_bytes(b"x")
    cache = ArrayCache(tmp_path / "cache")
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    cache.get(source, "a", lambda: array)
    assert len(synced) == 1
    assert [p.suffix for p in (tmp_path / "cache").rglob("*") if p.is_file()] == [".npy"]
    assert np.array_equal(cache.get(source, "a", lambda: pytest.fail("recomputed")), array) and cache.hits == 1


def test_unwritable_cache_still_gives_the_array(tmp_path):
    source = tmp_path / "source.png"
    source.write_bytes(b"x")
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    assert np.array_equal(ArrayCache(blocked).get(source, "a", lambda: np.ones(3)), np.ones(3))
