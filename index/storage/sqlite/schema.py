"""Every table, index and full-text table of the SQLite store, and the one way they reach a database.

`TABLES` declares each table (columns with their types, primary key, NOT NULL columns, indexes);
`VIRTUAL` holds the FTS5 table, whose options sqlite-utils cannot express. `ensure(conn)` runs
when the store opens, before its connection is shared:

- `pending(conn)` compares the declaration with the file, read-only (one query over
  sqlite_master and every table's columns). An up-to-date database is left alone: opening the
  store writes nothing and takes no lock, so readers open it while a crawl writes.
- Otherwise, inside one BEGIN IMMEDIATE transaction, each table goes through sqlite-utils'
  `Table.create(..., if_not_exists=True, transform=True)`: a missing table is created, a table whose
  columns, primary key or NOT NULL columns differ is transformed in place (sqlite-utils copies it
  into the new shape and keeps its rows and indexes), then the missing indexes and the FTS5 table
  are created. A changed table of derived data (people, the catalog) marks the derived data stale,
  so the next crawl rebuilds it.

This is the only migration path for SQLite: a database of any earlier layout is brought up to
date by the same comparison, with no version number to keep. Postgres has its own definition, the
numbered files in index/storage/postgres/migrations, which must hold every table declared here
(tests/test_pg_store.py checks that they do).
"""
from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

# sqlite-utils is imported only when the schema changes (apply): opening an up-to-date store is on
# every CLI question's path, and importing it there cost 30 ms a process (make bench).
SQL_TYPE = {str: "TEXT", int: "INTEGER", float: "REAL", bytes: "BLOB"}  # sqlite-utils' COLUMN_TYPE_MAPPING


def column_affinity(column_type: str) -> type:
    """SQLite's affinity rules (sqlite.org/datatype3.html), judged as sqlite-utils judges them
    (`sqlite_utils.utils.column_affinity`; tests/index/storage/test_store.py checks they agree)."""
    declared = column_type.upper().strip()
    if declared == "":
        return str
    if "INT" in declared:
        return int
    if "CHAR" in declared or "CLOB" in declared or "TEXT" in declared:
        return str
    if "BLOB" in declared:
        return bytes
    return float

SCHEMA_VERSION = 1  # written to meta as before; the tables themselves are compared, not numbered
DERIVED_STALE = "derived_stale"  # meta key: "1" while people and catalog lag behind the documents


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, type]  # in order; str TEXT, int INTEGER, float REAL, bytes BLOB
    pk: str | tuple[str, ...]
    not_null: tuple[str, ...] = ()
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # index name -> columns
    derived: bool = False  # rebuilt by every crawl from the documents (people, catalog)


def _text(*names: str) -> dict[str, type]:
    return {n: str for n in names}


