"""Search results in volume terms: file, volume line range, score and the best-matching line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.context_store.index import ChunkHit, query_terms
from app.core.context_store.store import Handle

_WORD = re.compile(r"\w+")


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


def best_line(handle: Handle, hit: ChunkHit, query: str) -> tuple[int, str]:
    """The line of the chunk that holds the most query weight (IDF of the query words it has,
    with a bonus for containing a whole multi-word term such as ``crimson-falcon-42``)."""
    f = handle.volume.file(hit.path)
    if f is None:
        return 0, ""
    terms = query_terms(query)
    words = [w for parts in terms for w in parts]
    idf = handle.index.idf(words)
    lines = handle.volume.lines(f.line0 + hit.line0, f.line0 + hit.line1)
    best, best_score = 0, -1.0
    for i, text in enumerate(lines):
        low = text.lower()
        present = set(_WORD.findall(low))
        score = sum(idf.get(w, 0.0) for w in present.intersection(words))
        for parts in terms:
            if len(parts) > 1 and all(p in present for p in parts):
                score += sum(idf.get(p, 0.0) for p in parts)
        if score > best_score:
            best, best_score = i, score
    text = lines[best] if lines else ""
    return f.line0 + hit.line0 + best + 1, text


def search(handle: Handle, query: str, k: int = 5) -> list[SearchHit]:
    out: list[SearchHit] = []
    for rank, hit in enumerate(handle.index.search(query, k), 1):
        f = handle.volume.file(hit.path)
        if f is None:  # index row of a file no longer in the volume: never expected
            continue
        line, text = best_line(handle, hit, query)
        out.append(SearchHit(rank, hit.score, hit.path, f.line0 + hit.line0 + 1,
                             f.line0 + hit.line1, hit.line0 + 1, line, text, hit.chunk_id))
    return out
