"""People profiles: who someone is, what they work on, and who elsewhere works on the same.

After each crawl `build_profiles` stores, per person, the direction of their work (the mean of
the centroids of the documents they contributed to, each weighted by their share of that
document's contributions) and their topics: key phrases of the projects they worked on
(index/catalog/content.py), scored by similarity to that direction and diversified by MMR. `profile` answers `guildbot person`, `similar_people`
answers `guildbot similar`: people in other teams whose work points the same way.
"""
from __future__ import annotations

import difflib
import json
from functools import lru_cache
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from index.catalog.build import ensure_schema as ensure_catalog
from index.embedding.docvectors import doc_centroids, from_blob, mean_direction, to_blob
from index.catalog import content
from index.catalog.keywords import nested, phrase_key
from index.people.resolve import identity_keys, norm_name
from index.storage import catalog as catalog_db
from index.storage import people as people_db
from index.storage import profiles as profile_db
from index.storage import project_content as content_db
from index.storage.sqlite.store import Store, now_iso
from index.people.visibility import (Viewer, named_visibly, trim_identity_lists, visible_doc_ids, visible_identities,
                         visible_people, visible_profiles, visible_topics)

TOPICS = 8
POOL = 60  # candidate phrases considered per person
RECENT = 8


class AmbiguousPerson(LookupError):
    """A query that names several people; `candidates` are their people rows."""

    def __init__(self, query: str, candidates: list[dict[str, Any]]):
        self.query, self.candidates = query, candidates
        names = "; ".join(f"{c['name']} ({c['team'] or 'no team'}, {', '.join(json.loads(c['emails'] or '[]')) or c['id']})"
                          for c in candidates)
        super().__init__(f"{query!r} matches {len(candidates)} people: {names}; ask by email to pick one")


def ensure_schema(store: Store) -> None:
    """Nothing to do: the store has this table from the moment it opens (index/storage/sqlite/schema.py)."""


def shares(store: Store) -> dict[str, dict[str, float]]:
    """person id -> {doc id: the person's share of the document's contributions}. Commits and
    folders are left out: they repeat the files' work, as module evidence for `who`."""
    totals: Counter = Counter()
    per: dict[str, Counter] = defaultdict(Counter)
    for r in profile_db.doc_person_counts(store):
        n = r["n"] or 0
        totals[r["doc_id"]] += n  # bots and unresolved identities count in the total, not as people
        if r["person_id"]:
            per[r["person_id"]][r["doc_id"]] += n
    return {p: {d: n / totals[d] for d, n in docs.items() if totals[d]} for p, docs in per.items()}


def _phrase_pool(store: Store, model: str) -> tuple[dict[str, dict[str, list]], dict[str, np.ndarray]]:
    """Each project's candidate key phrases, and the cached vectors of their written forms."""
    cands = {pid: json.loads(c or "{}") for pid, c in content_db.candidates(store).items()} \
        if store.columns("project_content") else {}
    forms = sorted({c[0] for pc in cands.values() for c in pc.values()})
    vecs = content.cached_vectors(store, forms, model) if forms else {}
    return cands, vecs


@lru_cache(maxsize=1 << 16)
def _excluded(key: str, exclude: tuple[str, ...]) -> bool:
    """A candidate inside (or holding) a project or team name; cached, since every person's
    candidates meet the same names."""
    return any(nested(key, x) for x in exclude)


def person_topics(projects: Mapping[str, float], cands: Mapping[str, Mapping[str, list]], vecs: Mapping[str, np.ndarray],
                  direction: np.ndarray | None, centre: np.ndarray | None, limit: int = TOPICS,
                  exclude: Iterable[str] = ()) -> list[str]:
    """A person's key phrases: candidates of the projects they worked on (`projects`: id -> their
    share of their work), scored by similarity to their work's direction, diversified by MMR;
    never one of `exclude` (project and team names)."""
    weight: Counter = Counter()
    forms: dict[str, str] = {}
    for pid, share in projects.items():
        for key, (form, rel) in cands.get(pid, {}).items():
            weight[key] += share * max(rel, 0.0) + 1e-6
            forms.setdefault(key, form)
    keys = tuple(phrase_key(x) for x in exclude)
    weight = Counter(dict(Counter({k: w for k, w in weight.items() if not _excluded(k, keys)}).most_common(POOL)))
    if direction is None or not any(forms[k] in vecs for k in weight):
        return [forms[k] for k, _ in weight.most_common()][:limit]  # already free of excluded phrases
    return content.rank_phrases(weight, forms, vecs, direction, centre, exclude, limit=limit)[1]


