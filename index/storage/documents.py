"""What the index reads of stored documents and chunks beyond the store's own methods: the
documents of a source a viewer may see, file paths by name (for a module's tests and for parts
named by initials), chunk vectors of documents, and the full rows `refresh_stale` embeds again.

Documents are written by the store (`put_document`, `delete_document`, index/storage/sqlite/store.py);
these functions return plain rows and sets. Writes run inside the caller's transaction.
"""
from __future__ import annotations

from typing import Collection, Iterable, TypedDict, cast

from index.storage.clauses import BATCH, in_batches
from index.storage.scope import source_clause
from index.storage.sqlite.store import Store, not_unit

PATHS_LIMIT = 50  # files looked at per name
PARTS_LIMIT = 200  # files and folders looked at per question


class PathRow(TypedDict):
    id: str
    path: str | None


class PartRow(TypedDict):
    id: str
    source: str
    path: str | None


class DocumentFields(TypedDict):
    id: str
    source: str
    team: str | None
    kind: str | None
    title: str | None
    url: str | None
    path: str | None


class DocumentRow(DocumentFields):
    """A document as search shows it (`Store.documents`); `metadata` is the stored JSON text."""
    updated_at: str | None
    metadata: str | None


class StoredDocument(DocumentFields):
    text: str | None
    content_hash: str | None


# -- which documents -------------------------------------------------------------------------------
def document_sources(store: Store) -> set[str]:
    """The sources the store holds documents of."""
    return {r["source"] for r in store.query("SELECT DISTINCT source FROM documents")}


def ids_in_sources(store: Store, doc_ids: Iterable[str], sources: Collection[str]) -> set[str]:
    """Those of `doc_ids` that are documents of `sources`."""
    ids = list(dict.fromkeys(doc_ids))
    where, params = source_clause(sources, "source")
    out: set[str] = set()
    for part, qs in in_batches(ids):
        out |= {r["id"] for r in store.query(f"SELECT id FROM documents WHERE id IN ({qs}){where}", [*part, *params])}
    return out


# -- files by name ---------------------------------------------------------------------------------
def code_paths_with_stem(store: Store, source: str, stem: str) -> list[PathRow]:
    """Up to PATHS_LIMIT files of a source whose path holds `stem` (as LIKE matches: any case)."""
    return cast(list[PathRow], store.query(
        f"""SELECT id, path FROM documents WHERE source = ? AND kind = 'code_path'
            AND (path LIKE ? OR path LIKE ?) LIMIT {PATHS_LIMIT}""", [source, f"%{stem}%", f"%{stem}.%"]))


def code_paths_containing(store: Store, source: str, word: str) -> list[PathRow]:
    """Up to PATHS_LIMIT files of a source whose lower-cased path holds `word`."""
    return cast(list[PathRow], store.query(
        f"""SELECT id, path FROM documents WHERE source = ? AND kind = 'code_path' AND lower(path) LIKE ?
            LIMIT {PATHS_LIMIT}""", [source, f"%{word}%"]))


def parts_with_paths_like(store: Store, patterns: list[str]) -> list[PartRow]:
    """Up to PARTS_LIMIT folders and files whose lower-cased path matches any of the LIKE `patterns` (one scan)."""
    if not patterns:
        return []
    return cast(list[PartRow], store.query(
        f"""SELECT id, source, path FROM documents WHERE kind IN ('folder', 'code_path')
            AND ({' OR '.join(['lower(path) LIKE ?'] * len(patterns))}) LIMIT {PARTS_LIMIT}""", patterns))


def source_mentions(store: Store, source: str, pattern: str) -> bool:
    """Whether a document of the source has a lower-cased title, path or text matching the LIKE `pattern`."""
    return bool(store.query("""SELECT 1 FROM documents WHERE source = ? AND (lower(title) LIKE ? OR lower(path) LIKE ?
                               OR lower(text) LIKE ?) LIMIT 1""", [source, pattern, pattern, pattern]))


def documents_named(store: Store, name: str, limit: int, source: str | None = None) -> list[DocumentRow]:
    """Up to `limit` documents, of `source` or of any (history units aside), whose path's last part is
    `name` once case, spaces, hyphens and underscores are gone, with or without an extension."""
    bare = "replace(replace(replace(lower(path), '_', ''), '-', ''), ' ', '')"
    patterns = [name, f"{name}.%", f"%/{name}", f"%/{name}.%"]
    where, params = source_clause(None if source is None else [source], "source")
    return cast(list[DocumentRow], store.query(
        f"""SELECT id, source, team, kind, title, url, path, updated_at, metadata FROM documents
            WHERE {not_unit()} AND ({' OR '.join([f'{bare} LIKE ?'] * len(patterns))}){where} LIMIT ?""",
        [*patterns, *params, limit]))


class ShortDocumentRow(DocumentRow):
    text: str | None


