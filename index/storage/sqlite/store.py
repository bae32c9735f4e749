"""The SQLite store (Python's sqlite3, plain SQL): sources, documents, chunks, FTS5, identities, people.

Writes that belong together run inside `Store.transaction()`. Chunk vectors are kept here too, so the
FAISS index (index/storage/sqlite/vectors.py) can always be rebuilt from SQLite.

Many processes share one database: WAL mode lets readers (search, who, Slack, the web app) answer
while a crawl writes, writers keep their transactions short, and opening the store writes
nothing unless the database lacks part of the schema (every table is declared in
index/storage/sqlite/schema.py, which compares and applies it).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator


from connectors.base import Contributor, Document
from connectors.common.redact import redact, redact_value
from index.storage.sqlite import schema
from index.storage.sqlite.schema import DERIVED_STALE, SCHEMA_VERSION  # noqa: F401  (PgStore writes the version too)

# history units (connectors/common/history.py): evidence for `who` at a module's grain, never answers,
# pages or catalog members of their own
UNIT_KINDS = frozenset({"commit", "folder"})


def not_unit(column: str = "kind") -> str:
    """SQL: the row's document kind is not a history unit."""
    return f"{column} NOT IN ({', '.join(repr(k) for k in sorted(UNIT_KINDS))})"

BUSY_TIMEOUT = 15.0  # seconds a writer waits for another's short transaction before giving up
SQLiteError = sqlite3.Error  # what surfaces catch to turn a broken database into a StoreError

class StoreError(Exception):
    """The data_dir or its database cannot be used. The message names the file and the fix."""

    def __init__(self, path: Path | str, problem: str, fix: str):
        self.path, self.problem, self.fix = Path(os.path.normpath(path)), problem, fix
        where = path if isinstance(path, str) and "://" in path else self.path  # a database URL stays one
        super().__init__(f"{where}: {problem}\n  fix: {fix}")


def store_error(exc: BaseException, path: Path) -> StoreError:
    """A clear StoreError for an OS or SQLite failure on the database at `path`."""
    text = str(exc)
    path = Path(os.path.normpath(path))
    folder = path.parent
    if isinstance(exc, sqlite3.DatabaseError) and any(
            m in text for m in ("not a database", "malformed", "file is encrypted", "corrupt")):
        return StoreError(path, f"the index database is corrupt ({text})",
                          f"move it away (mv {path} {path}.broken) and run `guildbot crawl` to rebuild the index "
                          "from the sources")
    if "locked" in text or "busy" in text:
        return StoreError(path, f"the database stayed locked for more than {BUSY_TIMEOUT:.0f}s ({text})",
                          "another guildbot process is writing; try again in a moment")
    if isinstance(exc, (FileExistsError, NotADirectoryError)) or "Not a directory" in text:
        return StoreError(folder, f"data_dir is not a usable folder: part of the path is a file ({text})",
                          "set [guild] data_dir in guild.toml to a folder path, or move the file away")
    if isinstance(exc, PermissionError) or "readonly" in text or "unable to open" in text or "I/O error" in text:
        return StoreError(folder, f"cannot write the index in data_dir ({text})",
                          f"make {folder} writable by this user (chmod u+w), or set [guild] data_dir in guild.toml "
                          "to a writable folder")
    return StoreError(path, f"the index database cannot be used ({type(exc).__name__}: {text})",
                      "check the file and its folder, or move the file away and run `guildbot crawl` again")


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def now_iso() -> str:
    return iso(datetime.now(timezone.utc))


INDEX_VERSION = 3  # bump when chunking, text cleaning or what the model reads changes: every document is embedded again
# (3: identifiers' words are read with each chunk, index/ingest/chunking.embedding_input)
_IDENTIFIER = re.compile(r"\b\w*(?:[a-z][A-Z]|[A-Za-z]_[A-Za-z])\w*\b")


