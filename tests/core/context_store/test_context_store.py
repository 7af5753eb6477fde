"""Volumes on real files: ingest rules, mmap slicing and grep, the FTS5 index, re-ingest."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.context_store.chunks import chunk_spans, hamming, simhash
from app.core.context_store.errors import VolumeError
from app.core.context_store.index import fts_query
from app.core.context_store.ingest import ingest
from app.core.context_store.search import search
from app.core.context_store.store import VolumeStore


def tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, body in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            p.write_bytes(body)
        else:
            p.write_text(body, encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tree(tmp_path / "proj", {
        ".gitignore": "*.tmp\nbuild/\n!keep.tmp\n/rootonly.txt\n",
        "a.py": "def alpha():\n    return 'first file'\n",
        "b/notes.md": "line one\nline two\nThe secret port is 48213\n",
        "b/rootonly.txt": "not anchored here, so kept\n",
        "rootonly.txt": "anchored: ignored\n",
        "junk.tmp": "ignored by pattern\n",
        "keep.tmp": "kept by negation\n",
        "build/out.txt": "ignored directory\n",
        "node_modules/x.js": "ignored by default\n",
        "img.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
        "empty.txt": "",
        "z_last.txt": "no trailing newline",
    })


def test_ingest_applies_ignore_rules_and_skips_binary(project: Path, tmp_path: Path) -> None:
    report = ingest([project], "p", tmp_path / "vols")
    store = VolumeStore(tmp_path / "vols")
    vol = store.get("p").volume
    paths = [f.path for f in vol.files]
    assert paths == ["proj/a.py", "proj/b/notes.md", "proj/b/rootonly.txt", "proj/empty.txt",
                     "proj/keep.tmp", "proj/z_last.txt"]
    assert report.binary == ["proj/img.png"]
    assert report.ignored >= 4  # junk.tmp, rootonly.txt, build/, node_modules/
    assert vol.meta.lines == 2 + 3 + 1 + 0 + 1 + 1
    assert vol.lines(0, vol.n_lines)[-1] == "no trailing newline"
    store.close()


def test_slice_grep_and_file_boundaries(project: Path, tmp_path: Path) -> None:
    ingest([project], "p", tmp_path / "vols")
    vol = VolumeStore(tmp_path / "vols").get("p").volume
    assert vol.lines(2, 5) == ["line one", "line two", "The secret port is 48213"]
    assert vol.file_at(2).path == "proj/b/notes.md"
    assert vol.file_at(6).path == "proj/keep.tmp"  # the empty file before it owns no line
    res = vol.grep("secret port")
    assert [(h.line, h.path, h.file_line) for h in res.hits] == [(5, "proj/b/notes.md", 3)]
    res = vol.grep(r"line \w+", regex=True, max_lines=1)
    assert res.total == 2 and res.truncated and res.hits[0].text == "line one"
    assert vol.grep("SECRET", ignore_case=True).total == 1
    assert vol.grep("SECRET").total == 0
    with pytest.raises(VolumeError, match="bad regular expression"):
        vol.grep("(unclosed", regex=True)


def test_offsets_index_is_exact(tmp_path: Path) -> None:
    body = "".join(f"line {i} ünïcode\n" for i in range(5000))
    tree(tmp_path / "src", {"big.txt": body})
    ingest([tmp_path / "src"], "big", tmp_path / "vols")
    vol = VolumeStore(tmp_path / "vols").get("big").volume
    assert isinstance(vol.offsets, np.memmap)
    assert vol.lines(4321, 4323) == ["line 4321 ünïcode", "line 4322 ünïcode"]
    assert vol.meta.chars == len(body)


def test_search_quotes_every_token(project: Path, tmp_path: Path) -> None:
    ingest([project], "p", tmp_path / "vols")
    handle = VolumeStore(tmp_path / "vols").get("p")
    hits = search(handle, "secret port?", 3)
    assert hits and hits[0].path == "proj/b/notes.md" and hits[0].best_line == 5
    for hostile in ['port" OR secret', "NEAR(secret port)", "secret*", "b:notes", "AND OR NOT",
                    '"', "(((", "-secret", "^port"]:
        search(handle, hostile, 3)  # must not raise an FTS5 syntax error
    assert fts_query('a "b" c:d') == '"b" OR "c d"'
    assert fts_query("the of ??") is None


def test_near_duplicate_chunks_are_marked_and_collapsed(tmp_path: Path) -> None:
    text = "".join(f"def handler_{i}(request):\n    return respond({i}, request)\n"
                   for i in range(300))
    tree(tmp_path / "src", {"one.py": text, "two.py": text})
    report = ingest([tmp_path / "src"], "dup", tmp_path / "vols")
    assert report.meta.near_dup_chunks == report.meta.chunks // 2
    hits = search(VolumeStore(tmp_path / "vols").get("dup"), "handler_17 respond", 5)
    assert [h.path for h in hits].count("src/two.py") == 0  # twins of listed chunks are left out


def test_simhash_separates_near_and_far() -> None:
    a = "".join(f"value_{i} = compute({i})\n" for i in range(200)).encode()
    b = a[:2000] + b"One extra line in the middle.\n" + a[2000:]
    c = "".join(f"The report {i} was filed late.\n" for i in range(200)).encode()
    assert hamming(simhash(a), simhash(b)) <= 5
    assert hamming(simhash(a), simhash(c)) > 12


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=900), min_size=1, max_size=120),
       st.integers(min_value=64, max_value=2000), st.integers(min_value=0, max_value=300))
def test_chunks_cover_every_line_with_overlap(lengths: list[int], target: int,
                                              overlap: int) -> None:
    starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    spans = chunk_spans(starts, target, overlap)
    covered = set()
    for a, z in spans:
        assert z > a
        covered.update(range(a, z))
        if z - a > 1:  # more than one line only while under the target
            assert starts[z - 1] - starts[a] < target
    assert covered == set(range(len(lengths)))
    assert all(s2[0] > s1[0] for s1, s2 in itertools.pairwise(spans))
    for (_, z1), (a2, _) in itertools.pairwise(spans):
        assert a2 <= z1  # consecutive chunks touch or overlap


def test_reingest_is_incremental(project: Path, tmp_path: Path) -> None:
    root = tmp_path / "vols"
    ingest([project], "p", root)
    store = VolumeStore(root)
    first = store.get("p")
    ids_before = dict(first.index.db.execute(
        "SELECT path, group_concat(id) FROM chunks GROUP BY path").fetchall())
    (project / "a.py").write_text("def alpha():\n    return 'changed'\n# one more line\n")
    (project / "keep.tmp").unlink()
    (project / "new.txt").write_text("a brand new file about zebras\n")
    report = ingest([project], "p", root)
    assert report.incremental
    assert (report.files_read, report.files_unchanged, report.files_removed) == (2, 4, 1)
    h = store.get("p")
    assert h is not first  # reopened on the new version
    assert h.volume.grep("secret port").hits[0].line == 6  # shifted by the longer a.py
    assert search(h, "zebras", 1)[0].path == "proj/new.txt"
    assert h.volume.grep("kept by negation").total == 0
    ids_after = dict(h.index.db.execute(
        "SELECT path, group_concat(id) FROM chunks GROUP BY path").fetchall())
    assert ids_after["proj/b/notes.md"] == ids_before["proj/b/notes.md"]  # rows kept
    assert ids_after["proj/a.py"] != ids_before["proj/a.py"]
    assert "proj/keep.tmp" not in ids_after
    assert len([p for p in root.iterdir() if p.name.startswith(".p.g")]) == 1  # old version gone
    store.close()


# --- bad input: each gives a clear message and leaves the existing volume intact ------------


@pytest.fixture
def existing(tmp_path: Path) -> tuple[Path, VolumeStore]:
    root = tmp_path / "vols"
    tree(tmp_path / "keep", {"facts.txt": "the launch code is 7781\n"})
    ingest([tmp_path / "keep"], "v", root)
    return root, VolumeStore(root)


def assert_intact(store: VolumeStore) -> None:
    vol = store.get("v").volume
    assert vol.grep("launch code is 7781").total == 1 and vol.meta.files == 1


def test_missing_path(existing: tuple[Path, VolumeStore], tmp_path: Path) -> None:
    root, store = existing
    with pytest.raises(VolumeError, match=r"no such file or directory: .*nowhere"):
        ingest([tmp_path / "keep", tmp_path / "nowhere"], "v", root)
    assert_intact(store)


def test_binary_blob_only(existing: tuple[Path, VolumeStore], tmp_path: Path) -> None:
    root, store = existing
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(50_000))
    with pytest.raises(VolumeError, match=r"nothing to ingest: .*1 binary"):
        ingest([blob], "v", root, replace=True)
    assert_intact(store)


def test_two_gigabyte_file(existing: tuple[Path, VolumeStore], tmp_path: Path) -> None:
    root, store = existing
    huge = tmp_path / "huge.log"
    with huge.open("wb") as fh:  # sparse: 2 GB on paper, nothing on disk
        fh.truncate(2 * 1024 ** 3)
    with pytest.raises(VolumeError, match=r"huge\.log: 2\.0 GB, over the 256\.0 MB per-file limit"):
        ingest([huge], "v", root, replace=True)
    assert_intact(store)
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "ok.txt").write_text("fine\n")
    report = ingest([huge, tmp_path / "more"], "other", root)  # skipped, the rest goes in
    assert report.too_large and report.meta.files == 1


def test_name_clash(existing: tuple[Path, VolumeStore], tmp_path: Path) -> None:
    root, store = existing
    tree(tmp_path / "elsewhere", {"x.txt": "other\n"})
    with pytest.raises(VolumeError, match=r"already exists with other sources.*--replace"):
        ingest([tmp_path / "elsewhere"], "v", root)
    assert_intact(store)
    with pytest.raises(VolumeError, match="bad volume name"):
        ingest([tmp_path / "elsewhere"], "../v", root)
    assert_intact(store)


def test_special_files_are_skipped(existing: tuple[Path, VolumeStore], tmp_path: Path) -> None:
    """A socket (like a FIFO, which would block a reader forever) is listed and skipped.
    Unreadable files are covered by tests/cli/test_ingest.py (chmod 000 needs root's override
    dropped, which needs a child process)."""
    import socket

    root, store = existing
    src = tree(tmp_path / "mixed", {"good.txt": "readable\n"})
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(src / "s.sock"))
    try:
        report = ingest([src], "mixed", root)
    finally:
        sock.close()
    assert report.meta.files == 1 and report.special == ["mixed/s.sock"]
    assert_intact(store)


def test_unknown_volume_names_the_known_ones(existing: tuple[Path, VolumeStore]) -> None:
    _, store = existing
    with pytest.raises(VolumeError, match=r"no volume named 'nope'; volumes: v"):
        store.get("nope")