TABLES: tuple[Table, ...] = (
    Table("meta", _text("key", "value"), "key"),  # model identity, index version, FAISS generation, derived_stale
    Table("sources", _text("name", "kind", "team", "cursor", "last_crawl_at", "last_success_at", "last_error",
                           "last_report"), "name"),
    Table("documents", _text("id", "source", "team", "kind", "title", "url", "path", "text", "content_hash",
                             "updated_at", "metadata", "indexed_at", "fingerprint", "genre", "lang"), "id",
          not_null=("source",), indexes={"documents_source": ("source",)}),  # traits: index/ingest/traits.py
    Table("chunks", {"id": int, "doc_id": str, "seq": int, "text": str, "vector": bytes}, "id", not_null=("doc_id",),
          indexes={"chunks_doc": ("doc_id",)}),  # a document's passages, their float32 vectors
    Table("identities", _text("id", "kind", "name", "email", "username", "slack_id", "team", "tz", "person_id"), "id",
          indexes={"identities_person": ("person_id",)}),
    Table("contributions", {"doc_id": str, "identity_id": str, "role": str, "count": int, "lines": int,
                            "first_at": str, "last_at": str}, ("doc_id", "identity_id", "role"),
          not_null=("doc_id", "identity_id", "role"), indexes={"contributions_identity": ("identity_id",)}),
    Table("people", {**_text("id", "name", "team", "slack_id", "tz", "emails", "aliases"), "in_directory": int}, "id",
          derived=True),
    Table("feedback", {"id": int, "doc_id": str, "query": str, "value": int, "user": str, "at": str}, "id",
          indexes={"feedback_doc": ("doc_id",)}),
    # Slack: deliveries already answered, shared by every bot process (index/storage/sqlite/seen.py)
    Table("seen_events", {"key": str, "at": float}, "key", not_null=("at",), indexes={"seen_events_at": ("at",)}),
    # cross-team syncs (issue 10; their SQL lives in index/storage/syncs.py)
    Table("syncs", _text("id", "cycle", "origin", "topic", "data", "slots", "status", "start_at", "end_at", "channel",
                         "ts", "posted_at", "invited_at", "reminded_at", "checkin_at", "caldav_href", "created_at"), "id"),
    Table("sync_members", _text("sync_id", "person_id", "slack_id", "email"), ("sync_id", "person_id"),
          not_null=("sync_id", "person_id")),
    Table("sync_rsvps", _text("sync_id", "slack_id", "answer", "at"), ("sync_id", "slack_id"),
          not_null=("sync_id", "slack_id")),
    Table("sync_checkins", {"sync_id": str, "slack_id": str, "met": int, "outcome": str, "at": str},
          ("sync_id", "slack_id"), not_null=("sync_id", "slack_id")),
    Table("sync_optouts", _text("key", "at"), "key"),
    # the query log (index/retrieval/querylog.py): every question asked on any surface
    Table("query_log", {"id": int, **_text("at", "surface", "question", "qkey", "kind", "asker", "asker_team"),
                        "strength": float, "results": int}, "id", not_null=("at",), indexes={"query_log_at": ("at",)}),
    # the weekly digest (index/storage/digest_runs.py): one run record per (channel, week), which overlaps each
    # view has announced, and documents' first sighting, so an edited wiki page is not "new"
    Table("digest_runs", _text("channel", "week", "view", "channel_id", "ts", "content_hash", "owner", "claimed_at",
                               "posted_at", "updated_at"), ("channel", "week"), not_null=("channel", "week")),
    Table("digest_overlaps", _text("view", "pair", "week"), ("view", "pair"), not_null=("view", "pair", "week")),
    Table("doc_first_seen", _text("doc_id", "first_seen"), "doc_id"),
    # the catalog (index/catalog/build.py): projects and which documents make each
    Table("projects", {**_text("id", "name", "kind", "source", "sources", "team", "summary", "topics", "topic_sources",
                               "owners", "owner_people", "contributors", "links", "first_activity", "last_activity",
                               "status"), "documents": int, "main_doc": str, "provenance": str, "vector": bytes,
                       "built_at": str}, "id", derived=True),
    Table("project_documents", _text("doc_id", "project_id", "unit_id"), "doc_id", not_null=("project_id",),
          indexes={"project_documents_project": ("project_id",)}, derived=True),
    # characteristic content and key phrases (index/catalog/content.py); phrase vectors are a cache
    Table("project_content", {"project_id": str, "fingerprint": str, "direction": bytes, "passages": bytes,
                              **_text("passage_refs", "candidates", "key_phrases", "built_at")}, "project_id",
          derived=True),
    Table("phrase_vectors", {"phrase": str, "vector": bytes}, "phrase", derived=True),
    # pair scores behind overlaps (index/catalog/pairs.py)
    Table("project_affinity", {"project_id": str, "other_id": str, "maxes": bytes}, ("project_id", "other_id"),
          not_null=("project_id", "other_id"), derived=True),
    Table("project_pairs", {"a": str, "b": str, "lead": float, "score": float, "built_at": str}, ("a", "b"),
          not_null=("a", "b"), derived=True),
    # consent and load (issue 26; index/storage/consent.py, asks.py): what each person lets guildbot do with
    # them, every time someone was suggested, the questions sent to people ("Ask them"), and the Slack threads
    # guildbot answered in (where follow-ups are answered without a mention)
    Table("consent", {"person_id": str, "opted_out": int, **_text("paused_until", "hidden_topics", "updated_at")},
          "person_id"),
    Table("suggestions", {"id": int, **_text("at", "person_id", "surface", "asker", "asker_team", "person_team",
                                               "qkey")}, "id", not_null=("at", "person_id"),
          indexes={"suggestions_at": ("at",)}),
    Table("asks", _text("id", "at", "asker", "asker_team", "question", "people", "sent", "answered_at",
                        "answered_by"), "id", not_null=("at",), indexes={"asks_at": ("at",)}),
    Table("slack_threads", _text("channel", "thread_ts", "at", "kind", "ref"), ("channel", "thread_ts"),
          not_null=("channel", "thread_ts")),
    # people's profiles (index/expertise/profiles.py)
    Table("person_profiles", {"person_id": str, "vector": bytes, "topics": str, "documents": int, "built_at": str},
          "person_id", derived=True),
)

