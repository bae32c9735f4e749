"""The store: WAL, opening writes nothing, the one schema declaration (index/storage/sqlite/schema.py) reaching
new and existing databases, clear errors for bad files."""
from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest

import index.storage.sqlite.store as store_module
from guildbot.cli import main as cli
from index.storage.sqlite import schema
from index.storage.sqlite.store import Store, StoreError

from conftest import write_config


def test_wal_mode_and_every_declared_table_index_and_full_text_table(tmp_path):
    store = Store(tmp_path)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.get_meta("schema_version") == str(store_module.SCHEMA_VERSION)
    names = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
    assert {t.name for t in schema.TABLES} | {i for t in schema.TABLES for i in t.indexes} | set(schema.VIRTUAL) <= names
    for t in schema.TABLES:
        assert store.columns(t.name) == list(t.columns), t.name
    fts = store.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'chunks_fts'").fetchone()[0]
    assert "fts5(title, body, tokenize = 'porter unicode61')" in fts  # search figures depend on these options
    assert schema.pending(store.conn) == []
    store.close()


def _statements(conn):
    """Every statement the connection runs, in order."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    return seen


def test_opening_an_existing_store_writes_nothing_even_while_another_process_writes(tmp_path, monkeypatch):
    Store(tmp_path).close()
    writer = sqlite3.connect(str(tmp_path / "guild.db"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a crawl in the middle of a commit
    writer.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT", 0.2)  # an open that writes would fail, not wait
    reader = Store(tmp_path)
    assert reader.count("documents") == 0 and reader.get_meta("x") is None  # the uncommitted row is not seen
    writer.execute("COMMIT")
    assert reader.get_meta("x") == "y"
    reader.close()
    writer.close()


def test_an_up_to_date_database_is_only_read_when_opened(tmp_path):
    Store(tmp_path).close()
    conn = sqlite3.connect(str(tmp_path / "guild.db"), isolation_level=None)
    statements = _statements(conn)
    assert schema.ensure(conn) == []
    run = [s for s in statements if not s.startswith("--")]  # "--" lines trace the table-valued pragma inside a SELECT
    assert run and all(s.lstrip().upper().startswith("SELECT") for s in run), run
    conn.close()


def test_a_table_added_to_the_declaration_reaches_an_existing_database(tmp_path, monkeypatch):
    Store(tmp_path).close()
    extra = schema.Table("helper_feature", {"id": int, "v": str}, "id", indexes={"helper_feature_v": ("v",)})
    monkeypatch.setattr(schema, "TABLES", (*schema.TABLES, extra))
    store = Store(tmp_path)
    assert store.conn.execute("INSERT INTO helper_feature (v) VALUES ('ok')").lastrowid == 1
    assert store.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'helper_feature_v'").fetchone()
    assert schema.pending(store.conn) == []
    store.close()


def test_a_changed_table_is_transformed_in_place_keeping_rows_and_indexes(tmp_path, monkeypatch):
    store = Store(tmp_path)
    with store.transaction():
        store.conn.execute("INSERT INTO project_documents (doc_id, project_id, unit_id) VALUES ('d1', 'p1', 'u1')")
    store.mark_derived_fresh("inputs")
    store.close()
    changed = tuple(schema.Table(t.name, {**t.columns, "weight": float}, t.pk, t.not_null, t.indexes, t.derived)
                    if t.name == "project_documents" else t for t in schema.TABLES)
    monkeypatch.setattr(schema, "TABLES", changed)
    store = Store(tmp_path)
    assert store.columns("project_documents") == ["doc_id", "project_id", "unit_id", "weight"]
    assert store.query("SELECT * FROM project_documents") == [
        {"doc_id": "d1", "project_id": "p1", "unit_id": "u1", "weight": None}]
    assert store.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'project_documents_project'").fetchone()
    assert store.derived_stale()  # derived data in a changed table is rebuilt by the next crawl
    assert schema.pending(store.conn) == []
    store.close()


def test_a_database_of_the_previous_layout_gains_only_what_it_lacks(tmp_path):
    """Before schema.py, tables came from a SQL text (a hash of it in user_version) and from the catalog
    modules on first use; the same tables, so only the documents' traits (issue 25) and the new index are added."""
    conn = sqlite3.connect(str(tmp_path / "guild.db"), isolation_level=None)
    conn.executescript(OLD_SCHEMA)
    conn.execute("PRAGMA user_version = 123457")
    conn.execute("INSERT INTO documents (id, source) VALUES ('d1', 's')")
    added_since = [("create", "consent", ""), ("create", "suggestions", ""), ("index", "suggestions_at", "suggestions"),
                   ("create", "asks", ""), ("index", "asks_at", "asks"), ("create", "slack_threads", "")]  # issue 26
    assert schema.ensure(conn) == [("change", "documents", "add fingerprint, genre, lang"),  # issue 25
                                   ("index", "project_documents_project", "project_documents"), *added_since]
    assert schema.ensure(conn) == [] and conn.execute("SELECT id FROM documents").fetchall() == [("d1",)]
    conn.close()


