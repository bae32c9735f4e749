"""The FAISS vector index of chunk embeddings: IndexIDMap2 over inner product, keyed by chunk id.

Each save writes a new file named by a generation number, and the generation is recorded in the
same SQLite transaction as the chunks it indexes. A crash before the commit leaves the previous
file in force; a missing or mismatched file is rebuilt from the vectors kept in SQLite.
"""
from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from .store import Store

GENERATION_KEY = "vectors_generation"


class VectorIndex:
    def __init__(self, store: Store, data_dir: Path, dim: int):
        self.store, self.dir, self.dim = store, data_dir, dim
        self.index = self._load()

    def _file(self, generation: int) -> Path:
        return self.dir / f"vectors-{generation}.faiss"

    def _empty(self) -> faiss.Index:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _load(self) -> faiss.Index:
        gen = int(self.store.get_meta(GENERATION_KEY, "0"))
        path = self._file(gen)
        if gen and path.exists():
            index = faiss.read_index(str(path))
            if index.d == self.dim and index.ntotal == self.store.count("chunks"):
                return index
        return self.rebuild()

    def reload(self) -> None:
        self.index = self._load()

    def rebuild(self) -> faiss.Index:
        """Recreate the index from the vectors stored in SQLite."""
        index = self._empty()
        ids, vecs = [], []
        for cid, blob in self.store.all_vectors():
            v = np.frombuffer(blob, dtype="float32")
            if v.shape[0] == self.dim:
                ids.append(cid)
                vecs.append(v)
        if ids:
            index.add_with_ids(np.vstack(vecs), np.asarray(ids, dtype="int64"))
        self.index = index
        return index

    @property
    def size(self) -> int:
        return self.index.ntotal

    def apply(self, add_ids: list[int], add_vecs: list[np.ndarray], remove_ids: list[int]) -> None:
        if remove_ids:
            self.index.remove_ids(np.asarray(remove_ids, dtype="int64"))
        if add_ids:
            self.index.add_with_ids(np.vstack(add_vecs).astype("float32"), np.asarray(add_ids, dtype="int64"))

    def write_next_generation(self) -> int:
        """Write the index to a new generation file (temp + rename); the caller records it in SQLite."""
        gen = int(self.store.get_meta(GENERATION_KEY, "0")) + 1
        tmp = self._file(gen).with_suffix(".tmp")
        faiss.write_index(self.index, str(tmp))
        os.replace(tmp, self._file(gen))
        self.store.set_meta(GENERATION_KEY, str(gen))
        return gen

    def drop_old_generations(self) -> None:
        gen = int(self.store.get_meta(GENERATION_KEY, "0"))
        for f in self.dir.glob("vectors-*.faiss*"):
            if f.name != self._file(gen).name:
                f.unlink(missing_ok=True)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.index.ntotal == 0:
            return []
        scores, ids = self.index.search(vector.reshape(1, -1).astype("float32"), min(k, self.index.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]
