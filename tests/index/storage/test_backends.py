"""The two index backends answer alike: the demo org crawled into SQLite + FAISS and into Postgres +
pgvector holds the same documents, chunks, people and projects, and search and who agree.

Full-text ranking differs in detail (Postgres' English stemmer is not FTS5's Porter stemmer), so
rankings are compared by their best answers and their overlap, not row for row.
"""
from __future__ import annotations

import re

import pytest

from support.fake_forge import open_guild
from index.storage.factory import is_postgres

QUESTIONS = ["drift monitoring", "feature store", "who knows ranking models", "alerting thresholds",
             "embedding similarity search", "training pipelines on kubernetes", "recommender"]


@pytest.fixture(scope="module")
def pair(demo_dir, pg_demo):
    """A fresh SQLite crawl of the demo org beside the Postgres one: the shared demo guild carries the
    votes and questions other tests leave, which rerank its answers (feedback), so it is not compared."""
    config = demo_dir / "guild-sqlite-fresh.toml"
    config.write_text(re.sub(r"(?m)^data_dir = .*$", 'data_dir = "build/.guildbot-fresh"', (demo_dir / "guild.toml").read_text(), count=1))
    sqlite = open_guild(config)
    report = sqlite.crawl()
    assert not report.failed, [s.error for s in report.failed]
    pg = open_guild(pg_demo)
    assert is_postgres(pg.store) and not is_postgres(sqlite.store)
    yield sqlite, pg
    pg.close()
    sqlite.close()


def _rows(guild, sql: str) -> list[tuple]:
    return sorted(tuple(r.values()) for r in guild.store.query(sql))


@pytest.mark.parametrize("sql", [
    "SELECT id, source, kind, title, content_hash FROM documents",
    "SELECT doc_id, seq, text FROM chunks",
    "SELECT doc_id, identity_id, role, count, lines, first_at, last_at FROM contributions",
    "SELECT id, name, team, emails FROM people",
    "SELECT id, name, team, kind FROM projects",
])
def test_the_same_crawl_stores_the_same_rows(pair, sql):
    sqlite, pg = pair
    assert _rows(pg, sql) == _rows(sqlite, sql) and _rows(sqlite, sql)


def test_the_vector_index_holds_every_chunk(pair):
    sqlite, pg = pair
    assert pg.vectors.size == pg.store.count("chunks") == sqlite.vectors.size


@pytest.mark.parametrize("question", QUESTIONS)
def test_search_agrees(pair, question):
    sqlite, pg = pair
    a = [h.doc_id for h in sqlite.search(question, limit=5)]
    b = [h.doc_id for h in pg.search(question, limit=5)]
    assert a and a[0] == b[0] and len(set(a) & set(b)) >= 3, (a, b)


@pytest.mark.parametrize("question", QUESTIONS)
def test_who_agrees(pair, question):
    sqlite, pg = pair
    a = [e.person_id for e in sqlite.experts(question, limit=5)]
    b = [e.person_id for e in pg.experts(question, limit=5)]
    assert a and a[0] == b[0] and len(set(a[:3]) & set(b[:3])) >= 2, (a, b)


def _public(x):
    """Comparable plain data from a facade answer (dataclasses, lists, dicts)."""
    import dataclasses
    if dataclasses.is_dataclass(x):
        return _public(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {k: _public(v) for k, v in x.items() if k not in ("score", "last_crawl_at", "last_success_at")}
    if isinstance(x, (list, tuple)):
        return [_public(v) for v in x]
    return round(x, 6) if isinstance(x, float) else x


FACADE = {  # the Guild calls that read the catalog, people, profiles, digest and syncs (no full-text ranking)
    "projects": lambda g: g.projects(),
    "project": lambda g: g.project("drift-watch"),
    "people": lambda g: g.people(),
    "profile": lambda g: g.person("mei.lin@acme.example"),
    "teams": lambda g: g.teams(),
    "ambiguous": lambda g: g.ambiguous(),
    "overlaps": lambda g: g.overlaps(),
    "project_documents": lambda g: g.project_documents("feed-ranker"),
    "sources": lambda g: g.sources(),
    "viewer": lambda g: g.viewer_for(email="mei.lin@acme.example"),
}


@pytest.mark.parametrize("call", sorted(FACADE))
def test_the_catalog_people_and_profiles_agree(pair, call):
    sqlite, pg = pair
    a, b = _public(FACADE[call](sqlite)), _public(FACADE[call](pg))
    assert a and a == b
