"""The optional dense layer for memory: the context store's MiniLM embedder, loaded on first use.

Without the ``semantic`` extra nothing here loads and memory searches are BM25 only.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.core.context_store.dense_status import available

log = logging.getLogger(__name__)


def dense_installed() -> bool:
    """The same check as volumes' dense layer (the extra's packages, without importing them)."""
    return available()


class LazyEmbedder:
    """Callable like ``Embedder.embed``; loads the model once, on the first call."""

    def __init__(self) -> None:
        self._embed: Any = None
        self._failed = False
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> Any:
        with self._lock:
            if self._embed is None and not self._failed:
                try:
                    from app.core.context_store.dense import Embedder

                    self._embed = Embedder(threads=1).embed
                except Exception as exc:
                    self._failed = True
                    log.warning("memory: the dense layer did not load (%s); BM25 only", exc)
            if self._embed is None:
                raise RuntimeError("the dense layer is not available")
            return self._embed(texts)


def embedder() -> LazyEmbedder | None:
    """An embedder when the dense layer is installed, else None."""
    return LazyEmbedder() if dense_installed() else None
