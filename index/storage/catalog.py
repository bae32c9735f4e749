"""The catalog's rows: projects and which documents each holds (`projects`, `project_documents`),
and the documents, sources and contributions a catalog build and its readers look at.

Plain rows in, plain rows out; index/catalog/build.py makes Projects of them. Writes run inside the
caller's transaction. The tables themselves are created by the catalog's schema functions.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence, TypedDict, cast

from index.storage.scope import source_clause
from index.storage.clauses import BATCH, in_batches, marks
from index.storage.documents import DocumentRow
from index.storage.sqlite.store import Store, not_unit


class CatalogDocumentRow(DocumentRow):
    """A document as grouping reads it; `metadata` is the stored JSON text."""
    content_hash: str | None


class ProjectRow(TypedDict):
    """A `projects` row; the list and mapping fields are JSON text."""
    id: str
    name: str | None
    kind: str | None
    source: str | None
    sources: str | None
    team: str | None
    summary: str | None
    topics: str | None
    topic_sources: str | None
    owners: str | None
    owner_people: str | None
    contributors: str | None
    links: str | None
    first_activity: str | None
    last_activity: str | None
    status: str | None
    documents: int | None
    main_doc: str | None
    provenance: str | None
    vector: bytes | None
    built_at: str | None


class MemberRow(TypedDict):
    """One person's contributions to one unit of a project, README rows apart (`readme` 0/1 or a bool)."""
    unit: str
    person_id: str
    n: int | None
    first_at: str | None
    last_at: str | None
    readme: int | bool | None


class MainPageRow(TypedDict):
    """A project's name and kind with its main document's fields (None when it has none)."""
    name: str | None
    kind: str | None
    id: str | None
    title: str | None
    url: str | None
    source: str | None


class PageRow(TypedDict):
    id: str
    title: str | None
    url: str | None
    source: str
    kind: str | None


class ProjectDocumentRow(TypedDict):
    id: str
    title: str | None
    url: str | None
    path: str | None
    kind: str | None
    updated_at: str | None


class NameTeam(TypedDict):
    name: str | None
    team: str | None


# -- what a build reads ---------------------------------------------------------------------------
def source_kinds(store: Store) -> dict[str, str | None]:
    """source name -> its connector kind, as the crawl recorded it."""
    return {r["name"]: r["kind"] for r in store.query("SELECT name, kind FROM sources")}


def catalog_documents(store: Store) -> list[CatalogDocumentRow]:
    """Every document but history units (commits, folders: evidence for `who` only), in stored order."""
    return cast(list[CatalogDocumentRow], store.query(
        "SELECT id, source, team, kind, title, url, path, updated_at, metadata, content_hash FROM documents "
        f"WHERE {not_unit()}"))


def document_text(store: Store, doc_id: str) -> str | None:
    """A document's text; '' when there is no such document."""
    rows = store.query("SELECT text FROM documents WHERE id = ?", [doc_id])
    return rows[0]["text"] if rows else ""


def documents_mentioning(store: Store, needle: str) -> list[str]:
    """Ids of the documents whose lower-cased text contains `needle` (give it lower-cased)."""
    return [r["id"] for r in store.query("SELECT id FROM documents WHERE instr(lower(text), ?) > 0", [needle])]


def person_totals(store: Store, doc_ids: Sequence[str]) -> dict[str, int]:
    """person id -> their contribution count summed over the documents (resolved identities only)."""
    totals: dict[str, int] = {}
    for i in range(0, len(doc_ids), BATCH):
        part = list(doc_ids[i:i + BATCH])
        for r in store.query(f"""SELECT i.person_id, sum(c.count) AS n FROM contributions c
                                 JOIN identities i ON i.id = c.identity_id
                                 WHERE c.doc_id IN ({marks(len(part))}) AND i.person_id IS NOT NULL
                                 GROUP BY i.person_id""", part):
            totals[r["person_id"]] = totals.get(r["person_id"], 0) + (r["n"] or 0)
    return totals


def contribution_dates(store: Store, doc_ids: Sequence[str]) -> list[str]:
    """The earliest first, latest last and earliest last contribution times of the documents,
    per batch of ids, the ones that exist."""
    dates: list[str] = []
    for i in range(0, len(doc_ids), BATCH):
        part = list(doc_ids[i:i + BATCH])
        row = store.conn.execute(f"SELECT min(first_at), max(last_at), min(last_at) FROM contributions "
                                 f"WHERE doc_id IN ({marks(len(part))})", part).fetchone()
        dates += [x for x in row if x]
    return dates


# -- writing the catalog --------------------------------------------------------------------------
def replace_projects(store: Store, projects: Iterable[Mapping[str, object]],
                     placements: Iterable[tuple[str, str, str]]) -> None:
    """Replace every project (each a column -> value mapping of `projects`) and every placement
    (doc id, project id, unit id); a document placed twice keeps its last placement."""
    store.conn.execute("DELETE FROM projects")
    store.conn.execute("DELETE FROM project_documents")
    for row in projects:
        cols = list(row)
        store.conn.execute(f"INSERT INTO projects ({', '.join(cols)}) VALUES ({marks(len(cols))})",
                           [row[c] for c in cols])
    store.conn.executemany("INSERT INTO project_documents (doc_id, project_id, unit_id) VALUES (?, ?, ?) "
                           "ON CONFLICT (doc_id) DO UPDATE SET project_id = excluded.project_id, "
                           "unit_id = excluded.unit_id", list(placements))