def short_documents(store: Store, sources: Collection[str], max_chars: int, limit: int) -> list[ShortDocumentRow]:
    """Up to `limit` documents of `sources` (history units and files known by name aside) whose text
    is at most `max_chars` long."""
    if not sources:
        return []
    where, params = source_clause(sources, "source")
    return cast(list[ShortDocumentRow], store.query(
        f"""SELECT id, source, team, kind, title, url, path, updated_at, metadata, text FROM documents
            WHERE {not_unit()} AND kind != 'code_path' AND length(text) <= ?{where} LIMIT ?""",
        [max_chars, *params, limit]))


def first_chunks(store: Store, doc_ids: Iterable[str]) -> dict[str, int]:
    """Each document's first chunk id (documents without chunks left out)."""
    out: dict[str, int] = {}
    for part, qs in in_batches(list(dict.fromkeys(doc_ids))):
        for r in store.query(f"SELECT doc_id, id FROM chunks WHERE doc_id IN ({qs}) AND seq = 0", part):
            out[r["doc_id"]] = r["id"]
    return out


# -- chunks ----------------------------------------------------------------------------------------
def chunk_vectors_of(store: Store, doc_ids: list[str]) -> list[bytes]:
    """The stored vectors (float32 bytes) of every chunk of the documents, those without one left out."""
    if not doc_ids:
        return []
    marks = ",".join("?" * len(doc_ids))
    return [r["vector"] for r in store.query(f"SELECT vector FROM chunks WHERE doc_id IN ({marks})", doc_ids)
            if r["vector"]]


# -- re-embedding ----------------------------------------------------------------------------------
def stored_documents(store: Store) -> list[StoredDocument]:
    """Every document with its text and content hash, to chunk and embed again."""
    return cast(list[StoredDocument], store.query(
        "SELECT id, source, team, kind, title, url, path, text, content_hash FROM documents"))


def set_content_hash(store: Store, doc_id: str, chash: str) -> None:
    store.conn.execute("UPDATE documents SET content_hash = ? WHERE id = ?", (chash, doc_id))


# -- traits (index/ingest/traits.py) ---------------------------------------------------------------
class TraitRow(TypedDict):
    id: str
    fingerprint: str | None
    genre: str | None
    lang: str | None


class UntraitedRow(TypedDict):
    id: str
    kind: str | None
    title: str | None
    path: str | None
    text: str | None


def set_traits(store: Store, doc_id: str, fingerprint: str, genre: str, lang: str | None) -> None:
    store.conn.execute("UPDATE documents SET fingerprint = ?, genre = ?, lang = ? WHERE id = ?",
                       (fingerprint, genre, lang, doc_id))


def traits_of(store: Store, doc_ids: Iterable[str]) -> dict[str, TraitRow]:
    """The stored traits of the documents (a document crawled before traits existed has NULLs)."""
    ids = list(dict.fromkeys(doc_ids))
    out: dict[str, TraitRow] = {}
    for part, qs in in_batches(ids):
        for r in store.query(f"SELECT id, fingerprint, genre, lang FROM documents WHERE id IN ({qs})", part):
            out[r["id"]] = cast(TraitRow, r)
    return out


def without_traits(store: Store, limit: int = BATCH, languages: bool = False) -> list[UntraitedRow]:
    """Up to `limit` documents (history units aside) whose traits were never judged, or, with
    `languages`, whose language was never judged (crawled while no detector was installed)."""
    unjudged = "(fingerprint IS NULL OR lang IS NULL)" if languages else "fingerprint IS NULL"
    return cast(list[UntraitedRow], store.query(
        f"SELECT id, kind, title, path, text FROM documents WHERE {unjudged} AND {not_unit()} LIMIT {int(limit)}"))


class GenreRow(TypedDict):
    id: str
    title: str | None
    path: str | None
    text: str | None
    genre: str | None


def judged_after(store: Store, after: str, limit: int) -> list[GenreRow]:
    """Up to `limit` documents (history units aside) whose traits were judged, with ids after `after`,
    in id order: a pass over every document that holds a short read at a time."""
    return cast(list[GenreRow], store.query(
        f"""SELECT id, title, path, text, genre FROM documents WHERE id > ? AND fingerprint IS NOT NULL
            AND {not_unit()} ORDER BY id LIMIT {int(limit)}""", [after]))


def set_genre(store: Store, doc_id: str, genre: str) -> None:
    store.conn.execute("UPDATE documents SET genre = ? WHERE id = ?", (genre, doc_id))


def texts_of(store: Store, doc_ids: Iterable[str]) -> dict[str, str]:
    """The stored text of the documents."""
    ids = list(dict.fromkeys(doc_ids))
    out: dict[str, str] = {}
    for part, qs in in_batches(ids):
        for r in store.query(f"SELECT id, text FROM documents WHERE id IN ({qs})", part):
            out[r["id"]] = r["text"] or ""
    return out


def chunk_texts_of(store: Store, doc_ids: list[str]) -> list[str]:
    """The text of every chunk of the documents."""
    if not doc_ids:
        return []
    marks = ",".join("?" * len(doc_ids))
    return [r["text"] or "" for r in store.query(f"SELECT text FROM chunks WHERE doc_id IN ({marks})", doc_ids)]
