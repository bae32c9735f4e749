"""The one place that picks the index's database: the embedded SQLite + FAISS, or Postgres + pgvector.

Everything else holds a `Store` and a vector index and does not ask which. `database` is the
Postgres URL from [guild] database / GUILDBOT_DATABASE, or "" for the embedded default in data_dir.
The surfaces (guildbot/) reach storage only through this module and `interfaces`: the names below
that they need (the Store type, its errors, the crawl lock's error, the stored time format `iso`)
are re-exported here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from index.storage.interfaces import CrawlGuard, VectorStore
from index.storage.sqlite.lock import CrawlLock, CrawlLocked
from index.storage.sqlite.seen import SeenEvents
from index.storage.sqlite.store import SQLiteError, Store, StoreError, iso, store_error
from index.storage.sqlite.vectors import GENERATION_KEY, LAGGING_KEY, IndexOptions, VectorIndex

__all__ = ["CrawlLocked", "GENERATION_KEY", "IndexOptions", "LAGGING_KEY", "SQLiteError", "SeenEvents", "Store",
           "StoreError", "VectorIndex", "crawl_lock", "is_postgres", "open_seen_events", "open_store", "open_vectors",
           "iso", "store_error"]


def open_store(data_dir: Path, database: str = "") -> Store:
    if database:
        from index.storage.postgres.store import PgStore
        return PgStore(database)
    return Store(data_dir)


def is_postgres(store: Store) -> bool:
    return getattr(store, "backend", "sqlite") == "postgres"


def open_vectors(store: Store, data_dir: Path, dim: int, options: IndexOptions | None = None) -> VectorStore:
    """The vector index for `store`: FAISS files beside SQLite, or pgvector inside Postgres."""
    if is_postgres(store):
        from index.storage.postgres.vectors import PgVectors
        return PgVectors(store, data_dir, dim, options)  # type: ignore[arg-type]
    return VectorIndex(store, data_dir, dim, options)


def open_seen_events(store: Store) -> SeenEvents:
    """Slack deliveries already answered, in the store's database, on a connection of their own."""
    if is_postgres(store):
        from index.storage.postgres.conn import PgConnection
        url = store.url  # type: ignore[attr-defined]
        return SeenEvents(Path("postgres"), connect=lambda timeout: PgConnection(url, timeout))
    return SeenEvents(store.path)


def crawl_lock(store: Store, data_dir: Path, sources: Iterable[str]) -> CrawlGuard:
    """One crawler per data_dir (flock), or per source on Postgres (advisory locks)."""
    if is_postgres(store):
        from index.storage.postgres.lock import PgCrawlLock
        return PgCrawlLock(store.url, str(store.path), sources)  # type: ignore[attr-defined]
    return CrawlLock(data_dir)
