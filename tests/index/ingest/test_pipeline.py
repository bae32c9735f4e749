"""The crawl pipeline: last item per id wins, short commits, the connector thread and its errors.

Real SQLite, real FAISS and the real packaged model; the connectors are plain generators.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest

import index.ingest.pipeline as pipeline
from connectors.base import Checkpoint, Deleted, Document, SourceError, Unchanged
from support.fake_forge import shared_embedder
from index.storage.factory import is_postgres, open_store, open_vectors
from index.storage.postgres.conn import PgConnection
from index.storage.postgres.store import WRITER_LOCK
from index.ingest.pipeline import crawl_source, read_ahead
from support.postgres import BACKENDS, backend_url
from index.storage.sqlite.store import Store
from index.storage.sqlite.vectors import VectorIndex


def doc(n: int | str, text: str = "") -> Document:
    return Document(id=f"s:{n}", source="s", team="T", kind="doc", title=f"Page {n}",
                    text=text or f"Notes number {n} about drift monitoring and alert thresholds.")


@pytest.fixture(params=BACKENDS)
def index(request, tmp_path):
    store = open_store(tmp_path, backend_url(request, request.param))
    embedder = shared_embedder()
    vectors = open_vectors(store, tmp_path, embedder.dim)

    def crawl(*items, name: str = "s", using=None):
        def stream(state):
            for item in items:
                if isinstance(item, BaseException):
                    raise item
                if callable(item):
                    item()
                    continue
                yield item
        return crawl_source(store, vectors, using or embedder, name, "files", "T", stream)

    yield store, vectors, crawl
    store.close()


def consistent(store: Store, vectors: VectorIndex) -> None:
    assert store.query("SELECT count(*) AS n FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)")[0]["n"] == 0
    assert store.count("chunks_fts") == store.count("chunks") == vectors.size
    assert open_vectors(store, vectors.dir, vectors.dim).size == vectors.size  # what another process would load


def test_a_document_then_its_deletion_before_a_checkpoint_leaves_nothing(index):
    store, vectors, crawl = index
    report = crawl(doc(1), doc(2), Deleted("s:1"), Checkpoint({"n": 1}))
    assert report.ok and report.added == 1 and report.deleted == 0
    assert store.doc_ids("s") == {"s:2"}
    assert store.query("SELECT DISTINCT doc_id FROM chunks") == [{"doc_id": "s:2"}]
    consistent(store, vectors)


def test_a_stored_document_changed_then_deleted_in_one_window_is_gone_with_its_chunks(index):
    store, vectors, crawl = index
    crawl(doc(1), doc(2), Checkpoint({}))
    report = crawl(doc(1, "Entirely new text on feature stores."), Deleted("s:1"), Checkpoint({}))
    assert report.ok and report.deleted == 1 and report.changed == 0
    assert store.doc_ids("s") == {"s:2"} and store.chunk_ids("s:1") == []
    consistent(store, vectors)


def test_deleted_then_sent_again_keeps_the_document(index):
    store, vectors, crawl = index
    crawl(doc(1), Checkpoint({}))
    report = crawl(Deleted("s:1"), doc(1), Checkpoint({}))
    assert report.ok and report.unchanged == 1 and report.deleted == 0
    assert store.doc_ids("s") == {"s:1"} and store.chunk_ids("s:1")
    consistent(store, vectors)


def test_the_same_document_twice_in_a_window_is_stored_once_with_the_last_text(index):
    store, vectors, crawl = index
    report = crawl(doc(1, "First draft about ranking."), doc(1, "Final text about ranking models."), Checkpoint({}))
    assert report.ok and report.added == 1
    texts = [r["text"] for r in store.query("SELECT text FROM chunks WHERE doc_id = 's:1'")]
    assert len(texts) == 1 and "Final text" in texts[0]
    consistent(store, vectors)


def test_connector_errors_from_its_thread_are_the_source_error_and_keep_stored_documents(index):
    store, vectors, crawl = index
    crawl(doc(1), Checkpoint({"at": 1}, full_sweep=True))
    report = crawl(doc(2), SourceError("s", "HTTP 503 from http://wiki/api", "try later"))
    assert report.error == "source 's': HTTP 503 from http://wiki/api — try later"
    assert store.doc_ids("s") == {"s:1"} and store.cursor("s") == {"at": 1}
    assert store.source("s")["last_error"] == report.error
    broken = crawl(doc(3), ValueError("bad page"))
    assert broken.error == "source 's': unexpected ValueError: bad page"
    consistent(store, vectors)


def test_long_sources_commit_every_few_documents_and_keep_the_cursor_at_the_checkpoint(index, monkeypatch):
    store, vectors, crawl = index
    monkeypatch.setattr(pipeline, "COMMIT_DOCS", 4)
    report = crawl(Checkpoint({"at": 0}), *[doc(i) for i in range(10)], SourceError("s", "connection reset"))
    assert not report.ok
    assert store.doc_ids("s") == {f"s:{i}" for i in range(8)}  # two commits of four; the last two were pending
    assert report.added == 8 and store.cursor("s") == {"at": 0}  # the next crawl reads them again
    consistent(store, vectors)
    again = crawl(*[doc(i) for i in range(10)], Checkpoint({"at": 1}, full_sweep=True))
    assert again.ok and again.added == 2 and again.unchanged == 8 and store.cursor("s") == {"at": 1}
    consistent(store, vectors)


class SlowEncoder:
    """The real embedder, but its work never reports done by itself: a window is written only when
    the pipeline must wait for it. Records the order of submits and waits."""

    def __init__(self, events: list[str]):
        self.real, self.events = shared_embedder(), events

    def submit(self, texts):
        self.events.append("submit")
        return SlowPending(self.real.submit(texts), self.events)

    def __getattr__(self, name):
        return getattr(self.real, name)


class SlowPending:
    def __init__(self, pending, events):
        self.pending, self.events = pending, events

    def done(self) -> bool:
        return False

    def result(self):
        self.events.append("wait")
        return self.pending.result()


def test_encoding_runs_behind_chunking_and_writes_keep_their_order(index, monkeypatch):
    """The next windows are chunked and submitted while the first is still encoding."""
    store, vectors, crawl = index
    monkeypatch.setattr(pipeline, "COMMIT_DOCS", 3)  # windows close at the checkpoints
    events: list[str] = []
    items = [x for i in range(4) for x in (doc(2 * i), doc(2 * i + 1), Checkpoint({"at": i}))]
    report = crawl(*items, using=SlowEncoder(events))
    ahead = pipeline.WINDOWS_AHEAD
    assert events[:ahead + 2] == ["submit"] * (ahead + 1) + ["wait"]
    assert report.ok and report.added == 8 and store.cursor("s") == {"at": 3}
    consistent(store, vectors)


def test_after_a_failed_write_no_later_window_is_written(index, monkeypatch):
    """A later window's cursor would skip the failed window's documents for good."""
    store, vectors, crawl = index
    monkeypatch.setattr(pipeline, "COMMIT_DOCS", 3)
    real_write, writes = pipeline._write, []

    def failing_second(*args, **kwargs):
        writes.append(1)
        if len(writes) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_write", failing_second)
    items = [x for i in range(4) for x in (doc(2 * i), doc(2 * i + 1), Checkpoint({"at": i}))]
    report = crawl(*items, using=SlowEncoder([]))
    assert "disk I/O error" in report.error and len(writes) == 2
    assert store.doc_ids("s") == {"s:0", "s:1"} and store.cursor("s") == {"at": 0}
    consistent(store, vectors)


def stream_of(name: str, *items):
    """A connector's stream for `Crawl.source`: documents of source `name` numbered as given."""
    def stream(state):
        for item in items:
            yield Document(id=f"{name}:{item}", source=name, team="T", kind="doc", title=f"Page {item}",
                           text=f"Notes {item} about feature stores.") if isinstance(item, int) else item
    return stream


