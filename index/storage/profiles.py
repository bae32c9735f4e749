"""Person profile rows (`person_profiles`: a work direction and topics per person) and the
contribution reads a profile is built and shown from.

index/expertise/profiles.py computes and presents them; here they are blobs, JSON text and counts.
Writes run inside the caller's transaction.
"""
from __future__ import annotations

from typing import Iterable, Sequence, TypedDict, cast

from index.storage.scope import source_clause
from index.storage.sqlite.store import Store, not_unit


class ProfileRow(TypedDict):
    """A `person_profiles` row: the work direction as a float32 blob, the topics as JSON text."""
    person_id: str
    vector: bytes | None
    topics: str | None
    documents: int | None
    built_at: str | None


class TopicsRow(TypedDict):
    topics: str | None


class DocPersonCount(TypedDict):
    """A document's contributions by one person (`person_id` None: identities not resolved to anyone)."""
    doc_id: str
    person_id: str | None
    n: int | None


class PersonProjectRow(TypedDict):
    name: str | None
    team: str | None
    id: str
    n: int | None


class RecentDocumentRow(TypedDict):
    title: str | None
    url: str | None
    project: str | None
    role: str
    count: int | None
    last_at: str | None


def doc_person_counts(store: Store) -> list[DocPersonCount]:
    """Per document (history units left out) and person, their contribution count."""
    return cast(list[DocPersonCount], store.query(
        f"""SELECT c.doc_id, i.person_id, sum(c.count) AS n FROM contributions c
            JOIN identities i ON i.id = c.identity_id JOIN documents d ON d.id = c.doc_id
            WHERE {not_unit("d.kind")} GROUP BY c.doc_id, i.person_id"""))


def replace_profiles(store: Store, rows: Sequence[ProfileRow]) -> None:
    """Replace every profile."""
    store.conn.execute("DELETE FROM person_profiles")
    store.conn.executemany("INSERT INTO person_profiles (person_id, vector, topics, documents, built_at) VALUES (?,?,?,?,?)",
                           [(r["person_id"], r["vector"], r["topics"], r["documents"], r["built_at"]) for r in rows])


def profile_topics(store: Store, person_id: str) -> TopicsRow | None:
    """A person's stored topics; None when they have no profile."""
    rows = store.query("SELECT topics FROM person_profiles WHERE person_id = ?", [person_id])
    return cast(TopicsRow, rows[0]) if rows else None


def profile_rows(store: Store) -> list[ProfileRow]:
    """Every stored profile."""
    return cast(list[ProfileRow], store.query("SELECT * FROM person_profiles"))


def person_projects(store: Store, person_id: str, sources: Iterable[str] | None = None) -> list[PersonProjectRow]:
    """The catalog projects a person contributed to, with their contribution count, most first;
    counting only documents of `sources` unless None."""
    where, params = source_clause(None if sources is None else list(sources), "d.source")
    return cast(list[PersonProjectRow], store.query(
        f"""SELECT pr.name, pr.team, pr.id, sum(c.count) AS n FROM contributions c
            JOIN identities i ON i.id = c.identity_id
            JOIN project_documents pd ON pd.doc_id = c.doc_id
            JOIN projects pr ON pr.id = pd.project_id JOIN documents d ON d.id = c.doc_id
            WHERE i.person_id = ?{where} GROUP BY pr.id, pr.name, pr.team ORDER BY n DESC, pr.name""",
        [person_id, *params]))


def recent_documents(store: Store, person_id: str, limit: int, sources: Iterable[str] | None = None) -> list[RecentDocumentRow]:
    """A person's most recently touched documents (history units left out; only of `sources` unless None):
    per document the totals, and project and role from its latest contribution."""
    where, params = source_clause(None if sources is None else list(sources), "d.source")
    # a window, not SQLite's bare columns beside max(), so Postgres answers the same
    return cast(list[RecentDocumentRow], store.query(
        f"""SELECT title, url, project, role, count, last_at FROM (
               SELECT d.title, d.url, pr.name AS project, c.role, sum(c.count) OVER per_doc AS count,
                      max(c.last_at) OVER per_doc AS last_at,
                      row_number() OVER (PARTITION BY d.id ORDER BY c.last_at DESC) AS latest
               FROM contributions c JOIN identities i ON i.id = c.identity_id JOIN documents d ON d.id = c.doc_id
               LEFT JOIN project_documents pd ON pd.doc_id = d.id LEFT JOIN projects pr ON pr.id = pd.project_id
               WHERE i.person_id = ? AND c.last_at IS NOT NULL AND {not_unit("d.kind")}{where}
               WINDOW per_doc AS (PARTITION BY d.id)) AS recent
           WHERE latest = 1 ORDER BY last_at DESC, title LIMIT ?""", [person_id, *params, limit]))