def content_hash(doc: Document) -> str:
    """What decides whether a document must be chunked and embedded again."""
    key = f"{INDEX_VERSION}\x00{doc.title}\x00{doc.path}\x00{doc.text}"
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def identifier_words(text: str) -> str:
    """The words inside code identifiers, so 'AlternatingLeastSquares' and 'fit_transform' match
    'alternating least squares' and 'fit transform' in full-text search."""
    words = []
    for ident in dict.fromkeys(_IDENTIFIER.findall(text)):
        words.append(re.sub(r"_+", " ", re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", ident)))
    return " ".join(words)


def identity_id(kind: str, c: Contributor) -> str:
    key = "|".join(x.strip().casefold() for x in (c.name, c.email, c.username))
    return f"{kind}:{key}"


class Store:
    def __init__(self, data_dir: Path):
        self.path = data_dir / "guild.db"
        try:
            if data_dir.exists() and not data_dir.is_dir():
                raise NotADirectoryError(f"{data_dir} is a file")
            data_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT)
        except (OSError, sqlite3.Error) as e:
            raise store_error(e, self.path) from None
        self.conn = conn
        self._writer = threading.RLock()  # one write transaction at a time on this shared connection
        self._held = threading.local()
        self._wrote = False
        try:
            self._open()
        except (OSError, sqlite3.Error) as e:
            conn.close()
            raise store_error(e, self.path) from None

    def _open(self) -> None:
        """Pragmas, then the schema only if the database lacks part of it: a plain open writes nothing."""
        conn = self.conn
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=OFF")
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode=WAL")  # persistent: set once, when the database is new
        schema.ensure(conn)  # before the connection is shared: no other thread uses it yet

    def close(self) -> None:
        self.conn.close()

    # -- transactions and meta ---------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def begin(self) -> None:
        """BEGIN IMMEDIATE; threads sharing this Store (the Slack and web handlers, a test) wait for
        each other's transaction here instead of failing with "cannot start a transaction within a transaction"."""
        self._writer.acquire()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._writer.release()
            raise
        self._held.n = getattr(self._held, "n", 0) + 1

    def _release(self) -> None:
        if getattr(self._held, "n", 0) > 0:
            self._held.n -= 1
            self._writer.release()

    def commit(self) -> None:
        try:
            if self._wrote:
                self.set_meta(DERIVED_STALE, "1")  # people and catalog must be rebuilt from what changed
                self._wrote = False
            self.conn.execute("COMMIT")
        finally:
            self._release()

    def derived_stale(self) -> bool:
        return self.get_meta(DERIVED_STALE, "1") == "1"

    def mark_derived_fresh(self, inputs: str) -> None:
        """People and catalog now match the documents and the given people inputs (directory, rules)."""
        self.set_meta(DERIVED_STALE, "0")
        self.set_meta("derived_inputs", inputs)

    def rollback(self) -> None:
        self._wrote = False
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        finally:
            self._release()

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts, read on the shared connection without opening a transaction. (sqlite-utils 4's
        `Database.query`, used here before, wraps each read in a SAVEPOINT, which starts one: a reader
        thread then broke a writer's BEGIN IMMEDIATE on the same connection.)"""
        cur = self.conn.execute(sql, tuple(params))
        keys = [d[0] for d in cur.description or ()]
        return [dict(zip(keys, row)) for row in cur] if keys else []

    # -- sources -----------------------------------------------------------------------------
    def source(self, name: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM sources WHERE name = ?", [name])
        return rows[0] if rows else None

    def cursor(self, name: str) -> dict[str, Any] | None:
        row = self.source(name)
        return json.loads(row["cursor"]) if row and row["cursor"] else None

    def save_source(self, name: str, **values: Any) -> None:
        values = {k: (json.dumps(redact_value(v)) if k in ("cursor", "last_report") and v is not None
                      else redact(v) if isinstance(v, str) else v) for k, v in values.items()}
        self.conn.execute("INSERT INTO sources (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (name,))
        if values:
            sets = ", ".join(f"{k} = ?" for k in values)
            self.conn.execute(f"UPDATE sources SET {sets} WHERE name = ?", (*values.values(), name))

    def sources(self) -> list[dict[str, Any]]:
        rows = self.query("""SELECT s.*, (SELECT count(*) FROM documents d WHERE d.source = s.name) AS documents
                             FROM sources s ORDER BY s.name""")
        return [redact_value(r) for r in rows]  # rows written before redaction existed are masked too

    # -- documents ---------------------------------------------------------------------------
    def doc_hash(self, doc_id: str) -> str | None:
        row = self.conn.execute("SELECT content_hash FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def doc_ids(self, source: str) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT id FROM documents WHERE source = ?", (source,))}

    def put_document(self, doc: Document, chash: str, source_kind: str) -> None:
        self._wrote = True
        self.conn.execute(
            """INSERT INTO documents (id, source, team, kind, title, url, path, text, content_hash,
               updated_at, metadata, indexed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT (id) DO UPDATE SET source = excluded.source, team = excluded.team, kind = excluded.kind,
               title = excluded.title, url = excluded.url, path = excluded.path, text = excluded.text,
               content_hash = excluded.content_hash, updated_at = excluded.updated_at, metadata = excluded.metadata,
               indexed_at = excluded.indexed_at""",
            (doc.id, doc.source, doc.team, doc.kind, doc.title, redact(doc.url), doc.path, doc.text, chash,
             iso(doc.updated_at), json.dumps(redact_value(doc.metadata), default=str), now_iso()))
        self.conn.execute("DELETE FROM contributions WHERE doc_id = ?", (doc.id,))
        for c in doc.contributors:
            iid = identity_id(source_kind, c)
            self.conn.execute("INSERT INTO identities (id, kind, name, email, username) VALUES (?,?,?,?,?) ON CONFLICT (id) DO NOTHING",
                              (iid, source_kind, c.name.strip(), c.email.strip().lower(), c.username.strip()))
            self.conn.execute(
                """INSERT INTO contributions (doc_id, identity_id, role, count, lines, first_at, last_at)
                   VALUES (?,?,?,?,?,?,?) ON CONFLICT (doc_id, identity_id, role) DO UPDATE SET
                   count = contributions.count + excluded.count, lines = contributions.lines + excluded.lines,
                   first_at = CASE WHEN excluded.first_at IS NULL OR contributions.first_at IS NULL THEN NULL
                                   WHEN excluded.first_at < contributions.first_at THEN excluded.first_at
                                   ELSE contributions.first_at END,
                   last_at = CASE WHEN excluded.last_at IS NULL OR contributions.last_at IS NULL THEN NULL
                                  WHEN excluded.last_at > contributions.last_at THEN excluded.last_at
                                  ELSE contributions.last_at END""",  # SQLite's min()/max() of two, NULL included
                (doc.id, iid, c.role, c.count, c.lines, iso(c.first_at), iso(c.last_at)))

    def delete_document(self, doc_id: str) -> list[int]:
        """Remove a document, its chunks and contributions; returns the removed chunk ids."""
        self._wrote = True
        ids = self.chunk_ids(doc_id)
        self.delete_chunks(ids)
        self.conn.execute("DELETE FROM contributions WHERE doc_id = ?", (doc_id,))
        self.conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        return ids

    def documents(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(dict.fromkeys(ids))
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ",".join("?" * len(part))
            for row in self.query(f"SELECT id, source, team, kind, title, url, path, updated_at, metadata "
                                  f"FROM documents WHERE id IN ({marks})", part):
                out[row["id"]] = row
        return out

    def columns(self, table: str) -> list[str]:
        """The table's column names in order ([] when it does not exist)."""
        return [r[1] for r in self.conn.execute(f"PRAGMA table_info([{table}])")]

    def count(self, table: str) -> int:
        return self.conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]

    # -- chunks ------------------------------------------------------------------------------
    def chunk_ids(self, doc_id: str) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]

    def delete_chunks(self, ids: list[int]) -> None:
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ",".join("?" * len(part))
            self.conn.execute(f"DELETE FROM chunks WHERE id IN ({marks})", part)
            self.conn.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({marks})", part)

    def add_chunks(self, doc_id: str, title: str, texts: list[str], vectors: Any) -> list[int]:
        ids = []
        for seq, (text, vec) in enumerate(zip(texts, vectors)):
            cur = self.conn.execute("INSERT INTO chunks (doc_id, seq, text, vector) VALUES (?,?,?,?)",
                                    (doc_id, seq, text, vec.astype("float32").tobytes()))
            ids.append(cur.lastrowid)
            body = text + "\n" + identifier_words(text)
            self.conn.execute("INSERT INTO chunks_fts (rowid, title, body) VALUES (?,?,?)",
                              (cur.lastrowid, title + " " + identifier_words(title), body))
        return ids

    def chunk_rows(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        ids = list(ids)
        out = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ",".join("?" * len(part))
            for row in self.query(f"SELECT id, doc_id, seq, text FROM chunks WHERE id IN ({marks})", part):
                out[row["id"]] = row
        return out

    def chunk_vectors(self, ids: Iterable[int]) -> dict[int, bytes]:
        ids = list(ids)
        marks = ",".join("?" * len(ids))
        return {r[0]: r[1] for r in self.conn.execute(f"SELECT id, vector FROM chunks WHERE id IN ({marks})", ids)} if ids else {}

    def fts(self, match: str, limit: int, title_weight: float = 4.0) -> list[tuple[int, float]]:
        """(chunk id, bm25 score; lower is better) for an already-safe FTS5 MATCH expression."""
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT rowid, bm25(chunks_fts, ?, 1.0) AS s FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY s LIMIT ?",
            (title_weight, match, limit))]
