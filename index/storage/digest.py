"""What the weekly digest reads and remembers (index/digest/weekly.py computes its sections):
people as a digest names them, projects' and documents' activity dates, documents' first sighting
(`doc_first_seen`) and the overlaps each view has announced (`digest_overlaps`). The run records
that make delivery idempotent are index/storage/digest_runs.py.

Stored dates are UTC ISO text, so week bounds compare with them as strings. Writes run inside
the caller's transaction.
"""
from __future__ import annotations

from typing import Iterable, TypedDict, cast

from index.storage.sqlite.store import Store

BATCH = 500  # ids per IN (...) list


class PersonBrief(TypedDict):
    id: str
    name: str | None
    team: str | None
    slack_id: str | None


class ProjectContribution(TypedDict):
    project_id: str
    first_at: str | None
    last_at: str | None
    person_id: str | None


class ProjectDocumentDate(TypedDict):
    project_id: str
    updated_at: str | None


class DigestDocument(TypedDict):
    id: str
    title: str | None
    url: str | None
    team: str | None
    source: str
    kind: str | None
    updated_at: str | None
    size: int | None  # characters of text
    first_seen: str | None


class DigestContribution(TypedDict):
    doc_id: str
    role: str
    count: int | None
    lines: int | None
    first_at: str | None
    last_at: str | None
    person_id: str | None


class FirstContribution(TypedDict):
    project_id: str
    person_id: str
    first_at: str | None
    last_at: str | None


# -- people and projects ---------------------------------------------------------------------------
def people_brief(store: Store) -> dict[str, PersonBrief]:
    """person id -> what a digest shows of them."""
    return {r["id"]: cast(PersonBrief, r) for r in store.query("SELECT id, name, team, slack_id FROM people")}


def project_contributions(store: Store) -> list[ProjectContribution]:
    """Every contribution to a project's documents, with its dates and person (None: no person)."""
    return cast(list[ProjectContribution], store.query(
        """SELECT pd.project_id, c.first_at, c.last_at, i.person_id FROM project_documents pd
           JOIN contributions c ON c.doc_id = pd.doc_id JOIN identities i ON i.id = c.identity_id"""))


def project_document_dates(store: Store) -> list[ProjectDocumentDate]:
    """Every project document's last update."""
    return cast(list[ProjectDocumentDate], store.query(
        "SELECT pd.project_id, d.updated_at FROM project_documents pd JOIN documents d ON d.id = pd.doc_id"))


def first_project_contributions(store: Store) -> list[FirstContribution]:
    """People's contributions (mentions aside) to projects' documents, with their dates."""
    return cast(list[FirstContribution], store.query(
        """SELECT pd.project_id, i.person_id, c.first_at, c.last_at FROM project_documents pd
           JOIN contributions c ON c.doc_id = pd.doc_id JOIN identities i ON i.id = c.identity_id
           WHERE i.person_id IS NOT NULL AND c.role != 'mentioned'"""))


# -- documents -------------------------------------------------------------------------------------
def note_first_seen(store: Store, now: str) -> None:
    """Record a first sighting for every document without one: its earliest known date, else `now`."""
    store.conn.execute(
        """INSERT INTO doc_first_seen (doc_id, first_seen)
           SELECT d.id, coalesce(min(c.first_at), min(c.last_at), d.updated_at, ?) FROM documents d
           LEFT JOIN contributions c ON c.doc_id = d.id GROUP BY d.id
           ON CONFLICT (doc_id) DO NOTHING""", (now,))


def touched_doc_ids(store: Store, start: str, end: str) -> list[str]:
    """Documents with a contribution, an update or a first sighting in [start, end)."""
    return [r["id"] for r in store.query(
        """SELECT doc_id AS id FROM contributions WHERE (first_at >= ? AND first_at < ?) OR (last_at >= ? AND last_at < ?)
           UNION SELECT id FROM documents WHERE updated_at >= ? AND updated_at < ?
           UNION SELECT doc_id FROM doc_first_seen WHERE first_seen >= ? AND first_seen < ?""", [start, end] * 4)]


def documents_seen(store: Store, doc_ids: list[str]) -> list[DigestDocument]:
    """The documents with their size and first sighting, batch by batch."""
    out: list[DigestDocument] = []
    for i in range(0, len(doc_ids), BATCH):
        part = doc_ids[i:i + BATCH]
        out += cast(list[DigestDocument], store.query(
            f"""SELECT d.id, d.title, d.url, d.team, d.source, d.kind, d.updated_at,
                       length(d.text) AS size, f.first_seen
                FROM documents d LEFT JOIN doc_first_seen f ON f.doc_id = d.id
                WHERE d.id IN ({','.join('?' * len(part))})""", part))
    return out


def contributions_to(store: Store, doc_ids: list[str]) -> list[DigestContribution]:
    """Every contribution to the documents with its person (None: no person), batch by batch."""
    out: list[DigestContribution] = []
    for i in range(0, len(doc_ids), BATCH):
        part = doc_ids[i:i + BATCH]
        out += cast(list[DigestContribution], store.query(
            f"""SELECT c.doc_id, c.role, c.count, c.lines, c.first_at, c.last_at, i.person_id
                FROM contributions c JOIN identities i ON i.id = c.identity_id
                WHERE c.doc_id IN ({','.join('?' * len(part))})""", part))
    return out


# -- overlaps announced ----------------------------------------------------------------------------
def announced_before(store: Store, view: str, week: str) -> set[str]:
    """Overlap pairs this view announced in weeks before `week`."""
    return {r["pair"] for r in store.query("SELECT pair FROM digest_overlaps WHERE view = ? AND week < ?", [view, week])}


def mark_announced(store: Store, view: str, week: str, pairs: Iterable[str]) -> None:
    """Remember that this view announced these pairs in `week`; a pair keeps its earliest week."""
    for pair in pairs:
        store.conn.execute(
            """INSERT INTO digest_overlaps (view, pair, week) VALUES (?, ?, ?)
               ON CONFLICT (view, pair) DO UPDATE SET
               week = CASE WHEN excluded.week < digest_overlaps.week THEN excluded.week ELSE digest_overlaps.week END""",
            (view, pair, week))
