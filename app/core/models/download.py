"""Resumable, checksum-verified model downloads.

Bytes go to ``NAME.part`` (with ``NAME.part.json`` remembering the URL, validator and checksum),
so an interrupted download resumes with an HTTP Range request. The final name appears only after
the size, the SHA-256 and the GGUF magic all check out, so a half-written or corrupt file is
never loaded. A checksum mismatch deletes the partial file and downloads once more from scratch.

The expected SHA-256 comes from the caller (the catalog), else from the server: Hugging Face
answers ``resolve`` URLs with ``X-Linked-Etag: "<sha256>"`` for large files.

Gated models need a token: ``HF_TOKEN`` goes as a bearer token to the hub's own hosts with the
first request, and to any other host (a mirror) only after it answered 401/403, i.e. asked for it.
httpx drops the header when a redirect leaves the origin, so the CDN a resolve URL redirects to
never sees it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.core.agent.cancel import CancelToken
from app.core.models.gguf import GGUF_MAGIC

log = logging.getLogger(__name__)
CHUNK = 1 << 20
PROGRESS_EVERY = 0.1  # seconds between progress reports
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
HUB_HOSTS = ("huggingface.co", "hf.co")
TOKEN_ENVS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


def hub_token(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return next((env[n].strip() for n in TOKEN_ENVS if env.get(n, "").strip()), "")


def auth_headers(url: str, *, env: Mapping[str, str] | None = None,
                 asked: bool = False) -> dict[str, str]:
    """``Authorization: Bearer $HF_TOKEN`` for the hub (and its subdomains) up front, for any
    other host once it ``asked`` (a 401/403); nothing without a token."""
    token = hub_token(env)
    if not token:
        return {}
    host = (httpx.URL(url).host or "").lower()
    on_hub = any(host == h or host.endswith("." + h) for h in HUB_HOSTS)
    return {"Authorization": f"Bearer {token}"} if on_hub or asked else {}


class DownloadError(Exception):
    pass


class ChecksumError(DownloadError):
    pass


class DownloadCancelled(DownloadError):
    pass


@dataclass(frozen=True)
class DownloadProgress:
    url: str
    done: int
    total: int | None
    resumed_from: int
    started: float

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return (self.done - self.resumed_from) / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    sha256: str
    size: int
    verified: bool  # False when nobody published a checksum to compare against
    resumed: bool
    attempts: int


Progress = Callable[[DownloadProgress], None]


def _expected_sha(resp: httpx.Response) -> str:
    for r in (*resp.history, resp):
        for header in ("x-linked-etag", "etag"):
            value = r.headers.get(header, "").strip().strip('"').lower()
            if value.startswith("w/"):
                continue
            if _HEX64.match(value):
                return str(value)
    return ""


def _validator(resp: httpx.Response) -> str:
    value = resp.headers.get("etag", "")
    return value if value and not value.lower().startswith("w/") else ""


class _Meta:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {}
        try:
            self.data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            self.data = {}

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data), "utf-8")
        os.replace(tmp, self.path)


def _sha_file(path: Path, upto: int | None = None) -> Any:
    digest = hashlib.sha256()
    left = upto
    with path.open("rb") as fh:
        while True:
            want = CHUNK if left is None else min(CHUNK, left)
            if want == 0:
                break
            block = fh.read(want)
            if not block:
                break
            digest.update(block)
            if left is not None:
                left -= len(block)
    return digest


def download(url: str, dest: Path, *, sha256: str = "", size: int | None = None,
             progress: Progress | None = None, cancel: CancelToken | None = None,
             client: httpx.Client | None = None, attempts: int = 3,
             require_gguf: bool = True) -> DownloadResult:
    """Download ``url`` to ``dest``; resumes a ``.part`` left by an earlier try."""
    dest = dest.expanduser()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot write to {dest.parent}: {exc.strerror or exc}") from exc
    stamp = dest.with_name(dest.name + ".sha256")
    if dest.is_file() and sha256 and stamp.is_file() \
            and stamp.read_text().strip() == sha256.lower():
        return DownloadResult(dest, sha256.lower(), dest.stat().st_size, True, False, 0)
    own = client is None
    http = client or httpx.Client(follow_redirects=True,
                                  timeout=httpx.Timeout(60.0, connect=15.0))
    try:
        return _download(http, url, dest, stamp, sha256.lower(), size, progress, cancel,
                         attempts, require_gguf)
    except OSError as exc:  # the disk, not the network: full, read-only, gone
        raise DownloadError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    finally:
        if own:
            http.close()


def _download(http: httpx.Client, url: str, dest: Path, stamp: Path, sha256: str,
              size: int | None, progress: Progress | None, cancel: CancelToken | None,
              attempts: int, require_gguf: bool) -> DownloadResult:
    part = dest.with_name(dest.name + ".part")
    meta = _Meta(dest.with_name(dest.name + ".part.json"))
    if meta.data.get("url") != url:  # a stale part for another URL: start clean
        part.unlink(missing_ok=True)
        meta.data = {"url": url}
    resumed_any = False
    redone = False
    last_error = ""
    tries = 0
    while tries < attempts:
        tries += 1
        have = part.stat().st_size if part.exists() else 0
        try:
            outcome = _fetch(http, url, part, meta, have, size, progress, cancel)
        except (httpx.HTTPError, OSError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            log.warning("download of %s interrupted (%s); will resume", url, last_error)
            continue
        resumed_any = resumed_any or outcome
        expected = sha256 or str(meta.data.get("sha256", ""))
        total = part.stat().st_size
        want_size = size or meta.data.get("size")
        problem = ""
        if want_size and total != int(want_size):
            problem = f"size {total} bytes, expected {want_size}"
        digest = _sha_file(part).hexdigest()
        if not problem and expected and digest != expected:
            problem = f"SHA-256 {digest[:16]}… does not match the published {expected[:16]}…"
        if not problem and require_gguf:
            with part.open("rb") as fh:
                magic = fh.read(4)
            if magic != GGUF_MAGIC:
                problem = f"not a GGUF file (starts with {magic!r}; the server sent something else)"
        if problem:
            part.unlink(missing_ok=True)
            meta.data = {"url": url}
            meta.save()
            if redone:
                meta.path.unlink(missing_ok=True)
                raise ChecksumError(f"download of {url} is corrupt twice in a row: {problem}; "
                                    f"nothing was kept")
            log.warning("download of %s is corrupt (%s); downloading again", url, problem)
            redone = True
            tries = max(0, tries - 1)  # a redo is not an interrupted try
            continue
        os.replace(part, dest)
        stamp.write_text(digest + "\n")
        meta.path.unlink(missing_ok=True)
        return DownloadResult(dest, digest, total, bool(expected), resumed_any, tries)
    raise DownloadError(f"download of {url} failed after {attempts} tries ({last_error}); "
                        f"the partial file {part.name} is kept and the next try resumes it")


def _fetch(http: httpx.Client, url: str, part: Path, meta: _Meta, have: int, size: int | None,
           progress: Progress | None, cancel: CancelToken | None) -> bool:
    """Fetch into ``part`` from byte ``have``; returns whether it resumed."""
    headers: dict[str, str] = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
        if meta.data.get("validator"):
            headers["If-Range"] = str(meta.data["validator"])
    sent = auth_headers(url, asked=bool(meta.data.get("asked_token")))
    with http.stream("GET", url, headers={**headers, **sent}) as resp:
        if resp.status_code in (401, 403) and not sent and auth_headers(url, asked=True):
            meta.data["asked_token"] = True  # the host wants the token: send it from now on
            meta.save()
            resp.close()
            return _fetch(http, url, part, meta, have, size, progress, cancel)
        if resp.status_code == 416 and have:
            return True  # the part is already whole; verification decides
        if resp.status_code not in (200, 206):
            hint = ""
            if resp.status_code in (401, 403):
                hint = (" (it refused the token in HF_TOKEN: check that the token can read this "
                        "repository, and accept the model's terms on its page)" if sent else
                        " (the file needs a token: set HF_TOKEN)")
            raise DownloadError(f"{url} answered HTTP {resp.status_code}{hint}")
        resumed = resp.status_code == 206 and have > 0
        if resp.status_code == 206:
            match = re.match(r"bytes (\d+)-", resp.headers.get("content-range", ""))
            if not match or int(match.group(1)) != have:
                raise DownloadError(f"{url}: server resumed at the wrong offset "
                                    f"({resp.headers.get('content-range')!r}, wanted {have})")
        else:
            have = 0
        length = resp.headers.get("content-length")
        total = (have + int(length)) if length and length.isdigit() else size
        if _expected_sha(resp):
            meta.data["sha256"] = _expected_sha(resp)
        if total:
            meta.data["size"] = total
        meta.data["validator"] = _validator(resp)
        meta.save()
        started = time.monotonic()
        done = have
        last_report = 0.0
        with part.open("ab" if resumed else "wb") as out:
            # Blocks as they arrive (no re-chunking): whatever came before a drop is on disk.
            for block in resp.iter_bytes():
                if cancel is not None and cancel.cancelled:
                    out.flush()
                    raise DownloadCancelled(f"download of {url} cancelled; {done} bytes kept "
                                            f"in {part.name} for a resume")
                out.write(block)
                done += len(block)
                now = time.monotonic()
                if progress is not None and (now - last_report >= PROGRESS_EVERY
                                             or done == total):
                    last_report = now
                    progress(DownloadProgress(url, done, total, have, started))
            out.flush()
            os.fsync(out.fileno())
        if total and done < total:
            raise httpx.RemoteProtocolError(f"connection closed at {done} of {total} bytes")
        return resumed