def test_the_next_source_is_read_while_the_last_windows_of_the_one_before_encode(index):
    """No drain at the end of a source: the next one is chunked and submitted first."""
    store, vectors, _ = index
    events: list[str] = []
    crawl = pipeline.Crawl(store, vectors, SlowEncoder(events))
    crawl.source("a", "files", "T", stream_of("a", 1, 2, Checkpoint({"at": "a"})))
    crawl.source("b", "files", "T", stream_of("b", 3, Checkpoint({"at": "b"})))
    assert events == ["submit", "submit"]  # neither is waited for yet
    a, b = crawl.finish()
    assert events == ["submit", "submit", "wait", "wait"]
    assert a.ok and a.added == 2 and b.ok and b.added == 1
    assert store.doc_ids("a") == {"a:1", "a:2"} and store.cursor("a") == {"at": "a"}
    assert json.loads(store.source("a")["last_report"])["added"] == 2 and store.source("a")["last_success_at"]
    consistent(store, vectors)


def test_a_failed_write_stops_only_its_own_source(index, monkeypatch):
    """A window of the source before fails to write while the next is read: that source reports
    the error and keeps its old cursor; the next one is written."""
    store, vectors, _ = index
    monkeypatch.setattr(pipeline, "COMMIT_DOCS", 2)
    real_write, written = pipeline._write, []

    def failing_for_a(store_, vectors_, window, name, *args, **kwargs):
        written.append(name)
        if name == "a":
            raise sqlite3.OperationalError("disk I/O error")
        return real_write(store_, vectors_, window, name, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_write", failing_for_a)
    crawl = pipeline.Crawl(store, vectors, SlowEncoder([]))
    crawl.source("a", "files", "T", stream_of("a", 1, 2, 3, 4, Checkpoint({"at": "a"})))
    crawl.source("b", "files", "T", stream_of("b", 5, 6, 7, 8, Checkpoint({"at": "b"})))
    a, b = crawl.finish()
    assert "disk I/O error" in a.error and written.count("a") == 1  # its later windows are not written
    assert store.doc_ids("a") == set() and store.cursor("a") is None and store.source("a")["last_error"] == a.error
    assert b.ok and store.doc_ids("b") == {"b:5", "b:6", "b:7", "b:8"} and store.cursor("b") == {"at": "b"}
    consistent(store, vectors)


def test_no_write_lock_is_held_while_the_connector_reads(index, tmp_path):
    """Another process can write (a feedback click) while the connector waits on its source."""
    store, vectors, crawl = index
    wrote = []

    def other_writer():
        if is_postgres(store):  # the writers' advisory lock, waited for at most 0.2 s
            conn = PgConnection(store.url, timeout=0.2)
            conn.execute("BEGIN")
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITER_LOCK,))
        else:
            conn = sqlite3.connect(str(store.path), timeout=0.2, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO feedback (doc_id, query, value, user, at) VALUES ('s:1', 'q', 1, 'u', 'now')")
        conn.execute("COMMIT")
        conn.close()
        wrote.append(True)

    report = crawl(doc(1), doc(2), other_writer, Unchanged("s:9"), doc(3), other_writer, Checkpoint({}))
    assert report.ok and wrote == [True, True] and store.count("feedback") == 2


def test_the_connector_reads_ahead_of_the_consumer_through_a_bounded_queue():
    produced = []
    started = threading.Event()

    def produce():
        started.set()
        for i in range(1000):
            produced.append(i)
            yield Unchanged(f"s:{i}")

    stream = read_ahead(produce, size=8)
    assert next(stream).id == "s:0"
    time.sleep(0.3)  # the thread fills the queue while we wait, and no further
    assert 8 <= len(produced) <= 11
    stream.close()
    n = len(produced)
    time.sleep(0.3)
    assert len(produced) == n  # closing the stream stops the connector


def test_read_ahead_raises_the_connector_exception_in_the_consumer():
    def produce():
        yield Unchanged("s:1")
        raise SourceError("s", "boom")

    stream = read_ahead(produce)
    assert next(stream).id == "s:1"
    with pytest.raises(SourceError, match="boom"):
        next(stream)


def test_a_new_genre_rule_reaches_documents_crawled_before_it_without_a_crawl(index):
    from index.ingest.traits import GENRE_VERSION
    from index.storage import documents as documents_store

    store, vectors, crawl = index
    cited = Document(id="s:refs", source="s", team="T", kind="doc", title="References", path="docs/references.rst",
                     text="Smith, J. et al. (2019). Drift in deployed models. Journal of Monitoring.")
    crawl(cited, doc(1), Checkpoint({}, full_sweep=True))
    assert documents_store.traits_of(store, ["s:refs"])["s:refs"]["genre"] == "bibliography"
    with store.transaction():  # as a crawl made before the rule left it
        documents_store.set_genre(store, "s:refs", "")
        store.set_meta("genre_version", str(GENRE_VERSION - 1))
    assert pipeline.rejudge_genres(store, batch=1) == 1  # one document at a time: the pass pages through all
    assert documents_store.traits_of(store, ["s:refs", "s:1"])["s:refs"]["genre"] == "bibliography"
    assert documents_store.traits_of(store, ["s:1"])["s:1"]["genre"] == ""
    assert store.get_meta("genre_version") == str(GENRE_VERSION)
    assert pipeline.rejudge_genres(store) == 0  # judged once per rule change
    consistent(store, vectors)
