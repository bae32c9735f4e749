"""Chunk vectors searched in Postgres with pgvector: HNSW over halfvec, no files.

The same interface as the FAISS `VectorIndex` (index/storage/sqlite/vectors.py), so the pipeline and the search
do not know which one they hold. Each chunk's embedding is written with the chunk in the crawl's
own transaction (PgStore.add_chunks), so there is nothing to apply, flush, recover or reload: a
replica sees a crawl's chunks the moment it commits. The HNSW index is on `embedding::halfvec(dim)`
(half the memory of float32, recall barely moves); inner product (`<#>`) on normalised vectors is
the cosine FAISS uses.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from index.storage.postgres.store import PgStore, halfvec
from index.storage.sqlite.vectors import IndexOptions

HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64
EF_SEARCH_MIN, EF_SEARCH_MAX = 100, 1000  # pgvector returns at most ef_search rows; 1000 is its ceiling


def index_name(dim: int) -> str:
    return f"chunks_embedding_hnsw_{dim}"


class PgVectors:
    kind = "pgvector-hnsw"

    def __init__(self, store: PgStore, data_dir: Path | None, dim: int, options: IndexOptions | None = None):
        self.store, self.dir, self.dim = store, data_dir, dim
        self.options = options or IndexOptions()
        self.pending = False
        self.removed: set[int] = set()
        self._ef = 0
        self.ensure_index()

    def ensure_index(self) -> None:
        """The HNSW index for this dimension, made once (reading pg_indexes writes nothing)."""
        name = index_name(self.dim)
        if self.store.query("SELECT 1 FROM pg_indexes WHERE indexname = ?", [name]):
            return
        with self.store.transaction():
            self.store.conn.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON chunks USING hnsw ((embedding::halfvec({self.dim})) "
                f"halfvec_ip_ops) WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})")

    @property
    def size(self) -> int:
        return self.store.conn.execute("SELECT count(*) FROM chunks WHERE embedding IS NOT NULL").fetchone()[0]

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, inner product) of the k nearest chunks, best first."""
        ef = min(EF_SEARCH_MAX, max(EF_SEARCH_MIN, k))
        if ef != self._ef:
            self.store.conn.execute(f"SET hnsw.ef_search = {ef}")
            self._ef = ef
        q = halfvec(vector)
        rows = self.store.conn.execute(
            f"""SELECT id, embedding::halfvec({self.dim}) <#> ?::halfvec({self.dim}) AS d FROM chunks
                WHERE embedding IS NOT NULL ORDER BY embedding::halfvec({self.dim}) <#> ?::halfvec({self.dim}) LIMIT ?""",
            (q, q, k))
        return [(int(i), -float(d)) for i, d in rows]

    # -- the FAISS index's life cycle has nothing to do here ----------------------------------------
    def apply(self, add_ids: list[int], add_vecs: list[np.ndarray], remove_ids: list[int]) -> None:
        """The chunks' rows already hold their embeddings, in the caller's transaction."""

    def write_next_generation(self, force: bool = False) -> int:
        return 0

    def flush(self) -> bool:
        return False

    def recover(self) -> bool:
        return False

    def reload(self) -> None:
        self._ef = 0  # a new connection would forget the setting; asking again is cheap

    def rebuild(self, kind: str | None = None) -> None:
        """REINDEX the HNSW graph (after a bulk load, for recall)."""
        self.store.conn.execute(f"REINDEX INDEX {index_name(self.dim)}")

    def drop_old_generations(self) -> None:
        pass
