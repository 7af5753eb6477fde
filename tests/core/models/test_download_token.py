"""HF_TOKEN reaches the hub and the mirrors that ask for it, and no host that does not.

The downloader used to say "set HF_TOKEN" on 401/403 without ever sending it: a gated model could
not be downloaded at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.models.download import DownloadError, auth_headers, download
from tests.file_server import file_server
from tests.gguf_fixture import write_gguf

TOKEN = "hf_testtoken_0123456789"


@pytest.fixture
def gguf(tmp_path: Path) -> bytes:
    return write_gguf(tmp_path / "src.gguf", layers=2, layer_bytes=4096).read_bytes()


def test_a_mirror_that_asks_gets_the_token_and_the_file(tmp_path: Path, gguf: bytes,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with file_server() as host:
        url = host.add("gated.gguf", gguf)
        host.tokens["/gated.gguf"] = TOKEN
        res = download(url, tmp_path / "out" / "gated.gguf")
        seen = [a for p, a in host.auth_seen if p == "/gated.gguf"]
    assert res.path.read_bytes() == gguf and res.verified
    assert seen[0] == "" and seen[-1] == f"Bearer {TOKEN}"  # sent only once it was asked for


def test_a_host_that_does_not_ask_never_sees_the_token(tmp_path: Path, gguf: bytes,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with file_server() as host:
        url = host.add("open.gguf", gguf)
        download(url, tmp_path / "open.gguf")
        assert all(auth == "" for _, auth in host.auth_seen)


def test_without_a_token_the_error_says_how_to_set_one(tmp_path: Path, gguf: bytes,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    with file_server() as host:
        url = host.add("gated.gguf", gguf)
        host.tokens["/gated.gguf"] = TOKEN
        with pytest.raises(DownloadError, match="set HF_TOKEN"):
            download(url, tmp_path / "g.gguf")


def test_a_refused_token_is_named_as_the_problem(tmp_path: Path, gguf: bytes,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_wrong_token_000000")
    with file_server() as host:
        url = host.add("gated.gguf", gguf)
        host.tokens["/gated.gguf"] = TOKEN
        with pytest.raises(DownloadError, match="refused the token in HF_TOKEN") as info:
            download(url, tmp_path / "g.gguf")
    assert "hf_wrong_token" not in str(info.value)


def test_the_hub_gets_the_token_up_front_other_hosts_only_when_they_ask() -> None:
    env = {"HF_TOKEN": TOKEN}
    for url in ("https://huggingface.co/org/m/resolve/main/m.gguf",
                "https://hf.co/org/m/resolve/main/m.gguf",
                "https://cdn-lfs.huggingface.co/x"):
        assert auth_headers(url, env=env) == {"Authorization": f"Bearer {TOKEN}"}
    mirror = "https://hf-mirror.example/org/m/resolve/main/m.gguf"
    assert auth_headers(mirror, env=env) == {}
    assert auth_headers(mirror, env=env, asked=True) == {"Authorization": f"Bearer {TOKEN}"}
    assert auth_headers("http://huggingface.co.evil.example/x", env=env) == {}
    assert auth_headers("https://huggingface.co/x", env={}) == {}
    legacy = {"HUGGING_FACE_HUB_TOKEN": TOKEN}
    assert auth_headers("https://huggingface.co/x", env=legacy) != {}