def build_profiles(store: Store, centroids: Mapping[str, np.ndarray] | None = None, model: str = "") -> int:
    """Rebuild every person's work direction and topics. Returns how many people have a profile."""
    ensure_schema(store)
    ensure_catalog(store)
    centroids = centroids if centroids is not None else doc_centroids(store)
    by_person = shares(store)
    project_of = catalog_db.placements(store)
    cands, vecs = _phrase_pool(store, model)
    raw = store.get_meta("catalog_centre")
    centre = np.frombuffer(bytes.fromhex(raw), dtype="float32") if raw else None
    names = [x for r in catalog_db.project_names(store) for x in (r["name"], r["team"] or "") if x]
    rows = []
    for pid, docs in by_person.items():
        ids = [d for d in docs if d in centroids]
        vec = mean_direction([centroids[d] for d in ids], [docs[d] for d in ids])
        work: Counter = Counter()
        for d, share in docs.items():
            if d in project_of:
                work[project_of[d]] += share
        total = sum(work.values()) or 1.0
        words = person_topics({k: v / total for k, v in work.items()}, cands, vecs, vec, centre, exclude=names)
        rows.append(profile_db.ProfileRow(person_id=pid, vector=to_blob(vec), topics=json.dumps(words, ensure_ascii=False),
                                          documents=len(docs), built_at=now_iso()))
    with store.transaction():
        profile_db.replace_profiles(store, rows)
    return len(rows)


# -- finding people -------------------------------------------------------------------------------
def list_people(store: Store, viewer: Viewer | None = None) -> list[dict[str, Any]]:
    """Everyone (`viewer` may know of), by team then name: {"id", "name", "team", "emails", "aliases", "in_directory"}."""
    known = visible_people(store, viewer)
    rows = [r for r in people_db.people_by_team(store) if known is None or r["id"] in known]
    lists = {r["id"]: trim_identity_lists(store, r["id"], json.loads(r["emails"] or "[]"), json.loads(r["aliases"] or "[]"),
                                          viewer) for r in rows}
    return [{"id": r["id"], "name": r["name"], "team": r["team"] or "", "emails": lists[r["id"]][0],
             "aliases": lists[r["id"]][1], "in_directory": bool(r["in_directory"])} for r in rows]


# -- finding people -------------------------------------------------------------------------------
def find_people(store: Store, query: str, viewer: Viewer | None = None) -> list[dict[str, Any]]:
    """People rows a query names: a person id, an email, a Slack id, a name, an alias or a handle;
    only people `viewer` may know of."""
    known = visible_people(store, viewer)
    if known is not None:
        return [r for r in find_people(store, query) if r["id"] in known and named_visibly(store, r, query, viewer)]
    q = query.strip()
    if not q:
        return []
    exact = people_db.people_by_id_or_slack(store, q, q.lstrip("@"))
    if exact:
        return exact
    if "@" in q and not q.startswith("@"):
        ids = people_db.people_with_identity_email(store, q.casefold())
        ids |= {r["id"] for r in people_db.people_emails(store) if q.casefold() in json.loads(r["emails"] or "[]")}
        return _people(store, ids)
    want = norm_name(q)
    ids = {r["id"] for r in people_db.people_aliases(store)
           if want and (norm_name(r["name"] or "") == want or want in {norm_name(a) for a in json.loads(r["aliases"] or "[]")})}
    if not ids:  # a handle: '@priya-raman', 'priya.raman', 'praman'
        keys = {k for _, k in identity_keys({"username": q.lstrip("@")})}
        for r in people_db.resolved_identities(store):
            if keys & {k for _, k in identity_keys(r)}:
                ids.add(r["person_id"])
    if not ids and want:  # part of a name: 'Omar', 'haddad'
        words = set(want.split())
        ids = {r["id"] for r in people_db.people_names(store) if words <= set(norm_name(r["name"] or "").split())}
    return _people(store, ids)


