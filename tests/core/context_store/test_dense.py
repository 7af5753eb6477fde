"""The optional semantic layer, on the real int8 MiniLM model (when the extra is installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.context_store import dense_status
from app.core.context_store.ingest import ingest
from app.core.context_store.search import search
from app.core.context_store.store import VolumeStore


@pytest.fixture
def volume(tmp_path: Path) -> VolumeStore:
    src = tmp_path / "notes"
    src.mkdir()
    (src / "a.md").write_text("\n".join([
        "The build farm archived the release notes before the freeze.",
        "Ilse lives beside the Eiffel Tower; the door code there is 2082663.",
        "2024-01-01T00:00:01Z INFO api.gateway path=/v1/items status=200",
    ] * 1) + "\n" + "".join(f"x_{i} = compute({i})\n" for i in range(40)))
    ingest([src], "n", tmp_path / "vols")
    return VolumeStore(tmp_path / "vols")


def test_without_the_extra_search_stays_bm25(volume: VolumeStore,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dense_status, "available", lambda: False)
    assert volume.dense("n") is None
    hits = search(volume.get("n"), "door code", 2, volume.dense("n"))
    assert hits[0].source == "bm25" and "door code" in hits[0].best_text
    assert "off (optional" in dense_status.semantic_status(volume.get("n").volume.directory)


# The extra is optional (CI installs only the test extra): skip when its packages are absent.
@pytest.mark.skipif(not dense_status.available(), reason="semantic extra not installed")
def test_dense_finds_what_shares_no_word_and_resumes(volume: VolumeStore) -> None:
    from app.core.context_store import dense

    vdir = volume.get("n").volume.directory
    assert dense.build(vdir, batch=2, should_stop=lambda: True) == 0
    assert "not built yet" in dense_status.semantic_status(vdir) or "0/" in \
        dense_status.semantic_status(vdir)
    calls: list[int] = []
    done = dense.build(vdir, batch=2, progress=lambda d, t: calls.append(d))
    total = dense.status_counts(vdir)[1]
    assert done == total and calls[-1] == total
    assert dense.build(vdir) == total  # nothing left: no model work
    assert dense_status.semantic_status(vdir).startswith("ready (")
    hits = search(volume.get("n"), "which digits unlock the entrance of her home?", 3,
                  volume.dense("n"))
    assert any("dense" in h.source for h in hits)
    assert hits[0].best_text.startswith("Ilse lives beside the Eiffel Tower")
