"""The downloader against a real local HTTP server: resume, corruption, checksums, cancel."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.models.download import (
    ChecksumError,
    DownloadCancelled,
    DownloadError,
    DownloadProgress,
    download,
)
from tests.file_server import file_server
from tests.gguf_fixture import write_gguf


@pytest.fixture
def model_bytes(tmp_path: Path) -> bytes:
    # About 3 MiB so the transfer spans several 1 MiB chunks.
    return write_gguf(tmp_path / "src.gguf", layers=12, layer_bytes=256 * 1024).read_bytes()


def test_plain_download_verified_by_published_sha(tmp_path: Path, model_bytes: bytes) -> None:
    seen: list[DownloadProgress] = []
    with file_server() as host:
        url = host.add("m.gguf", model_bytes)
        res = download(url, tmp_path / "out" / "m.gguf", progress=seen.append)
    assert res.verified and not res.resumed
    assert res.path.read_bytes() == model_bytes
    assert res.sha256 == hashlib.sha256(model_bytes).hexdigest()
    assert (tmp_path / "out" / "m.gguf.sha256").read_text().strip() == res.sha256
    assert not (tmp_path / "out" / "m.gguf.part").exists()
    assert seen[-1].done == len(model_bytes) and seen[-1].total == len(model_bytes)
    assert seen[-1].fraction == 1.0


def test_interrupted_download_resumes_with_a_range_request(tmp_path: Path,
                                                           model_bytes: bytes) -> None:
    with file_server() as host:
        url = host.add("m.gguf", model_bytes)
        host.cut_after["/m.gguf"] = 1_500_000
        res = download(url, tmp_path / "m.gguf")
        ranges = [r for (_m, _p, r) in host.requests]
    assert res.resumed and res.attempts == 2 and res.verified
    assert res.path.read_bytes() == model_bytes
    assert ranges[0] == "" and ranges[1].startswith("bytes=") and int(ranges[1][6:-1]) > 0


def test_a_partial_file_left_by_a_crash_is_resumed_later(tmp_path: Path,
                                                         model_bytes: bytes) -> None:
    with file_server() as host:
        url = host.add("m.gguf", model_bytes)
        host.cut_after["/m.gguf"] = 1_000_000
        with pytest.raises(DownloadError, match="kept and the next try resumes"):
            download(url, tmp_path / "m.gguf", attempts=1)
        part = tmp_path / "m.gguf.part"
        assert part.exists() and not (tmp_path / "m.gguf").exists()  # never the final name
        kept = part.stat().st_size
        res = download(url, tmp_path / "m.gguf")
        assert res.resumed and host.requests[-1][2] == f"bytes={kept}-"
    assert res.path.read_bytes() == model_bytes


def test_corrupt_once_is_redone_from_scratch(tmp_path: Path, model_bytes: bytes) -> None:
    with file_server() as host:
        url = host.add("m.gguf", model_bytes)
        host.corrupt_once.add("/m.gguf")
        res = download(url, tmp_path / "m.gguf")
        full_gets = [r for (_m, _p, r) in host.requests if r == ""]
    assert len(full_gets) == 2  # the second GET starts over, it does not resume a bad part
    assert res.path.read_bytes() == model_bytes and res.verified


def test_always_corrupt_fails_and_keeps_nothing(tmp_path: Path, model_bytes: bytes) -> None:
    with file_server() as host:
        url = host.add("m.gguf", model_bytes)
        host.corrupt_always.add("/m.gguf")
        with pytest.raises(ChecksumError, match=r"corrupt twice.*SHA-256"):
            download(url, tmp_path / "m.gguf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.gguf"]


def test_catalog_checksum_wins_over_the_server(tmp_path: Path, model_bytes: bytes) -> None:
    with file_server() as host:
        url = host.add("m.gguf", model_bytes)
        with pytest.raises(ChecksumError):
            download(url, tmp_path / "m.gguf", sha256="0" * 64)


def test_no_published_checksum_is_reported_unverified(tmp_path: Path,
                                                      model_bytes: bytes) -> None:
    with file_server() as host:
        host.publish_sha = False
        url = host.add("m.gguf", model_bytes)
        res = download(url, tmp_path / "m.gguf")
    assert not res.verified and res.sha256 == hashlib.sha256(model_bytes).hexdigest()


def test_html_instead_of_a_model_is_refused(tmp_path: Path) -> None:
    with file_server() as host:
        url = host.add("m.gguf", b"<html>login required</html>")
        with pytest.raises(ChecksumError, match="not a GGUF file"):
            download(url, tmp_path / "m.gguf")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with file_server() as host, pytest.raises(DownloadError, match="HTTP 404"):
        download(f"{host.base}/nope.gguf", tmp_path / "x.gguf")


def test_cancel_keeps_the_part_for_later(tmp_path: Path, model_bytes: bytes) -> None:
    token = CancelToken()

    def progress(p: DownloadProgress) -> None:
        token.cancel()

    with file_server() as host:
        url = host.add("m.gguf", model_bytes)
        with pytest.raises(DownloadCancelled):
            download(url, tmp_path / "m.gguf", progress=progress, cancel=token)
        assert (tmp_path / "m.gguf.part").stat().st_size > 0
        res = download(url, tmp_path / "m.gguf")
    assert res.resumed and res.path.read_bytes() == model_bytes


def test_already_downloaded_is_not_fetched_again(tmp_path: Path, model_bytes: bytes) -> None:
    with file_server() as host:
        url = host.add("m.gguf", model_bytes)
        first = download(url, tmp_path / "m.gguf")
        n = len(host.requests)
        again = download(url, tmp_path / "m.gguf", sha256=first.sha256)
        assert len(host.requests) == n and again.path == first.path