def _people(store: Store, ids: set[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return people_db.people_with_ids(store, ids)


def find_person(store: Store, query: str, viewer: Viewer | None = None) -> dict[str, Any] | None:
    """The one person a query names; None when nobody matches; AmbiguousPerson when several do."""
    found = find_people(store, query, viewer)
    if len(found) > 1:
        raise AmbiguousPerson(query, found)
    return found[0] if found else None


def suggest_names(store: Store, query: str, viewer: Viewer | None = None, n: int = 3) -> list[str]:
    """Names of people (`viewer` may know of) close to a query that matched nobody: 'did you mean'."""
    names = sorted({p["name"] for p in list_people(store, viewer) if p["name"]})
    by_norm = {norm_name(x): x for x in names}
    return [by_norm[c] for c in difflib.get_close_matches(norm_name(query), list(by_norm), n=n, cutoff=0.6)]


# -- profiles -------------------------------------------------------------------------------------
@dataclass
class Profile:
    person_id: str
    name: str
    team: str
    emails: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    slack_id: str = ""
    tz: str = ""
    in_directory: bool = False
    identities: list[dict[str, str]] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)  # {"name", "team", "count", "share"}
    recent: list[dict[str, Any]] = field(default_factory=list)  # {"title", "url", "project", "role", "count", "last_at"}

    def public(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "person_id"} | {"id": self.person_id}


def profile(store: Store, person: dict[str, Any], viewer: Viewer | None = None) -> Profile:
    """Everything guildbot knows about one person (a people row), as far as `viewer` may see."""
    ensure_schema(store)
    ensure_catalog(store)
    pid = person["id"]
    sources = None if viewer is None else viewer.sources
    emails, aliases = trim_identity_lists(store, pid, json.loads(person["emails"] or "[]"),
                                          json.loads(person["aliases"] or "[]"), viewer)
    p = Profile(pid, person["name"], person["team"] or "", emails, aliases, person["slack_id"] or "", person["tz"] or "",
                bool(person["in_directory"]))
    p.identities = [{k: r[k] or "" for k in ("kind", "name", "email", "username")} for r in visible_identities(store, pid, viewer)]
    row = profile_db.profile_topics(store, pid)
    p.topics = visible_topics(store, pid, json.loads(row["topics"]) if row else [], viewer)
    projects = profile_db.person_projects(store, pid, sources)
    total = sum(r["n"] or 0 for r in projects) or 1
    p.projects = [{"name": r["name"], "id": r["id"], "team": r["team"] or "", "count": r["n"] or 0,
                   "share": round((r["n"] or 0) / total, 3)} for r in projects]
    p.recent = [{"title": r["title"], "url": r["url"], "project": r["project"] or "", "role": r["role"],
                 "count": r["count"], "last_at": r["last_at"]} for r in profile_db.recent_documents(store, pid, RECENT, sources)]
    return p


@dataclass
class SimilarPerson:
    person_id: str
    name: str
    team: str
    score: float
    shared_topics: list[str] = field(default_factory=list)
    evidence: list[dict[str, str]] = field(default_factory=list)  # their documents closest to the asker's work

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "team": self.team, "score": round(self.score, 4),
                "shared_topics": self.shared_topics, "evidence": self.evidence}


def similar_people(store: Store, person: dict[str, Any], limit: int = 5, viewer: Viewer | None = None) -> list[SimilarPerson]:
    """People in other teams whose work is most like this person's (cosine of work directions),
    from the work `viewer` may see."""
    ensure_schema(store)
    rows = visible_profiles(store, {r["person_id"]: r for r in profile_db.profile_rows(store)}, viewer)
    mine = rows.get(person["id"])
    me = from_blob(mine["vector"]) if mine else None
    if me is None:
        return []
    my_team = (person["team"] or "").casefold()
    people = {r["id"]: r for r in people_db.people_teams(store)}
    my_topics = set(json.loads(mine["topics"] or "[]"))
    scored = []
    for pid, r in rows.items():
        other = people.get(pid)
        v = from_blob(r["vector"])
        if pid == person["id"] or other is None or v is None or not other["team"] or \
                (my_team and other["team"].casefold() == my_team):
            continue
        topics = json.loads(r["topics"] or "[]")
        scored.append(SimilarPerson(pid, other["name"], other["team"], float(me @ v),
                                    [t for t in topics if t in my_topics]))
    scored.sort(key=lambda s: (-s.score, s.name))
    top = scored[:max(0, limit)]
    by_person = shares(store) if top else {}
    for s in top:
        docs = by_person.get(s.person_id, {})
        vecs = doc_centroids(store, visible_doc_ids(store, docs, viewer))
        best = sorted(vecs, key=lambda d: -float(vecs[d] @ me))[:2]
        meta = store.documents(best)
        s.evidence = [{"title": meta[d]["title"], "url": meta[d]["url"]} for d in best if d in meta]
    return top
