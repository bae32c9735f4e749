"""The Postgres store: the same `Store` interface over one Postgres database (psycopg 3 + pgvector).

The schema is the numbered files in index/storage/postgres/migrations (0000 the tables SQLite also has,
then pgvector, the tsvector full text, the catalog's tables), applied in order in one transaction and
recorded in `schema_migrations`; a table added to SQLite's declaration (index/storage/sqlite/schema.py)
needs a new numbered file here (tests/test_pg_store.py compares the two). Opening an up-to-date
database reads the applied versions and writes nothing.

Write transactions take one transaction-level advisory lock, so writers on every replica take
turns as SQLite's BEGIN IMMEDIATE makes them do: the read-then-write steps in index/ (digest
claims, sync invitations, seen events) keep their meaning on any number of processes.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import time
from importlib import resources
from typing import Any, Iterable

import numpy as np
from pgvector import HalfVector
from pgvector.psycopg import register_vector

from index.storage.dburl import display_url
from index.storage.postgres.conn import PgConnection
from index.storage.sqlite.store import SCHEMA_VERSION, Store, StoreError, identifier_words, now_iso

WRITER_LOCK = 0x6775696C64  # pg_advisory_xact_lock key every write transaction takes ("guild")
BM25_K1, BM25_B = 1.2, 0.75  # FTS5's bm25() constants
FTS_STATS_S = 300.0  # seconds the row count and mean length behind BM25's weights are reused
FTS_STATS_MIN_ROWS = 20_000  # below this many rows they are counted at every search (a few milliseconds)


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, SQL) of every Postgres migration, in order."""
    folder = resources.files("index.storage.postgres") / "migrations"
    out = []
    for f in folder.iterdir():
        m = re.match(r"(\d+)_(\w+)\.sql$", f.name)
        if m:
            out.append((int(m.group(1)), m.group(2), f.read_text()))
    return sorted(out)


def halfvec(vec: Any) -> HalfVector:
    """One embedding as a pgvector parameter: pgvector's psycopg adapter sends it in binary
    (registered on each store connection), not as a text literal to parse."""
    return HalfVector(np.asarray(vec, dtype="float32").reshape(-1))


