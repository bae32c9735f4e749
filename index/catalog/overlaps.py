"""Overlaps: pairs of projects whose characteristic content is alike.

The raw material for cross-team syncs and duplicate-effort alerts. Projects are compared by
their characteristic passages, not by centroids that every project's boilerplate pulls to the
same place; index/catalog/pairs.py keeps the scores. A pair is explained by its closest characteristic
passages and the key phrases both sides share.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from index.catalog import pairs as pair_scores
from index.catalog import content
from index.catalog.build import Project, ensure_schema, list_projects
from index.catalog.keywords import nested, phrase_key
from index.storage import project_pairs as pair_db
from index.storage.sqlite.store import Store
from index.people.visibility import Viewer

PEOPLE_PER_SIDE = 3
SHARED_PHRASES = 6


def _ensure(store: Store) -> None:
    ensure_schema(store)
    pair_scores.ensure_schema(store)


# -- reading --------------------------------------------------------------------------------------
@dataclass
class Overlap:
    a: Project
    b: Project
    score: float  # in [0, 1], calibrated (see score_of)
    similarity: float  # the lead: characteristic cosine above background
    shared_topics: list[str] = field(default_factory=list)  # key phrases both sides share
    evidence: list[dict[str, Any]] = field(default_factory=list)  # the closest characteristic passages

    @property
    def same_team(self) -> bool:
        return bool(self.a.team) and self.a.team.casefold() == self.b.team.casefold()

    def public(self) -> dict[str, Any]:
        def side(p: Project) -> dict[str, Any]:
            return {"project": p.id, "id": p.id, "name": p.name, "team": p.team, "summary": p.summary,
                    "status": p.status, "topics": p.topics,
                    "people": [{"name": c["name"], "team": c["team"]} for c in p.contributors[:PEOPLE_PER_SIDE]]}
        return {"score": round(self.score, 4), "similarity": round(self.similarity, 4), "same_team": self.same_team,
                "shared_topics": self.shared_topics, "a": side(self.a), "b": side(self.b), "evidence": self.evidence}


def shared_phrases(a: Mapping[str, list], b: Mapping[str, list], df: Mapping[str, int] | None = None,
                   n_projects: int = 0, limit: int = SHARED_PHRASES) -> list[str]:
    """Candidate key phrases of both projects (as written by the first), most relevant to both and
    rarest among all projects first; a phrase in most projects' candidates ('model') says nothing
    about this pair."""
    df = df or {}
    common = max(2, math.ceil(n_projects / 2))
    def weight(k: str) -> float:
        return min(a[k][1], b[k][1]) * (math.log((1 + n_projects) / (1 + df.get(k, 0))) + 1 if n_projects else 1.0)
    both = [k for k in a if k in b and a[k][1] > 0 and b[k][1] > 0 and (n_projects < 4 or df.get(k, 0) <= common)]
    both.sort(key=lambda k: (-weight(k), k))
    out: list[str] = []  # keys
    for k in both:
        inside = [x for x in out if nested(k, x)]
        if not inside:
            out.append(k)
        elif all(len(k) > len(x) for x in inside):  # 'implicit feedback' rather than 'feedback'
            out[out.index(inside[0])] = k
            out = [x for x in out if x == k or x not in inside]
        if len(out) >= limit:
            break
    return [a[k][0] for k in out]


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + "…"


def _evidence(store: Store, ca: content.Content, cb: content.Content, n: int = 2) -> list[dict[str, Any]]:
    """The closest pairs of characteristic passages, one per document pair."""
    if not len(ca.passages) or not len(cb.passages):
        return []
    sims = ca.passages @ cb.passages.T
    order = np.dstack(np.unravel_index(np.argsort(-sims, axis=None), sims.shape))[0]
    chosen, used = [], set()
    for i, j in order[:400]:
        ra, rb = ca.refs[i], cb.refs[j]
        key = (ra["doc_id"], rb["doc_id"])
        if ra["doc_id"] in used or rb["doc_id"] in used:
            continue
        used |= set(key)
        chosen.append((float(sims[i, j]), ra, rb))
        if len(chosen) >= n:
            break
    docs = store.documents(d for _, ra, rb in chosen for d in (ra["doc_id"], rb["doc_id"]))
    chunks = store.chunk_rows(r["chunk_id"] for _, ra, rb in chosen for r in (ra, rb))
    out = []
    for sim, ra, rb in chosen:
        def side(r):
            d = docs.get(r["doc_id"], {})
            return {"title": d.get("title", ""), "url": d.get("url", ""),
                    "passage": _snippet(chunks.get(r["chunk_id"], {}).get("text", ""))}
        out.append({"similarity": round(sim, 4), "a": side(ra), "b": side(rb)})
    return out


def rank_overlaps(store: Store, limit: int = 10, min_score: float = 0.0, include_same_team: bool = False,
                  viewer: Viewer | None = None) -> list[Overlap]:
    """Project pairs, most alike first: in different teams unless `include_same_team`; never below `min_score`;
    both sides among the projects `viewer` may see."""
    _ensure(store)
    projects = {p.id: p for p in list_projects(store, viewer=viewer)}
    found = []
    for r in pair_db.pairs_scoring(store, max(0.0, min_score)):
        a, b = projects.get(r["a"]), projects.get(r["b"])
        if a is None or b is None:
            continue
        o = Overlap(a, b, r["score"], r["lead"])
        if not include_same_team and (not a.team or not b.team or o.same_team):
            continue
        found.append(o)
        if len(found) >= max(0, limit):
            break
    if found:
        contents = content.load_all(store)
        df = Counter(k for c in contents.values() for k in c.candidates)
        for o in found:
            ca, cb = contents.get(o.a.id), contents.get(o.b.id)
            if ca and cb:
                o.shared_topics = shared_phrases(ca.candidates, cb.candidates, df, len(contents))
                o.evidence = _evidence(store, ca, cb)
    return found
