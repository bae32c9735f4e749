"""Crawl sources into the index: store what changed, embed only new or changed text.

The connector runs in a thread of its own, a bounded queue ahead of the encoder, so reading a
source overlaps embedding, and encoding runs behind the main thread: a closed window waits for
its vectors in a short queue (WINDOWS_AHEAD) while the next one is chunked, so the encoder's
workers always have a batch and never wait for chunking or for a write. The queue spans the
sources of one crawl (`Crawl`): the next source is read while the last windows of the one before
still encode.

Nothing is fetched or embedded inside a write transaction: items gather in memory (the last
item for a document id wins, so a Document then a Deleted leaves nothing behind) and are written
in short transactions, each together with the FAISS generation that holds their vectors: at
every Checkpoint (with its state) and every COMMIT_DOCS documents in between (the stored state
stays at the last Checkpoint, so a re-run reads those documents again and finds them unchanged). A failure or a kill loses only what was not committed; deletions
of a full sweep happen only at its Checkpoint, so a source's previous documents survive.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from connectors.base import Checkpoint, Deleted, Document, Item, SourceError, Unchanged
from connectors.common.redact import redact

from index.ingest.chunking import chunk_text, embedding_input
from index.ingest.traits import GENRE_VERSION, Traits, detector_available, genre, traits as judge
from index.embedding.embedder import Embedder, Pending
from index.storage import documents as documents_store
from index.storage.sqlite import store as store_module
from index.storage.sqlite.store import Store, content_hash, now_iso
from index.storage.sqlite.vectors import VectorIndex

EMBED_BATCH = 512  # chunks gathered before one encode call: bf16 batches only texts of one length, so it needs many
COMMIT_DOCS = 200  # documents written per transaction at most: the write lock is held briefly
COMMIT_CHUNKS = 2048  # chunks written per transaction at most
COMMIT_CHARS = 40_000_000  # text held in memory before a commit at most (a few huge pages)
WINDOWS_AHEAD = 2  # closed windows encoding while the next is read and chunked: the encoder never waits
READ_AHEAD = 512  # items the connector may read ahead: an encode call's worth of one-chunk items (commits, paths)


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


_END = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def read_ahead(produce: Callable[[], Iterable[Item]], size: int = READ_AHEAD) -> Iterator[Item]:
    """The items of `produce()`, read by a connector thread through a bounded queue.

    An exception in the connector thread is raised here, in the consumer, as it was raised there.
    Closing this generator stops the connector at its next item.
    """
    q: queue.Queue[Any] = queue.Queue(size)
    stop = threading.Event()

    def put(x: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            it = iter(produce())
            try:
                for item in it:
                    if not put(item):
                        break
            finally:
                close = getattr(it, "close", None)
                if close:
                    close()
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, which decides
            put(_Failure(e))
            return
        put(_END)

    thread = threading.Thread(target=run, name="connector", daemon=True)
    thread.start()
    try:
        while True:
            x = q.get()
            if x is _END:
                return
            if isinstance(x, _Failure):
                raise x.exc
            yield x
    finally:
        stop.set()
        thread.join(timeout=1.0)  # a connector stuck in a network call is left to its timeout


@dataclass
class _Put:
    doc: Document
    chash: str
    changed: bool  # text differs from what is stored: chunks must be replaced
    chunks: list[str] = field(default_factory=list)
    vectors: np.ndarray | None = None
    traits: Traits | None = None  # judged with the chunks, for changed text only


class _Window:
    """What arrived since the last commit, in memory; the last item for a document id wins."""

    def __init__(self, store: Store, embedder: Embedder, tick: Callable[[str, int], None]):
        self.store, self.embedder, self.tick = store, embedder, tick
        self.ops: dict[str, _Put | None] = {}  # None: delete
        self.waiting: list[_Put] = []  # changed documents not yet embedded
        self.encoding: list[tuple[list[_Put], Pending]] = []  # submitted to the encoder, not yet back
        self.waiting_chunks = 0
        self.chunks = 0  # chunks of the changed documents in ops
        self.unchanged = 0  # Unchanged items
        self.embedded = 0
        self.chars = 0  # text of the documents held

    def __bool__(self) -> bool:
        return bool(self.ops) or bool(self.unchanged)

    def full(self) -> bool:
        return len(self.ops) >= COMMIT_DOCS or self.chunks >= COMMIT_CHUNKS or self.chars >= COMMIT_CHARS

    def document(self, doc: Document) -> None:
        chash = content_hash(doc)
        changed = chash != self.store.doc_hash(doc.id)  # stored rows do not move until this window is written
        prev = self.ops.get(doc.id)
        op = _Put(doc, chash, changed)
        if changed and prev is not None and prev.changed and prev.chash == chash:
            op.chunks, op.vectors, op.traits = prev.chunks, prev.vectors, prev.traits  # the same text again: its chunks stand
            if op.vectors is None:
                self.waiting.append(op)
        elif changed:
            op.chunks = chunk_text(heading(doc), doc.text, self.embedder.tokenizer)
            op.traits = judge(doc.title, doc.path, doc.text, doc.kind)
            self.waiting.append(op)
            self.waiting_chunks += len(op.chunks)
        self._set(doc.id, op)
        self.chars += len(doc.text)
        if self.waiting_chunks >= EMBED_BATCH:
            self.embed()

    def deleted(self, doc_id: str) -> None:
        self._set(doc_id, None)

    def _set(self, doc_id: str, op: _Put | None) -> None:
        prev = self.ops.get(doc_id)
        if prev is not None and prev.changed:
            self.chunks -= len(prev.chunks)
        if op is not None and op.changed:
            self.chunks += len(op.chunks)
        self.ops[doc_id] = op

    def embed(self) -> None:
        """Start encoding the waiting documents that are still current (outside any transaction)."""
        todo = [op for op in self.waiting if self.ops.get(op.doc.id) is op and op.vectors is None]
        self.waiting, self.waiting_chunks = [], 0
        texts = [embedding_input(c) for op in todo for c in op.chunks]
        if texts:
            self.encoding.append((todo, self.embedder.submit(texts)))

    def ready(self) -> bool:
        """Whether every vector this window needs is encoded (so writing it would not wait)."""
        return not self.waiting and all(pending.done() for _, pending in self.encoding)

    def resolve(self) -> None:
        """Wait for this window's vectors, encoding what still waits."""
        self.embed()
        for todo, pending in self.encoding:
            vecs = pending.result()
            pos = 0
            for op in todo:
                op.vectors = vecs[pos:pos + len(op.chunks)]
                pos += len(op.chunks)
            self.embedded += len(vecs)
            self.tick("chunks", len(vecs))
        self.encoding = []


