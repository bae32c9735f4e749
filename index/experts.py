"""Experts: the top hybrid hits vote for the people who wrote them.

Document-centric voting (Balog's Model 2): each of the top documents gives its weight, which
falls with rank, to its contributors in proportion to their share of the document, scaled by
the kind of contribution and by recency. People carry their team and their best evidence.
"""
from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .store import Store

ROLE_WEIGHT = {"author": 1.0, "owner": 1.0, "editor": 0.8, "committer": 0.7, "mentioned": 0.3}
VOTING_DOCS = 60
RECENCY_HALF_LIFE_DAYS = 2 * 365
RECENCY_FLOOR = 0.6

FRAMING = re.compile(
    r"^\s*(?:(?:hey|hi|hello)[,!]?\s+)?(?:(?:who|whom)\s+(?:here\s+)?(?:has|have|had|is|are|was|were|did|does|do|can|could|should|would|knows?|built|wrote|worked|works)?"
    r"|(?:is\s+there\s+|does\s+)?(?:any|some)(?:one|body)(?:\s+here)?(?:\s+(?:who|that))?"
    r"|i\s+(?:need|want|am\s+looking\s+for|'m\s+looking\s+for)\s+(?:someone|somebody|an?\s+expert|help)(?:\s+(?:who|that|for|with|on|in))?"
    r"|(?:looking\s+for|need)\s+(?:someone|somebody|an?\s+expert)(?:\s+(?:who|that|for|with|on|in))?)\b",
    re.IGNORECASE)
FILLER = re.compile(r"^\s*(?:(?:has|have|had|is|are|with|experience|expertise|knowledge|knows?|know about|familiar|"
                    r"worked|working|work|built|build|building|wrote|written|done|did|any|some|in|on|with|for|of|about|"
                    r"can|could|help|me|us|experienced|already|ever|here|who|that|the|a|an)\b[\s,]*)+", re.IGNORECASE)


def topic_of(question: str) -> str:
    """'Who here has experience with drift monitoring?' -> 'drift monitoring'."""
    text = question.strip().rstrip("?!. ")
    stripped = FRAMING.sub("", text, count=1)
    if stripped != text:
        stripped = FILLER.sub("", stripped, count=1)
    return stripped.strip(" ,") or text


@dataclass
class Evidence:
    title: str
    url: str
    doc_id: str = ""
    source: str = ""
    what: str = ""  # "14 commits, 2019–2023"
    weight: float = 0.0


@dataclass
class Expert:
    person_id: str
    name: str
    team: str
    score: float
    emails: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    slack_id: str = ""
    evidence: list[Evidence] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """The fields of DESIGN.md's `who --json`."""
        return {"name": self.name, "emails": self.emails, "aliases": self.aliases, "team": self.team,
                "score": round(self.score, 5),
                "evidence": [{"title": e.title, "url": e.url, "what": e.what} for e in self.evidence]}


def _age_days(ts: str | None, now: datetime) -> float:
    if not ts:
        return 3650.0
    try:
        return max(0.0, (now - datetime.fromisoformat(ts)).days)
    except ValueError:
        return 3650.0


def recency(ts: str | None, now: datetime) -> float:
    return RECENCY_FLOOR + (1 - RECENCY_FLOOR) * math.exp(-_age_days(ts, now) * math.log(2) / RECENCY_HALF_LIFE_DAYS)


def describe(role: str, count: int, first: str | None, last: str | None) -> str:
    unit = {"committer": "commit", "author": "commit" if role == "author" else "edit", "editor": "edit"}.get(role, "contribution")
    years = sorted({y[:4] for y in (first, last) if y})
    span = f", {years[0]}–{years[-1]}" if len(years) == 2 else (f", {years[0]}" if years else "")
    return f"{role}: {count} {unit}{'s' if count != 1 else ''}{span}"


def rank_experts(store: Store, doc_scores: dict[str, float], limit: int = 10, team: str | None = None,
                 voting_docs: int = VOTING_DOCS, now: datetime | None = None) -> list[Expert]:
    """People ranked by the votes of the best documents in `doc_scores` (doc id -> fused score)."""
    now = now or datetime.now(timezone.utc)
    top = sorted(doc_scores.items(), key=lambda kv: -kv[1])[:voting_docs]
    if not top:
        return []
    best = top[0][1]
    doc_weight = {d: s / best for d, s in top}
    marks = ",".join("?" * len(top))
    rows = store.query(
        f"""SELECT c.doc_id, c.role, c.count, c.first_at, c.last_at, i.person_id
            FROM contributions c JOIN identities i ON i.id = c.identity_id
            WHERE c.doc_id IN ({marks}) AND i.person_id IS NOT NULL""", [d for d, _ in top])
    totals: dict[str, float] = defaultdict(float)
    for r in rows:
        totals[r["doc_id"]] += r["count"] or 0
    score: dict[str, float] = defaultdict(float)
    proof: dict[str, dict[str, list]] = defaultdict(dict)
    for r in rows:
        share = (r["count"] or 0) / totals[r["doc_id"]] if totals[r["doc_id"]] else 0.0
        vote = doc_weight[r["doc_id"]] * share * ROLE_WEIGHT.get(r["role"], 0.5) * recency(r["last_at"], now)
        pid = r["person_id"]
        score[pid] += vote
        p = proof[pid].setdefault(r["doc_id"], [0.0, r["role"], 0, r["first_at"], r["last_at"]])
        p[0] += vote
        p[2] += r["count"] or 0
    if not score:
        return []
    people = {r["id"]: r for r in store.query(
        f"SELECT * FROM people WHERE id IN ({','.join('?' * len(score))})", list(score))}
    ranked = [pid for pid in sorted(score, key=lambda p: -score[p]) if pid in people and
              (not team or (people[pid]["team"] or "").casefold() == team.casefold())][:limit]
    docs = store.documents(d for pid in ranked for d in proof[pid])
    out = []
    for pid in ranked:
        p = people[pid]
        evidence = []
        for doc_id, (w, role, count, first, last) in sorted(proof[pid].items(), key=lambda kv: -kv[1][0])[:3]:
            d = docs.get(doc_id)
            if d:
                evidence.append(Evidence(d["title"], d["url"], doc_id, d["source"], describe(role, count, first, last), w))
        out.append(Expert(pid, p["name"], p["team"] or "", score[pid], json.loads(p["emails"] or "[]"),
                          json.loads(p["aliases"] or "[]"), p["slack_id"] or "", evidence))
    return out
