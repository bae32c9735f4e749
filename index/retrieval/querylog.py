"""The query log: every question asked on any surface (Slack, web, CLI, Python), with the asker's
team, how strong the best answer was and the feedback it got.

It feeds the digest's knowledge gaps: questions whose answers were weak. "Strength" is an
absolute measure, unlike the fused rank score of a hit: the best cosine between the question's
embedding and any chunk of the top documents. One question asked through a surface that calls
both `search` and `experts` (Slack's `ask`) is one entry: a second call with the same words by
the same asker on the same surface within MERGE_SECONDS joins the first.

Who asked is kept for the asker's team and for merging, and is never part of `public()` rows:
a digest shows questions and counts, never who asked. Entries older than the retention are
deleted as new ones arrive.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

import numpy as np

from index.retrieval.feedback import query_key
from index.retrieval.floor import RELEVANCE_FLOOR, STRENGTH_DOCS, answer_strength
from index.storage import feedback as feedback_store, people as people_store
from index.storage import querylog as log_store
from index.storage.sqlite.store import Store, iso

MERGE_SECONDS = 120
RETENTION_DAYS = 90
WEAK_BELOW = RELEVANCE_FLOOR  # answer strength under which a question is a knowledge gap: search's floor
MIGHT_KNOW = 0.3      # a person's own documents at least this near a question: they might know
QUESTION_CHARS = 500  # longer questions are stored cut


@dataclass
class LoggedQuestion:
    id: int
    at: str
    surface: str
    question: str
    kind: str             # "search", "experts" or "search+experts"
    asker_team: str
    strength: float | None
    results: int
    feedback: int = 0     # net "Helpful" minus "Not helpful" votes for this question

    def public(self) -> dict[str, Any]:
        """What a digest may show: never who asked."""
        return {"question": self.question, "surface": self.surface, "team": self.asker_team,
                "strength": None if self.strength is None else round(self.strength, 3), "feedback": self.feedback}


def strength(store: Store, query_vector: np.ndarray | None, doc_ids: Sequence[str], top: int = STRENGTH_DOCS) -> float | None:
    """The best cosine between the query and any chunk of the first `top` documents (None without
    vectors): the measure search's relevance floor judges (index/retrieval/floor.py)."""
    return answer_strength(store, query_vector, doc_ids, top)


def might_know(strength_value: float | None) -> bool:
    return strength_value is not None and strength_value >= MIGHT_KNOW


def asker_team(store: Store, asker: str | None) -> str:
    """The team of the person behind a Slack id, an email or a name; '' when unknown."""
    if not asker:
        return ""
    return people_store.team_of(store, asker.strip())


def record(store: Store, question: str, surface: str, kind: str, strength_value: float | None, results: int,
           asker: str | None = None, team: str | None = None, retention_days: int = RETENTION_DAYS,
           now: datetime | None = None) -> int:
    """Log one question; returns its entry id. Merges with the same asker's same question on the
    same surface in the last MERGE_SECONDS (one `ask` = one entry), and drops expired entries."""
    question = " ".join((question or "").split())[:QUESTION_CHARS]
    now = now or datetime.now(timezone.utc)
    stamp, since = iso(now), iso(now - timedelta(seconds=MERGE_SECONDS))
    team = team if team is not None else asker_team(store, asker)
    key = query_key(question)
    with store.transaction():
        log_store.delete_before(store, iso(now - timedelta(days=retention_days)))
        same = log_store.latest_same(store, surface, asker or "", key, since)
        if same:
            kinds = "+".join(sorted(set(same["kind"].split("+")) | {kind}, key=["search", "experts"].index))
            best = max((s for s in (same["strength"], strength_value) if s is not None), default=None)
            log_store.update_entry(store, same["id"], kinds, best, max(same["results"] or 0, results))
            return int(same["id"])
        return log_store.add_entry(store, at=stamp, surface=surface, question=question, qkey=key, kind=kind,
                                   asker=asker or "", asker_team=team, strength=strength_value, results=results)


def questions(store: Store, start: datetime, end: datetime) -> list[LoggedQuestion]:
    """Questions asked in [start, end), oldest first, each with the net feedback given to its words."""
    rows = log_store.entries_between(store, iso(start), iso(end))
    votes: dict[str, int] = {}
    for r in feedback_store.votes_since(store, iso(start)):
        k = query_key(r["query"] or "")
        votes[k] = votes.get(k, 0) + (1 if (r["value"] or 0) > 0 else -1)
    return [LoggedQuestion(r["id"], r["at"], r["surface"], r["question"], r["kind"], r["asker_team"] or "",
                           r["strength"], r["results"] or 0, votes.get(r["qkey"], 0)) for r in rows]


@dataclass
class Gap:
    """A question nobody could answer well this week: how often it was asked, and why it is weak."""

    question: str
    asked: int
    teams: list[str]
    strength: float | None
    not_helpful: bool
    people: list[dict[str, Any]]  # filled by the caller: who might know

    def public(self) -> dict[str, Any]:
        return {"question": self.question, "asked": self.asked, "teams": self.teams,
                "strength": None if self.strength is None else round(self.strength, 3),
                "not_helpful": self.not_helpful, "people": self.people}


def gaps(logged: Iterable[LoggedQuestion], weak_below: float = WEAK_BELOW) -> list[Gap]:
    """Weak answers grouped by question words: weakest, then most asked, first. Pure."""
    groups: dict[str, list[LoggedQuestion]] = {}
    for q in logged:
        groups.setdefault(query_key(q.question) or q.question.casefold(), []).append(q)
    out = []
    for items in groups.values():
        best = max((q.strength for q in items if q.strength is not None), default=None)
        not_helpful = min(q.feedback for q in items) < 0
        if not_helpful or (best is not None and best < weak_below) or all(q.results == 0 for q in items):
            teams = sorted({q.asker_team for q in items if q.asker_team})
            out.append(Gap(items[-1].question, len(items), teams, best, not_helpful, []))
    out.sort(key=lambda g: (not g.not_helpful, g.strength if g.strength is not None else -1.0, -g.asked, g.question))
    return out


def purge(store: Store, retention_days: int = RETENTION_DAYS, now: datetime | None = None) -> int:
    """Delete entries older than the retention; returns how many went."""
    cutoff = iso((now or datetime.now(timezone.utc)) - timedelta(days=retention_days))
    with store.transaction():
        return log_store.delete_before(store, cutoff)
