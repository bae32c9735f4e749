"""Crawl one source into the index: store what changed, embed only new or changed text.

Items between two Checkpoints are written in one SQLite transaction together with the FAISS
generation that holds their vectors; a failure rolls back to the last Checkpoint, so a source's
previous documents survive and a re-run resumes from the stored state.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from connectors.base import Checkpoint, Deleted, Document, Item, SourceError, Unchanged

from .chunking import chunk_text
from .embeddings import Embedder
from . import store as store_module
from .store import Store, content_hash, now_iso
from .vectors import VectorIndex

EMBED_BATCH = 256  # chunks gathered before one encode call: large enough to keep the model busy


@dataclass
class SourceReport:
    name: str
    added: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    error: str = ""
    reprocessed: list[str] = field(default_factory=list)  # ids chunked and embedded again, or deleted

    @property
    def ok(self) -> bool:
        return not self.error

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("reprocessed")
        return d


def heading(doc: Document) -> str:
    """The line every chunk of a document starts with: its title, and its path when that adds words."""
    if doc.path and doc.path != doc.title and doc.kind != "code_path":
        return f"{doc.title} ({doc.path})"
    return doc.title


class _Batch:
    """Documents waiting to be chunked and embedded, flushed in large encode calls."""

    def __init__(self, store: Store, embedder: Embedder):
        self.store, self.embedder = store, embedder
        self.docs: list[tuple[Document, list[str]]] = []
        self.size = 0
        self.add_ids: list[int] = []
        self.add_vecs: list[np.ndarray] = []
        self.remove_ids: list[int] = []

    def add(self, doc: Document) -> None:
        chunks = chunk_text(heading(doc), doc.text, self.embedder.tokenizer)
        self.docs.append((doc, chunks))
        self.size += len(chunks)

    def flush(self) -> int:
        if not self.docs:
            return 0
        texts = [c for _, chunks in self.docs for c in chunks]
        vecs = self.embedder.encode(texts)
        pos = 0
        for doc, chunks in self.docs:
            old_ids = self.store.chunk_ids(doc.id)
            self.remove_ids += old_ids
            self.store.delete_chunks(old_ids)
            ids = self.store.add_chunks(doc.id, doc.title, chunks, vecs[pos:pos + len(chunks)])
            self.add_ids += ids
            self.add_vecs.extend(vecs[pos:pos + len(chunks)])
            pos += len(chunks)
        self.docs, self.size = [], 0
        return len(texts)

    def reset(self) -> None:
        self.__init__(self.store, self.embedder)


def crawl_source(store: Store, vectors: VectorIndex, embedder: Embedder, name: str, kind: str, team: str,
                 items: Callable[[dict | None], Iterable[Item]],
                 progress: Callable[[str, int], None] | None = None) -> SourceReport:
    """Consume one connector's stream. `items(state)` is usually `connector.crawl`."""
    report = SourceReport(name)
    t0 = time.perf_counter()
    tick = progress or (lambda what, n: None)
    store.save_source(name, kind=kind, team=team, last_crawl_at=now_iso())
    batch = _Batch(store, embedder)
    seen: set[str] = set()
    pending: Counter[str] = Counter()  # counts since the last checkpoint, applied to the report on commit
    store.begin()
    try:
        for item in items(store.cursor(name)):
            if isinstance(item, Document):
                seen.add(item.id)
                chash = content_hash(item)
                old = store.doc_hash(item.id)
                store.put_document(item, chash, kind)
                if old == chash:
                    pending["unchanged"] += 1
                else:
                    pending["added" if old is None else "changed"] += 1
                    report.reprocessed.append(item.id)
                    batch.add(item)
                    if batch.size >= EMBED_BATCH:
                        n = batch.flush()
                        pending["chunks_embedded"] += n
                        tick("chunks", n)
                tick("documents", 1)
            elif isinstance(item, Deleted):
                if store.doc_hash(item.id) is not None:
                    batch.remove_ids += store.delete_document(item.id)
                    pending["deleted"] += 1
                    report.reprocessed.append(item.id)
            elif isinstance(item, Unchanged):
                seen.add(item.id)
                pending["unchanged"] += 1
                tick("documents", 1)
            elif isinstance(item, Checkpoint):
                n = batch.flush()
                pending["chunks_embedded"] += n
                tick("chunks", n)
                if item.full_sweep:
                    for gone in sorted(store.doc_ids(name) - seen):
                        batch.remove_ids += store.delete_document(gone)
                        pending["deleted"] += 1
                        report.reprocessed.append(gone)
                store.save_source(name, cursor=item.state)
                _commit(store, vectors, batch)
                for k, v in pending.items():
                    setattr(report, k, getattr(report, k) + v)
                pending = Counter()
                store.begin()
        store.rollback()  # anything after the last checkpoint is incomplete
        if pending:
            report.error = "the connector ended without a checkpoint; the partial crawl was not stored"
    except SourceError as e:
        store.rollback()
        report.error = str(e)
    except Exception as e:  # noqa: BLE001 - one broken source must never stop the others
        store.rollback()
        report.error = f"source {name!r}: unexpected {type(e).__name__}: {e}"
    if report.error:
        vectors.reload()  # drop in-memory changes that belonged to the rolled-back transaction
    report.seconds = round(time.perf_counter() - t0, 2)
    values: dict[str, Any] = {"last_error": report.error or None, "last_report": report.as_dict()}
    if report.ok:
        values["last_success_at"] = now_iso()
    store.save_source(name, **values)
    return report


def _commit(store: Store, vectors: VectorIndex, batch: _Batch) -> None:
    """Apply vector changes, write the next FAISS generation, then commit SQLite with it."""
    if batch.add_ids or batch.remove_ids:
        vectors.apply(batch.add_ids, batch.add_vecs, batch.remove_ids)
        vectors.write_next_generation()
        store.commit()
        vectors.drop_old_generations()
    else:
        store.commit()
    batch.reset()


def refresh_stale(store: Store, vectors: VectorIndex, embedder: Embedder,
                  progress: Callable[[str, int], None] | None = None) -> int:
    """Chunk and embed again the stored documents whose index version or embedding model is out of
    date (after an upgrade or a [guild] model or backend change), without crawling their sources again.
    Documents are read only when the stored index version or model identity differs from this one."""
    model_changed = store.get_meta("embedding_model") not in (None, embedder.name)
    if not model_changed and store.get_meta("index_version") == str(store_module.INDEX_VERSION):
        return 0
    stale = []
    for r in store.query("SELECT id, source, team, kind, title, url, path, text, content_hash FROM documents"):
        doc = Document(id=r["id"], source=r["source"], team=r["team"], kind=r["kind"], title=r["title"] or "",
                       text=r["text"] or "", url=r["url"] or "", path=r["path"] or "")
        chash = content_hash(doc)
        if model_changed or r["content_hash"] != chash:
            stale.append((doc, chash))
    if stale:
        batch = _Batch(store, embedder)
        store.begin()
        try:
            for doc, chash in stale:
                batch.add(doc)
                store.conn.execute("UPDATE documents SET content_hash = ? WHERE id = ?", (chash, doc.id))
                if batch.size >= EMBED_BATCH:
                    n = batch.flush()
                    if progress:
                        progress("chunks", n)
            batch.flush()
            store.set_meta("embedding_model", embedder.name)
            store.set_meta("index_version", str(store_module.INDEX_VERSION))
            _commit(store, vectors, batch)
        except BaseException:
            store.rollback()
            vectors.reload()
            raise
    else:
        store.set_meta("embedding_model", embedder.name)
        store.set_meta("index_version", str(store_module.INDEX_VERSION))
    return len(stale)
