"""The sqlite3-shaped Postgres connection: SQLite's SQL reaches Postgres with the same meaning."""
from __future__ import annotations

import sqlite3

import pytest

from index.storage.postgres.conn import PgConnection


@pytest.fixture
def conn(pg_url):
    c = PgConnection(pg_url)
    c.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT, n INTEGER, flag INTEGER, blob BLOB, x REAL)")
    c.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, note TEXT, user TEXT)")
    yield c
    c.close()


def test_upserts_run_as_written_and_sqlites_insert_or_is_refused_naming_the_fix(conn):
    upsert = "INSERT INTO kv (key, value, n) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, n = excluded.n"
    conn.execute(upsert, ("a", "one", 1))
    conn.execute(upsert, ("a", "two", 2))
    assert conn.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", ("a", "three")).rowcount == 0
    assert conn.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", ("b", "x")).rowcount == 1
    assert conn.execute("SELECT key, value, n FROM kv ORDER BY key").fetchall() == [("a", "two", 2), ("b", "x", None)]
    with pytest.raises(sqlite3.ProgrammingError, match="ON CONFLICT"):
        conn.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", ("a", "x"))


def test_lastrowid_placeholders_literals_and_a_bare_user_column(conn):
    first = conn.execute("INSERT INTO log (note, user) VALUES (?, ?)", ("50% done? yes", "ada")).lastrowid
    second = conn.execute("INSERT INTO log (note, user) VALUES ('what? 100%', ?)", ("bob",)).lastrowid
    assert second == first + 1
    rows = conn.execute("SELECT id, note, user FROM log WHERE note LIKE '%?%' ORDER BY id").fetchall()
    assert rows == [(first, "50% done? yes", "ada"), (second, "what? 100%", "bob")]
    assert [r["user"] for r in conn.query("SELECT user FROM log WHERE user = ?", ["bob"])] == ["bob"]


def test_like_ignores_case_as_in_sqlite_and_instr_and_brackets_work(conn):
    conn.execute("INSERT INTO kv (key, value) VALUES ('k', 'Drift Monitoring')")
    assert conn.execute("SELECT count(*) FROM [kv] WHERE value LIKE ?", ("%drift%",)).fetchone() == (1,)
    assert conn.execute("SELECT instr(lower(value), ?) FROM kv", ("monitor",)).fetchone() == (7,)


def test_sums_come_back_as_ints_and_floats_and_nul_is_stored_as_a_replacement(conn):
    conn.executemany("INSERT INTO kv (key, n, x) VALUES (?, ?, ?)", [("a", 2, 0.25), ("b", 3, 0.5)])
    assert conn.execute("SELECT sum(n), sum(x), avg(n) FROM kv").fetchone() == (5, 0.75, 2.5)
    conn.execute("INSERT INTO kv (key, value) VALUES (?, ?)", ("nul", "a\x00b"))
    assert conn.execute("SELECT value FROM kv WHERE key = 'nul'").fetchone() == ("a\ufffdb",)


def test_errors_are_sqlite3_classes_and_transactions_are_explicit(conn):
    conn.execute("INSERT INTO kv (key) VALUES ('a')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO kv (key) VALUES ('a')")
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT nope FROM kv")
    assert not conn.in_transaction
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO kv (key) VALUES ('b')")
    assert conn.in_transaction
    conn.execute("ROLLBACK")
    assert [r[0] for r in conn.execute("SELECT key FROM kv ORDER BY key")] == ["a"]