# -- reading projects -----------------------------------------------------------------------------
def project_rows(store: Store, sources: Iterable[str] | None = None) -> list[ProjectRow]:
    """Every project by team then name; only those of `sources` unless None."""
    where, params = source_clause(None if sources is None else list(sources), "source")
    return cast(list[ProjectRow], store.query(f"SELECT * FROM projects WHERE 1 = 1{where} ORDER BY team, name", params))


def project_row(store: Store, name: str, sources: Iterable[str] | None = None) -> ProjectRow | None:
    """The project with this id, else the first by id with this name (case-insensitive); only of `sources` unless None."""
    where, params = source_clause(None if sources is None else list(sources), "source")
    rows = store.query(f"SELECT * FROM projects WHERE id = ?{where}", [name, *params]) or \
        store.query(f"SELECT * FROM projects WHERE lower(name) = lower(?){where} ORDER BY id", [name.strip(), *params])
    return cast(ProjectRow, rows[0]) if rows else None


def project_names(store: Store) -> list[NameTeam]:
    """Every project's name and team."""
    return cast(list[NameTeam], store.query("SELECT name, team FROM projects"))


def placed_projects(store: Store, doc_ids: Sequence[str]) -> dict[str, str]:
    """doc id -> project id, for those of the documents the catalog has placed."""
    out: dict[str, str] = {}
    for part, qs in in_batches(doc_ids):
        out.update((r[0], r[1]) for r in store.conn.execute(
            f"SELECT doc_id, project_id FROM project_documents WHERE doc_id IN ({qs})", part))
    return out


def placements(store: Store) -> dict[str, str]:
    """doc id -> project id, for every placed document."""
    return {r[0]: r[1] for r in store.conn.execute("SELECT doc_id, project_id FROM project_documents")}


def document_sources(store: Store, doc_ids: Sequence[str]) -> dict[str, str]:
    """doc id -> its source, for those of the documents that exist."""
    out: dict[str, str] = {}
    for part, qs in in_batches(doc_ids):
        out.update((r[0], r[1]) for r in store.conn.execute(f"SELECT id, source FROM documents WHERE id IN ({qs})", part))
    return out


def main_projects(store: Store, sources: Sequence[str]) -> dict[str, str]:
    """source -> the project holding most of its placed documents (on a tie the last project id);
    sources with no placed document are left out."""
    owner: dict[str, str] = {}
    for src, project_id, _ in store.conn.execute(
            f"""SELECT d.source, pd.project_id, count(*) AS n FROM project_documents pd
                JOIN documents d ON d.id = pd.doc_id WHERE d.source IN ({marks(len(sources))})
                GROUP BY d.source, pd.project_id ORDER BY n, pd.project_id""", list(sources)):
        owner[src] = project_id  # ascending counts: the largest share is written last
    return owner


def member_contributions(store: Store, project_id: str) -> list[MemberRow]:
    """Per unit and person, their contributions to a project, README rows apart: the project's
    placed documents, or (not placed yet) the documents of the source named `project_id`."""
    placed = store.conn.execute("SELECT 1 FROM project_documents WHERE project_id = ? LIMIT 1", [project_id]).fetchone()
    join, where = ("JOIN project_documents pd ON pd.doc_id = d.id", "pd.project_id = ?") if placed else ("", "d.source = ?")
    unit = "pd.unit_id" if placed else "d.source"
    return cast(list[MemberRow], store.query(
        f"""SELECT {unit} AS unit, i.person_id, sum(c.count) AS n, min(c.first_at) AS first_at,
            max(c.last_at) AS last_at, d.kind = 'readme' AS readme
            FROM documents d {join} JOIN contributions c ON c.doc_id = d.id
            JOIN identities i ON i.id = c.identity_id
            WHERE {where} AND i.person_id IS NOT NULL GROUP BY unit, i.person_id, readme""", [project_id]))


def main_page(store: Store, project_id: str) -> MainPageRow | None:
    """The project's name and kind and its main document's id, title, url and source; None when no such project."""
    rows = store.query("""SELECT p.name, p.kind, d.id, d.title, d.url, d.source FROM projects p
                          LEFT JOIN documents d ON d.id = p.main_doc WHERE p.id = ?""", [project_id])
    return cast(MainPageRow, rows[0]) if rows else None


def first_page(store: Store, source: str) -> PageRow | None:
    """A source's README, else its page of the shortest path; None when it has no documents."""
    rows = store.query("""SELECT id, title, url, source, kind FROM documents WHERE source = ?
                          ORDER BY kind != 'readme', length(path), path LIMIT 1""", [source])
    return cast(PageRow, rows[0]) if rows else None


def project_documents(store: Store, project_id: str, limit: int) -> list[ProjectDocumentRow]:
    """A project's placed documents, most recently updated first (undated last), then by title."""
    return cast(list[ProjectDocumentRow], store.query(
        """SELECT d.id, d.title, d.url, d.path, d.kind, d.updated_at FROM project_documents pd
           JOIN documents d ON d.id = pd.doc_id WHERE pd.project_id = ?
           ORDER BY d.updated_at IS NULL, d.updated_at DESC, d.title LIMIT ?""", [project_id, limit]))