def crawl_source(store: Store, vectors: VectorIndex, embedder: Embedder, name: str, kind: str, team: str,
                 items: Callable[[dict | None], Iterable[Item]],
                 progress: Callable[[str, int], None] | None = None) -> SourceReport:
    """Consume one connector's stream. `items(state)` is usually `connector.crawl`."""
    crawl = Crawl(store, vectors, embedder)
    crawl.source(name, kind, team, items, progress)
    return crawl.finish()[0]


@dataclass
class _Run:
    """One source inside a Crawl: its report, and whether it is still read or already recorded."""
    name: str
    kind: str
    report: SourceReport
    t0: float
    reading: bool = True
    stopped: bool = False  # a write failed: none of its later windows is written
    recorded: bool = False  # its result is saved with the source


class Crawl:
    """The sources of one crawl, read in turn, their windows encoded and written in one order.

    A source's last windows are still encoding while the next source is read and chunked: the
    workers neither drain at the end of a source nor wait for the next connector's first items
    (a git log, a wiki's page list). Each source's report is final once its last window is written."""

    def __init__(self, store: Store, vectors: VectorIndex, embedder: Embedder):
        self.store, self.vectors, self.embedder = store, vectors, embedder
        self.runs: list[_Run] = []
        self.queued: deque[tuple[_Run, _Window, dict | None, set[str] | None]] = deque()  # oldest first

    def source(self, name: str, kind: str, team: str, items: Callable[[dict | None], Iterable[Item]],
               progress: Callable[[str, int], None] | None = None) -> None:
        """Read one connector's stream to its end (or its error) and queue its windows; earlier
        windows, of this source or the ones before, are written as their vectors arrive."""
        store = self.store
        run = _Run(name, kind, SourceReport(name), time.perf_counter())
        self.runs.append(run)
        tick = progress or (lambda what, n: None)
        with store.transaction():
            store.save_source(name, kind=kind, team=team, last_crawl_at=now_iso())
        state = store.cursor(name)
        window = _Window(store, self.embedder, tick)
        seen: set[str] = set()

        def close(cursor: dict | None = None, sweep: set[str] | None = None) -> _Window:
            """Queue the open window (with the Checkpoint's cursor, if it ends one) and open the next."""
            window.embed()
            self.queued.append((run, window, cursor, sweep))
            self._write_ready(WINDOWS_AHEAD)
            return _Window(store, self.embedder, tick)

        stream = read_ahead(lambda: items(state))
        try:
            for item in stream:
                if isinstance(item, Document):
                    seen.add(item.id)
                    window.document(item)
                    tick("documents", 1)
                elif isinstance(item, Deleted):
                    window.deleted(item.id)
                elif isinstance(item, Unchanged):
                    seen.add(item.id)
                    window.unchanged += 1
                    tick("documents", 1)
                elif isinstance(item, Checkpoint):
                    window = close(item.state, set(seen) if item.full_sweep else None)
                if window.full():
                    window = close()
                elif self.queued:
                    self._write_ready(WINDOWS_AHEAD)
                if run.stopped:  # one of its windows failed to write: reading on would be lost
                    break
            else:
                if window:
                    run.report.error = ("the connector ended without a checkpoint; what it sent after the last one "
                                        "was not stored and the next crawl reads it again")
        except SourceError as e:
            run.report.error = str(e)
        except Exception as e:  # noqa: BLE001 - one broken source must never stop the others
            run.report.error = redact(f"source {name!r}: unexpected {type(e).__name__}: {e}")
        finally:
            stream.close()
        run.reading = False  # the windows it completed before an error are still written, as they would have been
        self._finish_done()

    def finish(self) -> list[SourceReport]:
        """Write every queued window; the reports of the sources, in the order they were read."""
        self._write_ready(0)
        return [run.report for run in self.runs]

    def _write_ready(self, keep: int) -> None:
        """Write the queued windows in order: those already encoded, and the oldest beyond `keep`
        (waiting for its vectors). After a source's write failed none of its later windows is
        written: their cursor would skip the failed one's documents."""
        while self.queued and (len(self.queued) > keep or self.queued[0][1].ready()):
            run, window, cursor, sweep = self.queued.popleft()
            if not run.stopped:
                try:
                    _write(self.store, self.vectors, window, run.name, run.kind, run.report, cursor, sweep)
                except Exception as e:  # noqa: BLE001 - reported as this source's error; the others go on
                    run.stopped = True
                    if run.report.error:
                        run.report.error += redact(f"; writing what was read before that failed too: "
                                                   f"{type(e).__name__}: {e}")
                    else:
                        run.report.error = redact(f"source {run.name!r}: unexpected {type(e).__name__}: {e}")
            self._finish_done()

    def _finish_done(self) -> None:
        """Record the result of every source read to its end whose windows are all written."""
        waiting = {id(queued[0]) for queued in self.queued}
        for run in self.runs:
            if not run.reading and not run.recorded and id(run) not in waiting:
                run.recorded = True
                report = run.report
                report.seconds = round(time.perf_counter() - run.t0, 2)
                values: dict[str, Any] = {"last_error": report.error or None, "last_report": report.as_dict()}
                if report.ok:
                    values["last_success_at"] = now_iso()
                with self.store.transaction():
                    self.store.save_source(run.name, **values)


