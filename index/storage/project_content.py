"""Characteristic content rows: each project's direction, passages and phrase candidates
(`project_content`), and the cache of embedded phrases (`phrase_vectors`).

index/catalog/content.py computes them and turns the blobs into vectors; here they are bytes and
JSON text. Writes run inside the caller's transaction when it holds one.
"""
from __future__ import annotations

from typing import Iterable, Sequence, TypedDict, cast

from index.storage.clauses import BATCH, marks
from index.storage.sqlite.store import Store


class ProjectContentRow(TypedDict):
    """A `project_content` row: float32 blobs and JSON text."""
    project_id: str
    fingerprint: str | None
    direction: bytes | None
    passages: bytes | None
    passage_refs: str | None
    candidates: str | None
    key_phrases: str | None
    built_at: str | None


_CONTENT_COLUMNS = ("project_id", "fingerprint", "direction", "passages", "passage_refs", "candidates",
                    "key_phrases", "built_at")


def save_content(store: Store, row: ProjectContentRow) -> None:
    """Insert or replace one project's content."""
    values = [row["project_id"], row["fingerprint"], row["direction"], row["passages"], row["passage_refs"],
              row["candidates"], row["key_phrases"], row["built_at"]]
    sets = ", ".join(f"{c} = excluded.{c}" for c in _CONTENT_COLUMNS[1:])
    store.conn.execute(f"INSERT INTO project_content ({', '.join(_CONTENT_COLUMNS)}) VALUES ({marks(len(values))}) "
                       f"ON CONFLICT (project_id) DO UPDATE SET {sets}", values)


def content_rows(store: Store) -> list[ProjectContentRow]:
    """Every project's content, in stored order."""
    return cast(list[ProjectContentRow], store.query("SELECT * FROM project_content"))


def fingerprints(store: Store) -> dict[str, str]:
    """project id -> the fingerprint its content was computed for."""
    return {r["project_id"]: r["fingerprint"] for r in store.query("SELECT project_id, fingerprint FROM project_content")}


def candidates(store: Store) -> dict[str, str | None]:
    """project id -> its candidate key phrases (JSON text)."""
    return {r["project_id"]: r["candidates"] for r in store.query("SELECT project_id, candidates FROM project_content")}


def keep_only(store: Store, project_ids: Sequence[str]) -> None:
    """Delete the content of every project not among `project_ids`."""
    store.conn.execute(f"DELETE FROM project_content WHERE project_id NOT IN ({marks(len(project_ids))})",
                       list(project_ids))


# -- the phrase cache -----------------------------------------------------------------------------
def phrase_blobs(store: Store, keys: Sequence[str]) -> list[tuple[str, bytes]]:
    """(key, vector blob) of the cached phrases among `keys`."""
    out: list[tuple[str, bytes]] = []
    for i in range(0, len(keys), BATCH):
        part = list(keys[i:i + BATCH])
        out += [(r[0], r[1]) for r in store.conn.execute(
            f"SELECT phrase, vector FROM phrase_vectors WHERE phrase IN ({marks(len(part))})", part)]
    return out


def save_phrases(store: Store, rows: Iterable[tuple[str, bytes | None]]) -> None:
    """Insert or replace cached phrase vectors: (key, vector blob)."""
    store.conn.executemany("INSERT INTO phrase_vectors (phrase, vector) VALUES (?, ?) "
                           "ON CONFLICT (phrase) DO UPDATE SET vector = excluded.vector", list(rows))
