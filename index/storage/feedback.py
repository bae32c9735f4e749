"""Feedback rows: one "Helpful" (+1) or "Not helpful" (-1) vote by a user on a document for a
question (index/retrieval/feedback.py turns votes into a boost; one vote per user, document and
question words, which it enforces by replacing earlier votes). Writes run inside the caller's
transaction.
"""
from __future__ import annotations

from typing import Iterable, TypedDict, cast

from index.storage.sqlite.store import Store

BATCH = 500  # ids per IN (...) list


class UserVote(TypedDict):
    id: int
    query: str | None


class DocVote(TypedDict):
    doc_id: str
    query: str | None
    value: int | None


class QueryVote(TypedDict):
    query: str | None
    value: int | None


def user_votes(store: Store, doc_id: str, user: str) -> list[UserVote]:
    """A user's votes on one document (for any question)."""
    return cast(list[UserVote], store.query("SELECT id, query FROM feedback WHERE doc_id = ? AND user = ?",
                                            (doc_id, user)))


def delete_votes(store: Store, ids: list[int]) -> None:
    if ids:
        store.conn.execute(f"DELETE FROM feedback WHERE id IN ({','.join('?' * len(ids))})", ids)


def add_vote(store: Store, doc_id: str, query: str, value: int, user: str, at: str) -> None:
    store.conn.execute("INSERT INTO feedback (doc_id, query, value, user, at) VALUES (?, ?, ?, ?, ?)",
                       (doc_id, query, value, user, at))


def votes_on(store: Store, doc_ids: Iterable[str]) -> list[DocVote]:
    """Every vote on the given documents, document batch by batch."""
    ids = list(dict.fromkeys(doc_ids))
    out: list[DocVote] = []
    for start in range(0, len(ids), BATCH):
        part = ids[start:start + BATCH]
        out += cast(list[DocVote], store.query(
            f"SELECT doc_id, query, value FROM feedback WHERE doc_id IN ({','.join('?' * len(part))})", part))
    return out


def votes_since(store: Store, since: str) -> list[QueryVote]:
    """Every vote given at or after `since` (ISO), with its question."""
    return cast(list[QueryVote], store.query("SELECT query, value FROM feedback WHERE at >= ?", [since]))