def _write(store: Store, vectors: VectorIndex, window: _Window, name: str, kind: str, report: SourceReport,
           state: dict | None = None, sweep: set[str] | None = None) -> None:
    """Commit a window in one short transaction with its FAISS generation; the cursor moves only
    with a Checkpoint's state, and a full sweep deletes the source's documents not seen."""
    window.resolve()
    counts: Counter[str] = Counter(unchanged=window.unchanged, chunks_embedded=window.embedded)
    reprocessed: list[str] = []
    add_ids: list[int] = []
    add_vecs: list[np.ndarray] = []
    remove_ids: list[int] = []
    store.begin()
    try:
        for doc_id, op in window.ops.items():
            stored = store.doc_hash(doc_id)
            if op is None:
                if stored is not None:
                    remove_ids += store.delete_document(doc_id)
                    counts["deleted"] += 1
                    reprocessed.append(doc_id)
                continue
            store.put_document(op.doc, op.chash, kind)
            if not op.changed:
                counts["unchanged"] += 1
                continue
            counts["added" if stored is None else "changed"] += 1
            reprocessed.append(doc_id)
            if op.traits is not None:
                documents_store.set_traits(store, doc_id, op.traits.fingerprint, op.traits.genre, op.traits.lang)
            old = store.chunk_ids(doc_id)
            remove_ids += old
            store.delete_chunks(old)
            vecs = op.vectors if op.vectors is not None else []  # None: a document without chunks
            ids = store.add_chunks(doc_id, op.doc.title, op.chunks, vecs)
            add_ids += ids
            add_vecs.extend(vecs[:len(ids)])
        if sweep is not None:
            for gone in sorted(store.doc_ids(name) - sweep):
                remove_ids += store.delete_document(gone)
                counts["deleted"] += 1
                reprocessed.append(gone)
        if state is not None:
            store.save_source(name, cursor=state)
        _commit(store, vectors, add_ids, add_vecs, remove_ids)
    except BaseException:
        store.rollback()
        vectors.reload()  # drop in-memory vector changes that belonged to the rolled-back transaction
        raise
    for k, v in counts.items():
        setattr(report, k, getattr(report, k) + v)
    report.reprocessed += reprocessed