def test_a_corrupt_database_is_a_clear_error_naming_the_file_and_the_fix(tmp_path):
    (tmp_path / "guild.db").write_bytes(b"this is no sqlite file, just text " * 300)
    with pytest.raises(StoreError) as e:
        Store(tmp_path)
    assert str(tmp_path / "guild.db") in str(e.value) and "corrupt" in str(e.value) and "guildbot crawl" in str(e.value)


def test_a_truncated_database_is_a_clear_error_at_the_first_read(tmp_path, capsys):
    config = write_config(tmp_path, [], teams=["T"])
    store = Store(tmp_path / "data")
    with store.transaction():
        for i in range(2000):
            store.save_source(f"s{i}", kind="git", team="T", last_error="x" * 200)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = tmp_path / "data" / "guild.db"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    assert cli.main(["--config", str(config), "sources"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(path) in err and "corrupt" in err and "fix:" in err


def test_a_data_dir_through_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError) as e:
        Store(tmp_path / "afile" / "data")
    assert "afile" in str(e.value) and "data_dir" in str(e.value) and "fix:" in str(e.value)


def _make_read_only(folder):
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return lambda: folder.chmod(0o755)
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("running as root without chattr: no way to make a folder read-only here")
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_data_dir_is_a_clear_error(tmp_path):
    data = tmp_path / "data"
    Store(data).close()
    for suffix in ("-wal", "-shm"):
        (data / f"guild.db{suffix}").unlink(missing_ok=True)
    undo = _make_read_only(data)
    try:
        with pytest.raises(StoreError) as e:
            Store(data)
    finally:
        undo()
    assert str(data) in str(e.value) and "writable" in str(e.value)


@pytest.mark.parametrize("argv", [["search", "drift"], ["who", "drift"], ["sources"], ["crawl", "--quiet"],
                                  ["people"], ["projects"], ["overlaps"]])
def test_every_command_on_a_corrupt_database_exits_2_without_a_traceback(tmp_path, capsys, argv):
    config = write_config(tmp_path, [], teams=["T"])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "guild.db").write_bytes(b"garbage " * 1000)
    assert cli.main(["--config", str(config), *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "guild.db" in err and "fix:" in err


def test_reads_from_another_thread_never_break_a_writers_transaction(tmp_path):
    """The Slack and web handlers share one connection: a read must not open a transaction."""
    import threading

    store = Store(tmp_path)
    errors: list[Exception] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                store.query("SELECT key, value FROM meta")
            except Exception as e:  # noqa: BLE001 - collected for the assertion
                errors.append(e)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(300):
            with store.transaction():
                store.set_meta("probe", str(i))
    finally:
        stop.set()
        reader.join()
    assert errors == [] and store.get_meta("probe") == "299"


OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY, kind TEXT, team TEXT, cursor TEXT,
    last_crawl_at TEXT, last_success_at TEXT, last_error TEXT, last_report TEXT);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, team TEXT, kind TEXT, title TEXT, url TEXT, path TEXT,
    text TEXT, content_hash TEXT, updated_at TEXT, metadata TEXT, indexed_at TEXT);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, seq INTEGER, text TEXT, vector BLOB);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, body, tokenize = 'porter unicode61');
CREATE TABLE IF NOT EXISTS identities (
    id TEXT PRIMARY KEY, kind TEXT, name TEXT, email TEXT, username TEXT,
    slack_id TEXT, team TEXT, tz TEXT, person_id TEXT);
CREATE INDEX IF NOT EXISTS identities_person ON identities(person_id);
CREATE TABLE IF NOT EXISTS contributions (
    doc_id TEXT NOT NULL, identity_id TEXT NOT NULL, role TEXT NOT NULL, count INTEGER, lines INTEGER,
    first_at TEXT, last_at TEXT, PRIMARY KEY (doc_id, identity_id, role));
CREATE INDEX IF NOT EXISTS contributions_identity ON contributions(identity_id);
CREATE TABLE IF NOT EXISTS people (
    id TEXT PRIMARY KEY, name TEXT, team TEXT, slack_id TEXT, tz TEXT, emails TEXT, aliases TEXT,
    in_directory INTEGER);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, doc_id TEXT, query TEXT, value INTEGER, user TEXT, at TEXT);
