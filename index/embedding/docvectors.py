"""Document and group directions from the stored chunk vectors (index/storage/chunk_vectors.py).

A document's direction is the normalised mean of its chunk vectors (`doc_means` keeps the plain
mean); a group's (a project, a
person) is the normalised, optionally weighted, mean of its documents' directions. Cosine
between two directions is then a plain dot product.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from index.storage.chunk_vectors import doc_chunk_vectors
from index.storage.sqlite.store import Store


def normalised(v: np.ndarray) -> np.ndarray | None:
    norm = float(np.linalg.norm(v))
    return (v / norm).astype("float32") if norm > 0 else None


def doc_centroids(store: Store, doc_ids: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """doc id -> unit vector: the mean of the document's chunk vectors."""
    ids, means = _means(store, doc_ids)
    norms = np.linalg.norm(means, axis=1) if ids else np.zeros(0)
    return {d: (means[j] / norms[j]).astype("float32") for j, d in enumerate(ids) if norms[j] > 0}


def doc_means(store: Store, doc_ids: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """doc id -> the plain mean of the document's chunk vectors. Its length says how alike the
    passages are (1 for one passage, less the more topics the document spans), and its dot product
    with a question is the passages' mean cosine with it."""
    ids, means = _means(store, doc_ids)
    return {d: means[j] for j, d in enumerate(ids)}


def _means(store: Store, doc_ids: Iterable[str] | None) -> tuple[list[str], np.ndarray]:
    """The documents that have chunk vectors, and one row per document: the mean of its chunk vectors."""
    rows = sorted(((d, b) for d, b in doc_chunk_vectors(store, doc_ids) if b),
                  key=lambda r: r[0])  # stable: each document's chunks together
    if not rows:
        return [], np.zeros((0, 0), dtype="float32")
    dim = len(rows[0][1]) // 4
    rows = [r for r in rows if len(r[1]) == 4 * dim]
    matrix = np.frombuffer(b"".join(b for _, b in rows), dtype="float32").reshape(len(rows), dim)
    ids = [d for d, _ in rows]
    starts = [0] + [i for i in range(1, len(ids)) if ids[i] != ids[i - 1]]
    sums = np.add.reduceat(matrix, starts, axis=0)  # one row per document, in one pass (no per-chunk Python)
    counts = np.diff(starts + [len(ids)]).astype("float32")
    return [ids[s] for s in starts], (sums / counts[:, None]).astype("float32")


def mean_direction(vectors: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray | None:
    """The normalised (weighted) mean of unit vectors; None when there is nothing to average."""
    if not len(vectors):
        return None
    w = np.ones(len(vectors), dtype="float32") if weights is None else np.asarray(weights, dtype="float32")
    if float(w.sum()) <= 0:
        return None
    return normalised((np.stack(vectors) * w[:, None]).sum(axis=0))


def to_blob(v: np.ndarray | None) -> bytes | None:
    return None if v is None else np.asarray(v, dtype="float32").tobytes()


def from_blob(blob: bytes | None) -> np.ndarray | None:
    return None if not blob else np.frombuffer(blob, dtype="float32")
