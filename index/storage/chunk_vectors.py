"""Reads of the chunk vectors kept beside the text (`chunks.vector`): per document, for
document directions (index/embedding/docvectors.py) and a project's characteristic passages
(index/catalog/content.py)."""
from __future__ import annotations

from typing import Iterable, NamedTuple, Sequence

from index.storage.clauses import BATCH, marks
from index.storage.sqlite.store import Store


class VectoredChunk(NamedTuple):
    id: int
    doc_id: str
    text: str | None
    vector: bytes


def doc_chunk_vectors(store: Store, doc_ids: Iterable[str] | None = None) -> list[tuple[str, bytes | None]]:
    """(doc id, float32 vector blob) of every chunk, by doc id, or of the chunks of `doc_ids` (in
    batches, each in the order the database gives)."""
    if doc_ids is None:
        return [(r[0], r[1]) for r in store.conn.execute("SELECT doc_id, vector FROM chunks ORDER BY doc_id")]
    ids = list(dict.fromkeys(doc_ids))
    rows: list[tuple[str, bytes | None]] = []
    for i in range(0, len(ids), BATCH):
        part = ids[i:i + BATCH]
        rows += [(r[0], r[1]) for r in store.conn.execute(
            f"SELECT doc_id, vector FROM chunks WHERE doc_id IN ({marks(len(part))})", part).fetchall()]
    return rows


def vectored_chunks(store: Store, doc_ids: Sequence[str]) -> list[VectoredChunk]:
    """The chunks of `doc_ids` that have a vector, per batch of ids by document then position."""
    rows: list[VectoredChunk] = []
    for i in range(0, len(doc_ids), BATCH):
        part = list(doc_ids[i:i + BATCH])
        rows += [VectoredChunk(*r) for r in store.conn.execute(
            f"SELECT id, doc_id, text, vector FROM chunks WHERE doc_id IN ({marks(len(part))}) "
            "AND vector IS NOT NULL ORDER BY doc_id, seq", part).fetchall()]
    return rows