def _commit(store: Store, vectors: VectorIndex, add_ids: list[int], add_vecs: list[np.ndarray],
            remove_ids: list[int]) -> None:
    """Apply vector changes, write the next FAISS generation, then commit SQLite with it."""
    if add_ids or remove_ids:
        vectors.apply(add_ids, add_vecs, remove_ids)
        vectors.write_next_generation()
        store.commit()
        vectors.drop_old_generations()
    else:
        store.commit()


def refresh_stale(store: Store, vectors: VectorIndex, embedder: Embedder,
                  progress: Callable[[str, int], None] | None = None) -> int:
    """Chunk and embed again the stored documents whose index version or embedding model is out of
    date (after an upgrade or a [guild] model or backend change), without crawling their sources again.
    Documents are read only when the stored index version or model identity differs from this one.
    Embedding runs outside transactions; every COMMIT_DOCS documents are written in a short one."""
    backfill_traits(store)
    rejudge_genres(store)
    model_changed = store.get_meta("embedding_model") not in (None, embedder.name)
    if not model_changed and store.get_meta("index_version") == str(store_module.INDEX_VERSION):
        return 0
    stale = []
    for r in documents_store.stored_documents(store):
        doc = Document(id=r["id"], source=r["source"], team=r["team"], kind=r["kind"], title=r["title"] or "",
                       text=r["text"] or "", url=r["url"] or "", path=r["path"] or "")
        chash = content_hash(doc)
        if model_changed or r["content_hash"] != chash:
            stale.append((doc, chash))
    for i in range(0, len(stale), COMMIT_DOCS):
        part = stale[i:i + COMMIT_DOCS]
        chunks = [chunk_text(heading(doc), doc.text, embedder.tokenizer) for doc, _ in part]
        vecs = embedder.encode([embedding_input(c) for cs in chunks for c in cs])
        if progress:
            progress("chunks", len(vecs))
        add_ids: list[int] = []
        add_vecs: list[np.ndarray] = []
        remove_ids: list[int] = []
        pos = 0
        store.begin()
        try:
            for (doc, chash), cs in zip(part, chunks):
                documents_store.set_content_hash(store, doc.id, chash)
                old = store.chunk_ids(doc.id)
                remove_ids += old
                store.delete_chunks(old)
                add_ids += store.add_chunks(doc.id, doc.title, cs, vecs[pos:pos + len(cs)])
                add_vecs.extend(vecs[pos:pos + len(cs)])
                pos += len(cs)
            _commit(store, vectors, add_ids, add_vecs, remove_ids)
        except BaseException:
            store.rollback()
            vectors.reload()
            raise
    with store.transaction():
        store.set_meta("embedding_model", embedder.name)
        store.set_meta("index_version", str(store_module.INDEX_VERSION))
    return len(stale)


def rejudge_genres(store: Store, batch: int = COMMIT_DOCS) -> int:
    """Judge the genre of every stored document again when the genre rules changed since it was judged
    (traits.GENRE_VERSION): a new genre reaches documents crawled before it, with no fetching and no
    embedding. Returns how many changed."""
    if store.get_meta("genre_version") == str(GENRE_VERSION):
        return 0
    changed, after = 0, ""
    while rows := documents_store.judged_after(store, after, batch):
        with store.transaction():
            for r in rows:
                g = genre(r["title"] or "", r["path"] or "", r["text"] or "")
                if g != (r["genre"] or ""):
                    documents_store.set_genre(store, r["id"], g)
                    changed += 1
        after = rows[-1]["id"]
    with store.transaction():
        store.set_meta("genre_version", str(GENRE_VERSION))
    return changed


def backfill_traits(store: Store, batch: int = COMMIT_DOCS) -> int:
    """Judge the traits (index/ingest/traits.py) of stored documents that lack them (crawled before
    traits existed, or before a language detector was installed), in short transactions; no
    fetching, no embedding. Returns how many."""
    if not documents_store.without_traits(store, 1, languages=True):
        return 0  # nothing to judge: an unchanged re-crawl never loads the language detector (most of a second)
    done = 0
    languages = detector_available()
    while True:
        rows = documents_store.without_traits(store, batch, languages=languages)
        if not rows:
            return done
        judged = [(r["id"], judge(r["title"] or "", r["path"] or "", r["text"] or "", r["kind"] or "")) for r in rows]
        with store.transaction():
            for doc_id, t in judged:
                documents_store.set_traits(store, doc_id, t.fingerprint, t.genre, t.lang)
        done += len(judged)
