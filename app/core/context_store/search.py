"""Search results in volume terms: file, volume line range, score and the best-matching line.

BM25 (FTS5) always; when a semantic index exists, its sub-chunk hits are fused in by reciprocal rank
(a dense hit inside a BM25 chunk adds to that chunk, any other becomes its own result).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.core.context_store.index import ChunkHit, query_terms
from app.core.context_store.store import Handle

if TYPE_CHECKING:
    from app.core.context_store.dense import DenseIndex

# Letters and digits, split at underscores too: what the FTS5 unicode61 tokenizer calls a token.
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SearchHit:
    rank: int
    score: float
    path: str
    line_start: int   # 1-based volume lines, inclusive
    line_end: int
    file_line_start: int
    best_line: int    # 1-based volume line that matches the query best
    best_text: str
    chunk_id: int
    source: str = "bm25"


def lexical_best(handle: Handle, path: str, line0: int, line1: int,
                 query: str) -> tuple[int, str, float]:
    """The line of a span holding the most query weight (IDF of the query words it has, plus a
    bonus for a whole multi-word term such as ``crimson-falcon-42``): (volume line, text, score)."""
    f = handle.volume.file(path)
    if f is None:
        return 0, "", 0.0
    terms = query_terms(query)
    words = [w for parts in terms for w in parts]
    idf = handle.index.idf(words)
    lines = handle.volume.lines(f.line0 + line0, f.line0 + line1)
    best, best_score = 0, -1.0
    for i, text in enumerate(lines):
        present = set(_WORD.findall(text.lower()))
        score = sum(idf.get(w, 0.0) for w in present.intersection(words))
        for parts in terms:
            if len(parts) > 1 and all(p in present for p in parts):
                score += sum(idf.get(p, 0.0) for p in parts)
        if score > best_score:
            best, best_score = i, score
    return f.line0 + line0 + best + 1, (lines[best] if lines else ""), max(best_score, 0.0)


def best_line(handle: Handle, hit: ChunkHit, query: str) -> tuple[int, str]:
    line, text, _ = lexical_best(handle, hit.path, hit.line0, hit.line1, query)
    return line, text


def search(handle: Handle, query: str, k: int = 5,
           dense: DenseIndex | None = None) -> list[SearchHit]:
    if dense is not None and dense.done:
        return _hybrid(handle, query, k, dense)
    out: list[SearchHit] = []
    for rank, hit in enumerate(handle.index.search(query, k), 1):
        f = handle.volume.file(hit.path)
        if f is None:  # index row of a file no longer in the volume: never expected
            continue
        line, text = best_line(handle, hit, query)
        out.append(SearchHit(rank, hit.score, hit.path, f.line0 + hit.line0 + 1,
                             f.line0 + hit.line1, hit.line0 + 1, line, text, hit.chunk_id))
    return out


@dataclass
class _Item:
    path: str
    line0: int
    line1: int
    chunk_id: int
    bm25_rank: int | None = None
    dense_rank: int | None = None
    focus: tuple[int, int] | None = None  # the dense sub-chunk inside, if any
    sources: list[str] = field(default_factory=list)


def _hybrid(handle: Handle, query: str, k: int, dense: DenseIndex) -> list[SearchHit]:
    from app.core.context_store.dense import rrf

    pool = max(k * 3, 10)
    items: list[_Item] = []
    for r, h in enumerate(handle.index.search(query, pool), 1):
        items.append(_Item(h.path, h.line0, h.line1, h.chunk_id, bm25_rank=r, sources=["bm25"]))
    for r, d in enumerate(dense.search(query, pool), 1):
        home = next((it for it in items if it.path == d.path and it.bm25_rank is not None
                     and it.line0 <= d.line0 < it.line1), None)
        if home is None:
            items.append(_Item(d.path, d.line0, d.line1, -1, dense_rank=r, focus=(d.line0, d.line1),
                               sources=["dense"]))
        elif home.dense_rank is None:
            home.dense_rank, home.focus = r, (d.line0, d.line1)
            home.sources.append("dense")
    items.sort(key=lambda it: rrf([it.bm25_rank, it.dense_rank]), reverse=True)
    out: list[SearchHit] = []
    for rank, it in enumerate(items[:k], 1):
        f = handle.volume.file(it.path)
        if f is None:
            continue
        line, text, score = lexical_best(handle, it.path, it.line0, it.line1, query)
        if score <= 0 and it.focus is not None:  # no query word in it: ask the embedder
            line, text = _dense_best(handle, dense, it.path, *it.focus, query)
        out.append(SearchHit(rank, rrf([it.bm25_rank, it.dense_rank]), it.path,
                             f.line0 + it.line0 + 1, f.line0 + it.line1, it.line0 + 1, line,
                             text, it.chunk_id, "+".join(it.sources)))
    return out


def _dense_best(handle: Handle, dense: DenseIndex, path: str, line0: int, line1: int,
                query: str) -> tuple[int, str]:
    f = handle.volume.file(path)
    assert f is not None
    lines = handle.volume.lines(f.line0 + line0, f.line0 + line1)
    candidates = [(i, t) for i, t in enumerate(lines) if t.strip()]
    if not candidates:
        return f.line0 + line0 + 1, ""
    vecs = dense.embedder.embed([t for _, t in candidates] + [query])
    best = int((vecs[:-1] @ vecs[-1]).argmax())
    i, text = candidates[best]
    return f.line0 + line0 + i + 1, text
