"""The query log's rows: one entry per question asked on any surface (index/retrieval/querylog.py
decides what an entry holds, when a question joins an earlier entry, and what a digest may show).

Writes run inside the caller's transaction; `at` is stored as UTC ISO text, so entries compare
and sort by it as strings.
"""
from __future__ import annotations

from typing import TypedDict, cast

from index.storage.sqlite.store import Store


class RecentEntry(TypedDict):
    """What merging a repeated question needs of the entry it joins."""
    id: int
    kind: str
    strength: float | None
    results: int | None


class EntryRow(TypedDict):
    """An entry as a digest reads it (never who asked)."""
    id: int
    at: str
    surface: str | None
    question: str | None
    qkey: str | None
    kind: str | None
    asker_team: str | None
    strength: float | None
    results: int | None


def delete_before(store: Store, cutoff: str) -> int:
    """Delete the entries logged before `cutoff` (ISO); returns how many went."""
    return store.conn.execute("DELETE FROM query_log WHERE at < ?", (cutoff,)).rowcount


def latest_same(store: Store, surface: str, asker: str, qkey: str, since: str) -> RecentEntry | None:
    """The newest entry since `since` of the same asker's same question words on the same surface."""
    rows = store.query("SELECT id, kind, strength, results FROM query_log WHERE surface = ? AND asker = ? AND qkey = ? "
                       "AND at >= ? ORDER BY at DESC LIMIT 1", (surface, asker, qkey, since))
    return cast(RecentEntry, rows[0]) if rows else None


def update_entry(store: Store, entry_id: int, kind: str, strength: float | None, results: int) -> None:
    store.conn.execute("UPDATE query_log SET kind = ?, strength = ?, results = ? WHERE id = ?",
                       (kind, strength, results, entry_id))


def add_entry(store: Store, *, at: str, surface: str, question: str, qkey: str, kind: str, asker: str,
              asker_team: str, strength: float | None, results: int) -> int:
    """Log a new entry; returns its id."""
    cur = store.conn.execute(
        "INSERT INTO query_log (at, surface, question, qkey, kind, asker, asker_team, strength, results) "
        "VALUES (?,?,?,?,?,?,?,?,?)", (at, surface, question, qkey, kind, asker, asker_team, strength, results))
    return int(cur.lastrowid)


def entries_between(store: Store, start: str, end: str) -> list[EntryRow]:
    """Entries logged in [start, end) (ISO), oldest first."""
    return cast(list[EntryRow], store.query(
        "SELECT id, at, surface, question, qkey, kind, asker_team, strength, results FROM query_log "
        "WHERE at >= ? AND at < ? ORDER BY at, id", [start, end]))
