"""Line-aware chunking and 64-bit simhash fingerprints.

Chunks are about ``target`` bytes of whole lines, never crossing a file boundary, and overlap by at
least ``overlap`` bytes so a fact sitting on a chunk edge is whole in one of them. Simhash is used
only to mark near-duplicate chunks (Hamming distance <= 3, Manku et al. 2007): it says nothing about
relevance to a query (see docs: a query against a 4K chunk has near-zero cosine with every chunk).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TARGET = 4096
OVERLAP = 256
NEAR_DUP_BITS = 3



def chunk_spans(starts: npt.NDArray[np.int64], target: int = TARGET,
                overlap: int = OVERLAP) -> list[tuple[int, int]]:
    """Line spans ``(first, end)`` for one file whose line starts are ``starts`` (n_lines + 1
    entries, the last being the file's length)."""
    n = len(starts) - 1
    spans: list[tuple[int, int]] = []
    i = 0
    while i < n:
        j = int(np.searchsorted(starts, starts[i] + target, side="left"))
        j = min(max(j, i + 1), n)
        spans.append((i, j))
        if j >= n:
            break
        k = int(np.searchsorted(starts, starts[j] - overlap, side="right")) - 1
        i = max(k, i + 1)
    return spans


_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xBF58476D1CE4E5B9)
_SHINGLE = 5


def simhash(data: bytes) -> int:
    """64-bit simhash over the distinct byte 5-grams of ``data`` (lowercased), mixed to 64 bits.

    Byte shingles keep the whole computation in numpy: about 0.2 ms per 4 KB chunk, where a
    Python word loop took 3 ms.
    """
    a = np.frombuffer(data.lower(), dtype=np.uint8)
    if a.size < _SHINGLE:
        return 0
    n = a.size - _SHINGLE + 1
    g = np.zeros(n, dtype=np.uint64)
    for i in range(_SHINGLE):
        g |= a[i:i + n].astype(np.uint64) << np.uint64(8 * i)
    h = g * _K1
    h ^= h >> np.uint64(31)
    h *= _K2
    h ^= h >> np.uint64(29)
    # Each distinct shingle counts once (a set simhash, tracking Jaccard similarity): counted
    # with repeats, indentation and common keywords outvote the content of every code chunk.
    h.sort()
    h = h[np.concatenate(([True], h[1:] != h[:-1]))]
    n = h.size
    ones = np.unpackbits(h.view(np.uint8), bitorder="little").reshape(n, 64).sum(
        axis=0, dtype=np.int64)
    bits = np.flatnonzero(ones * 2 > n).astype(np.uint64)
    return int(np.sum(np.left_shift(np.uint64(1), bits))) if bits.size else 0


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


class NearDupIndex:
    """Finds an earlier fingerprint within ``NEAR_DUP_BITS`` bits: four 16-bit blocks, and any
    match within 3 bits agrees exactly on at least one of them."""

    def __init__(self) -> None:
        self._blocks: list[dict[int, list[tuple[int, int]]]] = [{} for _ in range(4)]

    def add(self, chunk_id: int, fp: int) -> int | None:
        """Record ``fp``; return the id of an earlier near-duplicate, if any."""
        found: int | None = None
        for b in range(4):
            key = (fp >> (16 * b)) & 0xFFFF
            for other_id, other_fp in self._blocks[b].get(key, ()):
                if hamming(fp, other_fp) <= NEAR_DUP_BITS:
                    found = other_id
                    break
            if found is not None:
                break
        for b in range(4):
            self._blocks[b].setdefault((fp >> (16 * b)) & 0xFFFF, []).append((chunk_id, fp))
        return found


def to_signed(u: int) -> int:
    """SQLite integers are signed 64-bit."""
    return u - (1 << 64) if u >= 1 << 63 else u


def to_unsigned(s: int) -> int:
    return s + (1 << 64) if s < 0 else s
