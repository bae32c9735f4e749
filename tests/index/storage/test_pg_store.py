"""The Postgres store: schema and numbered migrations, an open that writes nothing, writers taking turns
across processes, and the shared records replicas rely on (seen events, digest claims)."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

import index.storage.sqlite.store as store_module
from index.storage import digest_runs
from index.storage.factory import open_seen_events
from index.storage.postgres.conn import PgConnection
from index.storage.postgres.store import WRITER_LOCK, PgStore, migrations


def test_a_new_database_gets_the_schema_and_every_migration_in_order(pg_url):
    store = PgStore(pg_url)
    done = [r["version"] for r in store.query("SELECT version FROM schema_migrations ORDER BY version")]
    assert done == [n for n, _, _ in migrations()] and done[:3] == [1, 2, 3]
    assert {"documents", "chunks", "chunks_fts", "seen_events", "digest_runs"} <= set(
        r["table_name"] for r in store.query("SELECT table_name FROM information_schema.tables"))
    assert "embedding" in store.columns("chunks") and "ntokens" in store.columns("chunks_fts")
    assert store.get_meta("schema_version") == str(store_module.SCHEMA_VERSION)
    store.close()


def test_opening_an_up_to_date_database_writes_nothing_even_while_another_replica_writes(pg_url):
    PgStore(pg_url).close()
    writer = PgConnection(pg_url)
    writer.execute("BEGIN")
    writer.execute("SELECT pg_advisory_xact_lock(?)", (WRITER_LOCK,))  # a crawl in the middle of a commit
    writer.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
    opened = []
    thread = threading.Thread(target=lambda: opened.append(PgStore(pg_url)), daemon=True)
    t0 = time.perf_counter()
    thread.start()
    thread.join(10)
    assert opened and time.perf_counter() - t0 < 5  # an open that wrote would wait for the writer
    reader = opened[0]
    assert reader.get_meta("x") is None
    writer.execute("COMMIT")
    assert reader.get_meta("x") == "y"
    reader.close()
    writer.close()


def test_a_table_appended_to_schema_reaches_an_existing_database(pg_url, monkeypatch):
    PgStore(pg_url).close()
    extended = store_module.SCHEMA + "CREATE TABLE IF NOT EXISTS helper_feature (id INTEGER PRIMARY KEY, v TEXT);\n"
    monkeypatch.setattr(store_module, "SCHEMA", extended)
    store = PgStore(pg_url)
    assert store.conn.execute("INSERT INTO helper_feature (v) VALUES ('ok')").lastrowid == 1
    versions = store.query("SELECT count(*) AS n FROM schema_migrations")[0]["n"]
    store.close()
    assert PgStore(pg_url).query("SELECT count(*) AS n FROM schema_migrations")[0]["n"] == versions  # applied once


def test_writers_in_two_stores_take_turns(pg_url):
    a, b = PgStore(pg_url), PgStore(pg_url)
    a.begin()
    a.set_meta("turn", "a")
    done = []

    def second():
        with b.transaction():
            b.set_meta("turn", b.get_meta("turn") + "b")
        done.append(time.perf_counter())

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)
    assert not done  # b waits for a's transaction, as SQLite's BEGIN IMMEDIATE makes it
    released = time.perf_counter()
    a.commit()
    thread.join(10)
    assert done and done[0] >= released and a.get_meta("turn") == "ab"
    a.close()
    b.close()


def test_seen_events_answer_the_first_delivery_only_across_connections(pg_url):
    store = PgStore(pg_url)
    one, two = open_seen_events(store), open_seen_events(store)
    assert one.first("event:E1") is True
    assert two.first("event:E1") is False and one.first("event:E1") is False
    assert two.first("event:E2") is True
    assert one.first("event:E1", now=time.time() + 2 * one.ttl) is True  # expired keys may be answered again
    one.close()
    two.close()
    store.close()


def test_a_digest_week_is_claimed_by_one_of_many_replicas(pg_url):
    stores = [PgStore(pg_url) for _ in range(4)]
    now = datetime.now(timezone.utc)
    results = []
    barrier = threading.Barrier(len(stores))

    def claim(i: int) -> None:
        barrier.wait()
        results.append(digest_runs.claim(stores[i], "#guild", "2026-W48", "all", f"replica-{i}", now).granted)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results) == [False, False, False, True]
    for s in stores:
        s.close()


@pytest.mark.parametrize("bad", ["postgresql://nobody@127.0.0.1:9/none"])
def test_an_unreachable_database_is_a_store_error_naming_the_fix(bad):
    with pytest.raises(store_module.StoreError) as e:
        PgStore(bad)
    assert "cannot connect" in str(e.value) and "GUILDBOT_DATABASE" in str(e.value)



def test_embeddings_travel_to_postgres_in_binary(pg_url, monkeypatch):
    """pgvector's psycopg adapter sends vectors in its binary format: their text form is never made,
    and what is stored reads back as sent."""
    import numpy as np
    from pgvector import HalfVector

    from connectors.base import Document

    def no_text(self):
        raise AssertionError("a vector was sent as text")

    sent = []
    to_binary = HalfVector.to_binary
    monkeypatch.setattr(HalfVector, "to_text", no_text)
    monkeypatch.setattr(HalfVector, "to_binary", lambda self: sent.append(1) or to_binary(self))
    store = PgStore(pg_url)
    try:
        vec = np.zeros(384, dtype="float32")
        vec[3] = 1.0
        doc = Document(id="bin:1", source="bin", team="T", kind="doc", title="Binary", url="", path="b.md", text="x")
        with store.transaction():
            store.put_document(doc, "hash", "files")
            [chunk_id] = store.add_chunks("bin:1", "Binary", ["x"], vec.reshape(1, -1))
        assert sent  # through pgvector's binary dumper
        stored = store.conn.raw.execute("SELECT embedding FROM chunks WHERE id = %s", (chunk_id,)).fetchone()[0]
        assert np.array_equal(stored.to_numpy(), vec)
    finally:
        store.close()