# The chunks' full text: title and body, Porter stemming over unicode61 words. Search figures depend on
# these options, so they are written out exactly (sqlite-utils' enable_fts makes only external-content tables).
VIRTUAL: dict[str, str] = {
    "chunks_fts": "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, body, tokenize = 'porter unicode61')",
}

def _affinity(kind: type) -> type:
    return column_affinity(SQL_TYPE[kind])


def _differences(t: Table, have: list[tuple[str, str, int, int]]) -> list[str]:
    """How a table's columns (name, declared type, notnull, pk position) differ from its declaration,
    judged as sqlite-utils' create(transform=True) judges them."""
    by_name = {name.casefold(): (name, kind, notnull, pk) for name, kind, notnull, pk in have}
    out = []
    missing = [c for c in t.columns if c.casefold() not in by_name]
    extra = [row[0] for key, row in by_name.items() if key not in {c.casefold() for c in t.columns}]
    if missing:
        out.append("add " + ", ".join(missing))
    if extra:
        out.append("drop " + ", ".join(extra))
    retyped = [c for c, kind in t.columns.items()
               if c.casefold() in by_name and column_affinity(by_name[c.casefold()][1]) != _affinity(kind)]
    if retyped:
        out.append("retype " + ", ".join(retyped))
    want_pk = [t.pk] if isinstance(t.pk, str) else list(t.pk)
    have_pk = [name for name, _, _, pk in sorted((r for r in have if r[3]), key=lambda r: r[3])]
    if [c.casefold() for c in have_pk] != [c.casefold() for c in want_pk]:
        out.append(f"primary key ({', '.join(want_pk)})")
    if {name.casefold() for name, _, notnull, _ in have if notnull} != {c.casefold() for c in t.not_null}:
        out.append(f"not null ({', '.join(t.not_null)})")
    return out


def pending(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """What the database lacks: (step, table or index, detail) with step "create", "change", "index" or
    "virtual"; [] when it matches the declaration. Reads only."""
    objects = {(kind, name) for kind, name in conn.execute("SELECT type, name FROM sqlite_master")}
    columns: dict[str, list[tuple[str, str, int, int]]] = defaultdict(list)
    for table, name, kind, notnull, pk in conn.execute(
            "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master AS m, pragma_table_info(m.name) AS p "
            "WHERE m.type = 'table' ORDER BY m.name, p.cid"):
        columns[table].append((name, kind, notnull, pk))
    steps = []
    for t in TABLES:
        if ("table", t.name) not in objects:
            steps.append(("create", t.name, ""))
        else:
            steps += [("change", t.name, d) for d in _differences(t, columns[t.name])]
        steps += [("index", name, t.name) for name in t.indexes if ("index", name) not in objects]
    steps += [("virtual", name, "") for name in VIRTUAL if ("table", name) not in objects]
    return steps


def apply(conn: sqlite3.Connection) -> None:
    """Create and transform through sqlite-utils on `conn` (inside the caller's transaction)."""
    from sqlite_utils import Database

    db = Database(conn, recursive_triggers=False, execute_plugins=False)
    for t in TABLES:
        table = db.table(t.name)
        table.create(dict(t.columns), pk=t.pk, not_null=set(t.not_null) or None, if_not_exists=True, transform=True)
        for name, cols in t.indexes.items():
            table.create_index(list(cols), index_name=name, if_not_exists=True)
    for sql in VIRTUAL.values():
        conn.execute(sql)


def ensure(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """Bring the database at `conn` (isolation_level None) to the declaration; returns the steps taken.
    An up-to-date database is only read."""
    if not pending(conn):
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        steps = pending(conn)  # again under the write lock: another process may have done it meanwhile
        if steps:
            apply(conn)
            conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))
            derived = {t.name for t in TABLES if t.derived}
            if any(step == "change" and name in derived for step, name, _ in steps):
                conn.execute("INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = excluded.value", (DERIVED_STALE,))
            left = pending(conn)
            if left:  # the comparison and sqlite-utils disagree: every open would take the write lock
                raise RuntimeError(f"the schema did not converge: {left}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return steps
