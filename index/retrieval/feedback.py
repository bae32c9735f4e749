"""Feedback on answers: "Helpful" / "Not helpful" votes on a document for a query, and the boost
they give that document in later answers.

A vote counts fully for the same question (same words, any order or case) and partly for related
ones (word overlap); a small part counts for every question, so a document people keep marking
unhelpful sinks everywhere a little. One person has one vote per document and question: voting
again replaces the earlier vote. The effect is bounded (a factor between 1 - MAX_EFFECT and
1 + MAX_EFFECT on the fused score), so feedback reorders close answers but cannot bury a
document that matches far better than the rest.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Iterable, Sequence, TypeVar

from index.retrieval.search import query_terms
from index.storage import feedback as feedback_store
from index.storage.sqlite.store import Store, now_iso

MAX_EFFECT = 0.5      # the score factor stays within [0.5, 1.5]
VOTE_SCALE = 2.0      # net votes at which ~76% of the maximum effect is reached
GLOBAL_WEIGHT = 0.2   # how much a vote given for an unrelated question still counts
POOL = 20             # extra hits fetched so a promoted document can climb into the answer

T = TypeVar("T")


def query_key(query: str) -> str:
    """Order- and case-insensitive form of a question: its content words, sorted."""
    return " ".join(sorted(set(query_terms(query))))


def relevance(vote_query: str, query: str) -> float:
    """How much a vote given for `vote_query` says about `query`: 0..1 word overlap (Jaccard)."""
    a, b = set(query_key(vote_query).split()), set(query_key(query).split())
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def boost_factor(votes: Iterable[tuple[int, float]]) -> float:
    """Score factor from (value ±1, relevance 0..1) votes. Pure; 1.0 when there are none."""
    net = sum((1 if v > 0 else -1) * (GLOBAL_WEIGHT + (1 - GLOBAL_WEIGHT) * max(0.0, min(1.0, r))) for v, r in votes)
    return 1.0 + MAX_EFFECT * math.tanh(net / VOTE_SCALE)


def record_feedback(store: Store, doc_id: str, query: str, value: int, user: str) -> None:
    """Store one vote (value > 0 helpful, otherwise not helpful), replacing the same user's
    earlier vote on this document for the same question."""
    if not doc_id:
        raise ValueError("feedback needs a document id")
    value = 1 if value > 0 else -1
    key = query_key(query)
    with store.transaction():
        old = [r["id"] for r in feedback_store.user_votes(store, doc_id, user or "")
               if query_key(r["query"] or "") == key]
        feedback_store.delete_votes(store, old)
        feedback_store.add_vote(store, doc_id, query, value, user or "", now_iso())


def votes_for(store: Store, doc_ids: Iterable[str], query: str) -> dict[str, list[tuple[int, float]]]:
    """doc id -> [(value, relevance to `query`)] for the documents that have feedback."""
    ids = list(dict.fromkeys(doc_ids))
    if not ids:
        return {}
    out: dict[str, list[tuple[int, float]]] = {}
    for r in feedback_store.votes_on(store, ids):
        out.setdefault(r["doc_id"], []).append((int(r["value"] or 0), relevance(r["query"] or "", query)))
    return out


def rerank(store: Store, query: str, hits: Sequence[T]) -> list[T]:
    """Hits (objects with doc_id and score) re-scored by feedback, best first.
    Without any feedback on them the order and scores are unchanged."""
    votes = votes_for(store, (h.doc_id for h in hits), query)  # type: ignore[attr-defined]
    if not votes:
        return list(hits)
    scored = [replace(h, score=round(h.score * boost_factor(votes.get(h.doc_id, [])), 5))  # type: ignore[attr-defined]
              for h in hits]
    return [h for _, h in sorted(enumerate(scored), key=lambda kv: (-kv[1].score, kv[0]))]
