"""index/querycache.py: single texts are embedded once; batches always reach the embedder."""
from __future__ import annotations

import numpy as np

from index.querycache import QueryVectors


class Counting:
    name, dim = "fake", 3

    def __init__(self):
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype="float32")


def test_a_single_text_is_embedded_once_and_batches_pass_through():
    inner = Counting()
    cache = QueryVectors(inner, size=2)
    first = cache.encode(["drift"])
    assert np.array_equal(cache.encode(["drift"]), first) and inner.calls == [["drift"]]
    assert not first.flags.writeable  # callers share it
    cache.encode(["a", "b"])
    cache.encode(["a", "b"])
    assert inner.calls[1:] == [["a", "b"], ["a", "b"]]
    assert cache.name == "fake" and cache.dim == 3


def test_the_least_recently_used_text_is_forgotten_first():
    inner = Counting()
    cache = QueryVectors(inner, size=2)
    for text in ("one", "two", "one", "three", "one", "two"):
        cache.encode([text])
    assert inner.calls == [["one"], ["two"], ["three"], ["two"]]
