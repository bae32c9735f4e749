"""Document directions from the chunk vectors in SQLite."""
from __future__ import annotations

import numpy as np

from index.embedding.docvectors import doc_centroids, mean_direction
from index.storage.sqlite.store import Store


def test_each_document_direction_is_the_normalised_mean_of_its_chunks(tmp_path):
    store = Store(tmp_path)
    rng = np.random.default_rng(3)
    vecs = {d: rng.standard_normal((n, 8)).astype("float32") for d, n in (("b", 3), ("a", 1), ("c", 5))}
    store.begin()
    for d, v in vecs.items():  # inserted out of id order, so chunks of one document are not adjacent by id
        store.add_chunks(d, d, [f"{d}{i}" for i in range(len(v))], v)
    store.add_chunks("b", "b", ["b again"], vecs["a"])  # a later chunk of b, after a's
    store.commit()
    expected = {d: v.sum(axis=0) for d, v in vecs.items()}
    expected["b"] = expected["b"] + vecs["a"][0]
    got = doc_centroids(store)
    assert set(got) == {"a", "b", "c"}
    for d, total in expected.items():
        assert np.allclose(got[d], total / np.linalg.norm(total), atol=1e-6)
        assert abs(float(np.linalg.norm(got[d])) - 1.0) < 1e-5
    some = doc_centroids(store, ["c", "a", "missing", "c"])
    assert set(some) == {"a", "c"} and np.allclose(some["c"], got["c"])
    assert doc_centroids(store, []) == {}


def test_mean_direction_weighs_and_refuses_nothing():
    x, y = np.array([1, 0], dtype="float32"), np.array([0, 1], dtype="float32")
    assert np.allclose(mean_direction([x, y], [3, 1]), np.array([3, 1]) / np.sqrt(10))
    assert mean_direction([]) is None and mean_direction([x], [0]) is None