CREATE INDEX IF NOT EXISTS feedback_doc ON feedback(doc_id);
CREATE TABLE IF NOT EXISTS seen_events (key TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS seen_events_at ON seen_events(at);
CREATE TABLE IF NOT EXISTS syncs (
    id TEXT PRIMARY KEY, cycle TEXT, origin TEXT, topic TEXT, data TEXT, slots TEXT, status TEXT,
    start_at TEXT, end_at TEXT, channel TEXT, ts TEXT, posted_at TEXT, invited_at TEXT, reminded_at TEXT,
    checkin_at TEXT, caldav_href TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS sync_members (
    sync_id TEXT NOT NULL, person_id TEXT NOT NULL, slack_id TEXT, email TEXT, PRIMARY KEY (sync_id, person_id));
CREATE TABLE IF NOT EXISTS sync_rsvps (
    sync_id TEXT NOT NULL, slack_id TEXT NOT NULL, answer TEXT, at TEXT, PRIMARY KEY (sync_id, slack_id));
CREATE TABLE IF NOT EXISTS sync_checkins (
    sync_id TEXT NOT NULL, slack_id TEXT NOT NULL, met INTEGER, outcome TEXT, at TEXT, PRIMARY KEY (sync_id, slack_id));
CREATE TABLE IF NOT EXISTS sync_optouts (key TEXT PRIMARY KEY, at TEXT);
CREATE TABLE IF NOT EXISTS query_log (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, surface TEXT, question TEXT, qkey TEXT, kind TEXT,
    asker TEXT, asker_team TEXT, strength REAL, results INTEGER);
CREATE INDEX IF NOT EXISTS query_log_at ON query_log(at);
CREATE TABLE IF NOT EXISTS digest_runs (
    channel TEXT NOT NULL, week TEXT NOT NULL, view TEXT, channel_id TEXT, ts TEXT, content_hash TEXT,
    owner TEXT, claimed_at TEXT, posted_at TEXT, updated_at TEXT, PRIMARY KEY (channel, week));
CREATE TABLE IF NOT EXISTS digest_overlaps (
    view TEXT NOT NULL, pair TEXT NOT NULL, week TEXT NOT NULL, PRIMARY KEY (view, pair));
CREATE TABLE IF NOT EXISTS doc_first_seen (doc_id TEXT PRIMARY KEY, first_seen TEXT);
CREATE TABLE projects (
    id TEXT PRIMARY KEY, name TEXT, kind TEXT, source TEXT, sources TEXT, team TEXT, summary TEXT, topics TEXT,
    topic_sources TEXT, owners TEXT, owner_people TEXT, contributors TEXT, links TEXT, first_activity TEXT,
    last_activity TEXT, status TEXT, documents INTEGER, main_doc TEXT, provenance TEXT, vector BLOB,
    built_at TEXT);
CREATE TABLE project_documents (doc_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, unit_id TEXT);
CREATE TABLE project_content (
    project_id TEXT PRIMARY KEY, fingerprint TEXT, direction BLOB, passages BLOB, passage_refs TEXT,
    candidates TEXT, key_phrases TEXT, built_at TEXT);
CREATE TABLE phrase_vectors (phrase TEXT PRIMARY KEY, vector BLOB);
CREATE TABLE IF NOT EXISTS project_affinity (
    project_id TEXT NOT NULL, other_id TEXT NOT NULL, maxes BLOB, PRIMARY KEY (project_id, other_id));
CREATE TABLE IF NOT EXISTS project_pairs (
    a TEXT NOT NULL, b TEXT NOT NULL, lead REAL, score REAL, built_at TEXT, PRIMARY KEY (a, b));
CREATE TABLE IF NOT EXISTS person_profiles (
    person_id TEXT PRIMARY KEY, vector BLOB, topics TEXT, documents INTEGER, built_at TEXT);
"""  # the tables of commit 2f4518f: index/store.py's SCHEMA, then catalog, projectcontent, pairs and profiles


@pytest.mark.parametrize("declared", ["", "TEXT", "text", "INTEGER", "BIGINT", "VARCHAR(20)", "CLOB", "BLOB", "REAL",
                                      "FLOAT", "DOUBLE PRECISION", "NUMERIC", "DECIMAL(10,2)", "BOOLEAN", "DATE"])
def test_the_schemas_affinity_rules_agree_with_sqlite_utils(declared):
    """schema.py judges column types without importing sqlite-utils; they must judge alike."""
    from sqlite_utils.db import COLUMN_TYPE_MAPPING
    from sqlite_utils.utils import column_affinity as theirs

    from index.storage.sqlite import schema

    assert schema.column_affinity(declared) == theirs(declared)
    assert all(schema.SQL_TYPE[t] == COLUMN_TYPE_MAPPING[t] for t in schema.SQL_TYPE)
