"""Query vectors remembered: the same short text is embedded once per process, not once per ask.

A search page embeds its query for the documents and its topic for the people to ask (often the
same text), and every filter change or next page asks the same query again. Only single
questions (`encode_query`) are cached; what is stored (`encode`) goes straight to the embedder.
"""
from __future__ import annotations

from threading import Lock
from typing import Any

import numpy as np
from cachetools import LRUCache

SIZE = 512


class QueryVectors:
    """An Embedder with an LRU of single-text encodings; everything else is the embedder's."""

    def __init__(self, embedder: Any, size: int = SIZE):
        self.embedder, self.size = embedder, size
        self._cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=size)
        self._lock = Lock()

    def encode_query(self, texts: list[str], *args: Any, **kwargs: Any) -> np.ndarray:
        if len(texts) != 1:
            return self.embedder.encode_query(texts, *args, **kwargs)
        key = texts[0]
        with self._lock:
            hit = self._cache.get(key)  # a hit counts as a use: LRUCache keeps it longest
            if hit is not None:
                return hit
        vecs = self.embedder.encode_query(texts, *args, **kwargs)
        vecs.setflags(write=False)  # shared between callers
        with self._lock:
            self._cache[key] = vecs
        return vecs

    def __getattr__(self, name: str) -> Any:
        return getattr(self.embedder, name)
