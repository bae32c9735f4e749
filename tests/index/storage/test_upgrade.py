"""A data_dir made by the previous layout upgrades in place, without a re-crawl.

Commit 2f4518f is the last one before the package layout of issue 23: flat `index/` modules, SQLite
tables from a SQL text whose hash sat in `PRAGMA user_version`, and the catalog's tables created by
the catalog modules on first use. Its code is taken from the repository (`git archive`), a small
scripted org is crawled with it in a process of its own, and the data_dir is then opened with this
code: it answers `search` and `who`, and a second crawl finds nothing to embed. The Postgres schema
of that commit (SQLite's SCHEMA translated, migrations 1-3, catalog tables made on first use) gains
the numbered files it lacks the same way.
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from conftest import write_config
from guildbot.cli import main as cli
from guildbot.guild import Guild
from index.storage.sqlite import schema

ROOT = Path(__file__).resolve().parents[3]
PREVIOUS = "2f4518f"  # the last commit of the flat layout


@pytest.fixture(scope="module")
def old_code(tmp_path_factory) -> Path:
    """The previous layout's code, extracted from the repository's history."""
    out = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS], capture_output=True)
    if out.returncode:
        pytest.skip(f"the repository's history is not here ({out.stderr.decode().strip()})")
    root = tmp_path_factory.mktemp("previous-layout")
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        tar.extractall(root, filter="data")
    assert (root / "index" / "store.py").exists() and not (root / "index" / "storage").exists()
    return root


def run_old(old_code: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """A command run with the previous layout's code only (not this checkout, not the venv's editable install)."""
    env = {**os.environ, "PYTHONPATH": str(old_code), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture
def old_data_dir(tmp_path, make_repo, old_code):
    """A small org crawled by the previous layout's `guildbot crawl`; its guild.toml."""
    drift = make_repo("drift")
    drift.commit("Ada Lovelace", "ada@northwind.test",
                 {"README.md": "# Drift\n\nDrift monitoring with the population stability index.\n",
                  "docs/alerts.md": "# Alerts\n\nPaging thresholds for the churn model.\n",
                  "drift/psi.py": "def population_stability_index(expected, actual):\n    return 0.0\n"})
    feast = make_repo("featurestore")
    feast.commit("Grace Hopper", "grace@northwind.test",
                 {"README.md": "# Feature store\n\nBackfilling the feature store nightly from the warehouse.\n",
                  "store/backfill.py": "def backfill(day):\n    pass\n"})
    config = write_config(tmp_path, [
        {"kind": "git", "name": "drift", "team": "ML", "url": str(drift.path)},
        {"kind": "git", "name": "featurestore", "team": "Data", "url": str(feast.path)},
    ], teams=["ML", "Data"])
    out = run_old(old_code, tmp_path, "-m", "guildbot", "--config", str(config), "crawl", "--quiet")
    assert out.returncode == 0, out.stderr[-3000:]
    db = sqlite3.connect(str(tmp_path / "data" / "guild.db"))
    assert db.execute("PRAGMA user_version").fetchone()[0] != 0  # the previous scheme's SCHEMA hash
    assert db.execute("SELECT count(*) FROM projects").fetchone()[0] == 2  # catalog tables made on first use
    db.close()
    return config


def _chunks(config: Path) -> list[tuple]:
    db = sqlite3.connect(str(config.parent / "data" / "guild.db"))
    try:
        return db.execute("SELECT id, doc_id, seq, vector FROM chunks ORDER BY id").fetchall()
    finally:
        db.close()


def test_a_data_dir_of_the_previous_layout_answers_and_recrawls_incrementally(old_data_dir, capsys, monkeypatch):
    config = old_data_dir
    chunks = _chunks(config)
    assert chunks
    # the layout alone is upgraded here: a release that also changes what is embedded (INDEX_VERSION) or what
    # a git source reads (STATE_VERSION) re-embeds or re-reads once, as tests/connectors/test_git.py shows
    import connectors.git
    import index.storage.sqlite.store as store_module
    db = sqlite3.connect(str(config.parent / "data" / "guild.db"))
    index_version = db.execute("SELECT value FROM meta WHERE key = 'index_version'").fetchone()[0]
    state_version = json.loads(db.execute("SELECT cursor FROM sources WHERE name = 'drift'").fetchone()[0])["v"]
    db.close()
    monkeypatch.setattr(store_module, "INDEX_VERSION", int(index_version))
    monkeypatch.setattr(connectors.git, "STATE_VERSION", state_version)

    assert cli.main(["--config", str(config), "search", "population stability index", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits and hits[0]["source"] == "drift"
    assert cli.main(["--config", str(config), "who", "backfilling the feature store", "--json"]) == 0
    experts = json.loads(capsys.readouterr().out)
    assert experts and experts[0]["name"] == "Grace Hopper"

    guild = Guild.from_config(config)
    try:
        assert schema.pending(guild.store.conn) == []  # upgraded at the first open, nothing left to do
        assert guild.store.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'project_documents_project'").fetchone()  # the one new index
        assert len(guild.projects()) == 2
        report = guild.crawl()
        assert not report.failed, [s.error for s in report.failed]
        assert report.refreshed == 0  # no stored document embedded again (same index version and model)
        assert report.total("chunks_embedded") == 0 and report.total("added") == 0 and report.total("changed") == 0
        assert [s.name for s in report.sources] == ["drift", "featurestore"] and len(guild.projects()) == 2
        assert guild.search("population stability index", limit=3)[0].source == "drift"
    finally:
        guild.close()
    assert _chunks(config) == chunks  # the same rows and vectors: nothing was re-embedded or rewritten


def test_a_postgres_database_of_the_previous_layout_gains_the_migrations_it_lacks(old_code, pg_url, tmp_path):
    script = textwrap.dedent(f"""
        from index.pg_store import PgStore
        from index import catalog, pairs, profiles
        store = PgStore({pg_url!r})
        with store.transaction():
            catalog.ensure_schema(store)  # the catalog's tables, made on first use then
            pairs.ensure_schema(store)
            profiles.ensure_schema(store)
            store.conn.execute("INSERT INTO documents (id, source) VALUES ('d1', 's')")
            store.conn.execute("INSERT INTO project_documents (doc_id, project_id) VALUES ('d1', 'p1')")
        print(sorted(r['version'] for r in store.query('SELECT version FROM schema_migrations')))
    """)
    out = run_old(old_code, tmp_path, "-c", script)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "[1, 2, 3]"

    from index.storage.postgres.store import PgStore, migrations
    store = PgStore(pg_url)
    try:
        assert [r["version"] for r in store.query("SELECT version FROM schema_migrations ORDER BY version")] == \
            [n for n, _, _ in migrations()]
        assert store.query("SELECT doc_id, project_id FROM project_documents") == [{"doc_id": "d1", "project_id": "p1"}]
        assert store.query("SELECT indexname FROM pg_indexes WHERE indexname = 'project_documents_project'")
        for t in schema.TABLES:
            assert store.columns(t.name)[:len(t.columns)] == list(t.columns), t.name
    finally:
        store.close()
