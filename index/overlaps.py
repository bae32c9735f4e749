"""Overlaps: pairs of projects in different teams whose content is alike.

The raw material for cross-team syncs and duplicate-effort alerts. A pair's score is the cosine
between the two projects' centroid embeddings (the mean direction of their documents' chunk
vectors), plus a small bonus for shared topic words. Each pair carries the people on each side
and the two most alike documents as evidence.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from .catalog import Project, list_projects, project_vectors
from .docvectors import doc_centroids
from .keywords import fold, tokens
from .store import Store
from .visibility import Viewer

TOPIC_WEIGHT = 0.2  # a pair sharing every topic word gains this much over its cosine
PEOPLE_PER_SIDE = 3


def topic_words(topics: list[str]) -> set[str]:
    return {fold(w) for t in topics for w in tokens(t) if w}


def topic_overlap(a: list[str], b: list[str]) -> tuple[float, list[str]]:
    """Jaccard similarity of two topic lists' words, and the shared words."""
    wa, wb = topic_words(a), topic_words(b)
    if not wa or not wb:
        return 0.0, []
    shared = wa & wb
    return len(shared) / len(wa | wb), sorted(shared)


@dataclass
class Overlap:
    a: Project
    b: Project
    score: float
    similarity: float
    shared_topics: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)  # the most alike pairs of documents

    def public(self) -> dict[str, Any]:
        def side(p: Project) -> dict[str, Any]:
            return {"project": p.name, "id": p.id, "team": p.team, "summary": p.summary, "status": p.status,
                    "people": [{"name": c["name"], "team": c["team"]} for c in p.contributors[:PEOPLE_PER_SIDE]]}
        return {"score": round(self.score, 4), "similarity": round(self.similarity, 4),
                "shared_topics": self.shared_topics, "a": side(self.a), "b": side(self.b), "evidence": self.evidence}


def _evidence(store: Store, a: Project, b: Project, n: int = 2) -> list[dict[str, Any]]:
    rows = store.query("""SELECT pd.project_id, d.id, d.title, d.url FROM project_documents pd
                          JOIN documents d ON d.id = pd.doc_id
                          WHERE pd.project_id IN (?, ?) AND d.kind != 'code_path'""", [a.id, b.id])
    vecs = doc_centroids(store, [r["id"] for r in rows])
    left = [r for r in rows if r["project_id"] == a.id and r["id"] in vecs]
    right = [r for r in rows if r["project_id"] == b.id and r["id"] in vecs]
    pairs = sorted(((float(vecs[x["id"]] @ vecs[y["id"]]), x, y) for x in left for y in right),
                   key=lambda t: (-t[0], t[1]["id"], t[2]["id"]))
    out, used = [], set()
    for sim, x, y in pairs:
        if x["id"] in used or y["id"] in used:
            continue
        used |= {x["id"], y["id"]}
        out.append({"similarity": round(sim, 4), "a": {"title": x["title"], "url": x["url"]},
                    "b": {"title": y["title"], "url": y["url"]}})
        if len(out) >= n:
            break
    return out


def rank_overlaps(store: Store, limit: int = 10, min_score: float = 0.0, viewer: Viewer | None = None) -> list[Overlap]:
    """Cross-team project pairs, most alike first; both sides among the projects `viewer` may see."""
    projects = {p.id: p for p in list_projects(store, viewer=viewer)}
    vectors = project_vectors(store)
    scored = []
    for x, y in itertools.combinations(sorted(p for p in projects if p in vectors), 2):
        a, b = projects[x], projects[y]
        if not a.team or not b.team or a.team.casefold() == b.team.casefold():
            continue
        sim = float(vectors[x] @ vectors[y])
        jaccard, shared = topic_overlap(a.topics, b.topics)
        score = sim + TOPIC_WEIGHT * jaccard
        if score >= min_score:
            scored.append(Overlap(a, b, score, sim, shared))
    scored.sort(key=lambda o: (-o.score, o.a.id, o.b.id))
    top = scored[:max(0, limit)]
    for o in top:
        o.evidence = _evidence(store, o.a, o.b)
    return top