class PgStore(Store):
    """`Store` on Postgres; `path` is the database URL without its password."""

    backend = "postgres"

    def __init__(self, url: str):
        self.url = url
        self.path = display_url(url)  # type: ignore[assignment]
        try:
            self.conn = PgConnection(url)  # type: ignore[assignment]
        except sqlite3.Error as e:
            raise StoreError(self.path, f"cannot connect to the Postgres database ({str(e).splitlines()[0]})",
                             "check [guild] database / GUILDBOT_DATABASE (host, port, user, database name), "
                             "that the server runs, and PGPASSWORD") from None
        self._writer = threading.RLock()
        self._held = threading.local()
        self._wrote = False
        self._stats: tuple[float, int, float] | None = None
        try:
            self._open()
        except sqlite3.Error as e:
            self.conn.close()
            raise StoreError(self.path, f"the Postgres database cannot be used ({e})",
                             "check that the user may create tables and the `vector` extension "
                             "(CREATE EXTENSION vector), or ask the database owner to run it") from None
        register_vector(self.conn.raw)  # numpy / HalfVector parameters travel in pgvector's binary format

    def _applied(self) -> set[int]:
        raw = self.conn.raw
        if not raw.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]:
            return set()
        return {r[0] for r in raw.execute("SELECT version FROM schema_migrations")}

    def _open(self) -> None:
        """The migrations not yet applied, in order, in one transaction; an up-to-date database is only read."""
        if {n for n, _, _ in migrations()} <= self._applied():
            return
        self.begin()
        try:
            self.conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, "
                              "applied_at TEXT)")
            stamp = now_iso()
            done = {r[0] for r in self.conn.execute("SELECT version FROM schema_migrations")}
            for number, name, sql in migrations():
                if number not in done:
                    self.conn.executescript(sql)
                    self.conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                      (number, name, stamp))
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        except BaseException:
            self.rollback()
            raise
        self.commit_schema()

    def commit_schema(self) -> None:
        try:
            self.conn.execute("COMMIT")
        finally:
            self._release()
        self.conn.forget_tables()

    # -- transactions --------------------------------------------------------------------------
    def begin(self) -> None:
        """BEGIN, then the writers' advisory lock: one write transaction at a time across replicas."""
        self._writer.acquire()
        try:
            self.conn.execute("BEGIN")
            try:
                self.conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITER_LOCK,))
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        except BaseException:
            self._writer.release()
            raise
        self._held.n = getattr(self._held, "n", 0) + 1

    def close(self) -> None:
        self.conn.close()

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        return self.conn.query(sql, params)

    def columns(self, table: str) -> list[str]:
        return self.conn.table(table)[0]

    # -- chunks: the embedding column and the tsvector table --------------------------------------
    def add_chunks(self, doc_id: str, title: str, texts: list[str], vectors: Any) -> list[int]:
        ids = []
        for seq, (text, vec) in enumerate(zip(texts, vectors)):
            vec = vec.astype("float32")
            cur = self.conn.execute("INSERT INTO chunks (doc_id, seq, text, vector, embedding) VALUES (?,?,?,?,?::halfvec)",
                                    (doc_id, seq, text, vec.tobytes(), halfvec(vec)))
            ids.append(cur.lastrowid)
            self.conn.execute("INSERT INTO chunks_fts (rowid, title, body) VALUES (?,?,?)",
                              (cur.lastrowid, title + " " + identifier_words(title), text + "\n" + identifier_words(text)))
        return ids

    def fts(self, match: str, limit: int, title_weight: float = 4.0) -> list[tuple[int, float]]:
        """(chunk id, -BM25; lower is better) for the quoted terms of search.fts_query's expression, scored
        as FTS5's bm25() scores them: any term matches, a title token counts `title_weight` body tokens,
        k1 = 1.2, b = 0.75, lengths in tokens of title and body together."""
        terms = [t for t in re.findall(r'"([^"]*)"', match) if t.strip()]
        if not terms:
            return []
        n, avgdl = self._fts_stats()
        rows = self.conn.execute(
            f"""WITH terms AS (SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', ?))),
                     q AS (SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) AS q FROM terms),
                     hits AS (SELECT f.rowid, f.ntokens, u.lexeme,
                                     (SELECT sum(CASE WHEN w = 'A' THEN ? ELSE 1.0 END) FROM unnest(u.weights) w) AS tf
                              FROM chunks_fts f CROSS JOIN q CROSS JOIN LATERAL unnest(f.tsv) u
                              WHERE f.tsv @@ q.q AND u.lexeme IN (SELECT lexeme FROM terms)),
                     df AS (SELECT lexeme, count(*) AS n FROM hits GROUP BY lexeme)
                SELECT h.rowid, sum(greatest(ln((? - df.n + 0.5) / (df.n + 0.5)), 1e-6)
                                    * h.tf * {BM25_K1 + 1} / (h.tf + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * h.ntokens / ?))) AS s
                FROM hits h JOIN df USING (lexeme) GROUP BY h.rowid ORDER BY s DESC, h.rowid LIMIT ?""",
            (re.sub(r"[\W_]+", " ", " ".join(terms)), float(title_weight), float(n), max(avgdl, 1.0), limit))
        return [(int(r[0]), -float(r[1])) for r in rows]

    def _fts_stats(self) -> tuple[int, float]:
        """(rows, mean length) of the full-text table, read again after FTS_STATS_S (a count is a scan)."""
        now = time.monotonic()
        if self._stats is None or now - self._stats[0] > FTS_STATS_S:
            row = self.conn.execute("SELECT count(*), coalesce(avg(ntokens), 0) FROM chunks_fts").fetchone()
            self._stats = (now if row[0] >= FTS_STATS_MIN_ROWS else -FTS_STATS_S, int(row[0]), float(row[1]))
        return self._stats[1], self._stats[2]
