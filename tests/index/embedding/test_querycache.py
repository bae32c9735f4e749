"""index/embedding/querycache.py: a single question is embedded once; batches and stored text always reach the embedder."""
from __future__ import annotations

import numpy as np

from index.embedding.querycache import QueryVectors


class Counting:
    name, dim = "fake", 3

    def __init__(self):
        self.calls: list[list[str]] = []

    def encode_query(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype="float32")

    def encode(self, texts):  # what is stored: a different model under bf16
        self.calls.append(["stored", *texts])
        return np.array([[len(t), 0.0, 1.0] for t in texts], dtype="float32")


def test_a_single_text_is_embedded_once_and_batches_pass_through():
    inner = Counting()
    cache = QueryVectors(inner, size=2)
    first = cache.encode_query(["drift"])
    assert np.array_equal(cache.encode_query(["drift"]), first) and inner.calls == [["drift"]]
    assert not first.flags.writeable  # callers share it
    cache.encode_query(["a", "b"])
    cache.encode_query(["a", "b"])
    assert inner.calls[1:] == [["a", "b"], ["a", "b"]]
    cache.encode(["drift"])  # stored text is never answered from the question cache
    assert inner.calls[3:] == [["stored", "drift"]]
    assert cache.name == "fake" and cache.dim == 3


def test_the_least_recently_used_text_is_forgotten_first():
    inner = Counting()
    cache = QueryVectors(inner, size=2)
    for text in ("one", "two", "one", "three", "one", "two"):
        cache.encode_query([text])
    assert inner.calls == [["one"], ["two"], ["three"], ["two"]]
