"""The checkpoint fetcher: local path, cache, download with checksum, offline message, loading.

Downloads come from a local http.server on 127.0.0.1, file:// URLs or a fake ``urlopen``,
never the internet.
"""

from __future__ import annotations

import email.message
import hashlib
import http.server
import io
import threading
import time
import urllib.request
from functools import partial

import pytest
import torch

from qtt_core.checkpoints import LOCK_NAME, checkpoint_cache_dir, fetch_checkpoint, load_into, load_state_dict
from qtt_core.errors import UsageError

PAYLOAD = b"pretend weights " * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server(tmp_path):
    """Serves ``tmp_path/served`` on 127.0.0.1; yields (base URL, list of requested paths)."""
    root = tmp_path / "served"
    root.mkdir()
    (root / "w.pth").write_bytes(PAYLOAD)
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _files(folder) -> list[str]:
    """Names in ``folder`` other than the download lock, sorted."""
    return sorted(p.name for p in folder.iterdir() if p.name != LOCK_NAME)


class _FakeResponse(io.BytesIO):
    """What ``urlopen`` returns: ``body``, announced as ``length`` bytes by Content-Length."""

    def __init__(self, body: bytes, length: int):
        super().__init__(body)
        self.headers = email.message.Message()
        self.headers["Content-Length"] = str(length)


@pytest.fixture
def fake_urlopen(monkeypatch):
    """Replaces ``urllib.request.urlopen``; yields the list of requested URLs.

    Each request is answered with ``fake_urlopen.body`` (default ``PAYLOAD``) announced as
    ``fake_urlopen.length`` bytes (default its true length), after ``fake_urlopen.delay_s``.
    """
    requests: list[str] = []

    def urlopen(url, timeout):
        requests.append(url)
        time.sleep(fake.delay_s)
        return _FakeResponse(fake.body, len(fake.body) if fake.length is None else fake.length)

    fake = type("Fake", (), {"body": PAYLOAD, "length": None, "delay_s": 0.0, "requests": requests})
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return fake


def test_cache_dir_follows_the_environment(cache_dir):
    assert checkpoint_cache_dir() == cache_dir / "checkpoints"


def test_local_path_wins_and_must_exist(tmp_path, server):
    local = tmp_path / "mine.pth"
    local.write_bytes(b"x")
    url, requests = server
    assert fetch_checkpoint("w.pth", f"{url}/w.pth", SHA, local_path=local, cache_dir=tmp_path / "c") == local
    assert requests == []
    with pytest.raises(UsageError, match=r"missing\.pth does not exist"):
        fetch_checkpoint("w.pth", f"{url}/w.pth", SHA, local_path=tmp_path / "missing.pth")


def test_download_verifies_and_caches(cache_dir, server):
    url, requests = server
    path = fetch_checkpoint("w.pth", f"{url}/w.pth", SHA)
    assert path == cache_dir / "checkpoints" / "w.pth" and path.read_bytes() == PAYLOAD
    assert fetch_checkpoint("w.pth", f"{url}/w.pth", SHA) == path
    assert requests == ["/w.pth"]  # the second call used the cache
    assert _files(path.parent) == ["w.pth"]  # no partial files left, no recorded checksum (it is published)


def test_download_with_wrong_checksum_keeps_nothing(tmp_path, server):
    url, _ = server
    target = tmp_path / "c" / "w.pth"
    with pytest.raises(UsageError, match=rf"expected {'0' * 64}; put a good copy at {target} with the file from {url}/w.pth"):
        fetch_checkpoint("w.pth", f"{url}/w.pth", "0" * 64, cache_dir=tmp_path / "c")
    assert _files(tmp_path / "c") == []


def test_corrupt_cached_file_is_reported(tmp_path):
    cached = tmp_path / "w.pth"
    cached.write_bytes(b"truncated")
    with pytest.raises(UsageError, match=rf"replace {cached} with the file from http://example.invalid/w.pth"):
        fetch_checkpoint("w.pth", "http://example.invalid/w.pth", SHA, cache_dir=tmp_path)


def test_cached_file_without_checksum_is_used(tmp_path):
    (tmp_path / "w.pth").write_bytes(b"anything")
    assert fetch_checkpoint("w.pth", None, None, cache_dir=tmp_path) == tmp_path / "w.pth"


def test_offline_says_where_to_put_the_file(tmp_path, server):
    url, _ = server
    target = tmp_path / "c" / "gone.pth"
    with pytest.raises(UsageError, match=rf"from {url}/gone.pth .*put it at {target}"):
        fetch_checkpoint("gone.pth", f"{url}/gone.pth", None, cache_dir=tmp_path / "c")
    closed = "http://127.0.0.1:9/w.pth"  # the discard port: connection refused
    with pytest.raises(UsageError, match="could not download checkpoint w.pth"):
        fetch_checkpoint("w.pth", closed, SHA, cache_dir=tmp_path / "c", timeout_s=2)


