"""One-paragraph descriptions of volumes: what the agent gets instead of the text."""

from __future__ import annotations

from collections import Counter

from app.core.context_store.layout import Meta
from app.core.context_store.volume import Volume


def top_level(volume: Volume, limit: int = 8) -> str:
    counts: Counter[str] = Counter()
    for f in volume.files:
        head, sep, _ = f.path.partition("/")
        counts[head + "/" if sep else head] += 1
    parts = [f"{k} ({plural(v, 'file')})" if k.endswith("/") else k
             for k, v in counts.most_common(limit)]
    if len(counts) > limit:
        parts.append(f"… {len(counts) - limit} more")
    return ", ".join(parts)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def one_line(meta: Meta) -> str:
    return (f"{meta.name}: {plural(meta.files, 'file')}, {meta.lines:,} lines, {meta.chars:,} chars "
            f"(~{meta.approx_tokens:,} tokens), {meta.chunks:,} chunks")


def describe(volume: Volume, semantic: str = "") -> str:
    m = volume.meta
    skipped = m.skipped or {}
    skip_bits = [f"{skipped.get('binary', 0)} binary", f"{len(skipped.get('too_large', []))} too large",
                 f"{len(skipped.get('unreadable', []))} unreadable",
                 f"{skipped.get('ignored', 0)} ignored"]
    lines = [
        f"Volume '{m.name}': {m.chars:,} chars (~{m.approx_tokens:,} tokens), {m.lines:,} lines, "
        f"{plural(m.files, 'file')}, {plural(m.chunks, 'chunk')} ({m.near_dup_chunks:,} near-duplicate).",
        f"Top-level: {top_level(volume)}.",
        f"Sources: {', '.join(m.sources)}.",
        f"Skipped at ingest: {', '.join(skip_bits)}.",
    ]
    if semantic:
        lines.append(f"Semantic index: {semantic}.")
    lines.append("Query it with ctx_search (words), ctx_grep (exact text or regex) and read lines "
                 "with ctx_slice; line numbers are volume lines.")
    return "\n".join(lines)