def test_no_url_and_not_cached(tmp_path):
    with pytest.raises(UsageError, match=rf"put it at {tmp_path / 'x.pth'}"):
        fetch_checkpoint("x.pth", None, None, cache_dir=tmp_path)


def test_file_url_download(tmp_path):
    source = tmp_path / "src.pth"
    source.write_bytes(PAYLOAD)
    path = fetch_checkpoint("w.pth", source.as_uri(), SHA, cache_dir=tmp_path / "c")
    assert path.read_bytes() == PAYLOAD


def test_load_state_dict_reads_plain_wrapped_and_safetensors(tmp_path):
    from safetensors.torch import save_file

    state = {"a.weight": torch.ones(2, 3), "b": torch.zeros(1)}
    torch.save(state, tmp_path / "plain.pth")
    torch.save({"model": state, "epoch": 3}, tmp_path / "wrapped.pth")
    save_file(state, str(tmp_path / "w.safetensors"))
    for name in ("plain.pth", "wrapped.pth", "w.safetensors"):
        loaded = load_state_dict(tmp_path / name)
        assert set(loaded) == set(state) and torch.equal(loaded["a.weight"], state["a.weight"])


class _NotWeights:
    pass


def test_load_state_dict_refuses_pickled_objects_and_junk(tmp_path):
    torch.save({"obj": _NotWeights()}, tmp_path / "evil.pth")
    with pytest.raises(UsageError, match="cannot be read as weights"):
        load_state_dict(tmp_path / "evil.pth")  # weights_only=True refuses arbitrary classes
    (tmp_path / "junk.pth").write_bytes(b"not a pickle")
    with pytest.raises(UsageError, match="junk.pth"):
        load_state_dict(tmp_path / "junk.pth")
    torch.save([1, 2], tmp_path / "list.pth")
    with pytest.raises(UsageError, match="holds no state dict"):
        load_state_dict(tmp_path / "list.pth")


def test_load_into_checks_keys_and_casts_dtype():
    module = torch.nn.Linear(2, 2)
    load_into(module, {"weight": torch.ones(2, 2, dtype=torch.float16), "bias": torch.zeros(2)}, "f")
    assert module.weight.dtype == torch.float32 and torch.equal(module.weight, torch.ones(2, 2))
    with pytest.raises(UsageError, match=r"1 missing keys \[bias\], 1 unexpected keys \[extra\]"):
        load_into(module, {"weight": torch.ones(2, 2), "extra": torch.ones(1)}, "f")


def test_short_download_is_refused_and_not_cached(tmp_path, fake_urlopen):
    fake_urlopen.body, fake_urlopen.length = b"0123456789", 1_000_000
    with pytest.raises(UsageError, match=r"w.pt from http://x/w.pt stopped after 10 of 1000000 bytes; run again") as raised:
        fetch_checkpoint("w.pt", "http://x/w.pt", None, cache_dir=tmp_path)
    assert "\n" not in str(raised.value)
    assert _files(tmp_path) == []  # neither the file, nor its .part, nor a checksum


def test_download_without_published_checksum_records_and_checks_one(tmp_path, fake_urlopen):
    path = fetch_checkpoint("w.pt", "http://x/w.pt", None, cache_dir=tmp_path)
    assert _files(tmp_path) == ["w.pt", "w.pt.sha256"]
    assert (tmp_path / "w.pt.sha256").read_text() == f"{SHA}  w.pt\n"  # sha256sum's format
    assert fetch_checkpoint("w.pt", "http://x/w.pt", None, cache_dir=tmp_path) == path
    assert fake_urlopen.requests == ["http://x/w.pt"]  # the second call used the cache
    path.write_bytes(PAYLOAD[:-1] + b"!")  # tampered with (or damaged) after the download
    with pytest.raises(UsageError, match=rf"checkpoint w.pt has SHA-256 .* expected {SHA}; .* delete {path} to download it again") as raised:
        fetch_checkpoint("w.pt", "http://x/w.pt", None, cache_dir=tmp_path)
    assert "\n" not in str(raised.value)
    path.unlink()  # as the message says: the next call downloads it again
    assert fetch_checkpoint("w.pt", "http://x/w.pt", None, cache_dir=tmp_path).read_bytes() == PAYLOAD


def test_stale_partial_downloads_are_removed(tmp_path, fake_urlopen):
    (tmp_path / "w.pt.part").write_bytes(b"interrupted")
    (tmp_path / "other.pt.part").write_bytes(b"interrupted")
    fetch_checkpoint("w.pt", "http://x/w.pt", None, cache_dir=tmp_path)
    assert _files(tmp_path) == ["w.pt", "w.pt.sha256"]


def test_concurrent_fetches_download_once(tmp_path, fake_urlopen):
    fake_urlopen.delay_s = 0.3
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(fetch_checkpoint("w.pt", "http://x/w.pt", None, cache_dir=tmp_path)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake_urlopen.requests == ["http://x/w.pt"] and paths == [tmp_path / "w.pt"] * 2
