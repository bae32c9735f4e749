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
from typing import Any, Callable, Iterable

from connectors.common.stopwords import QUESTION_STOPWORDS

from index.catalog.build import doc_projects, project_intro, project_members
from index.expertise.modules import UNIT_WEIGHT, commit_paths, illustrates, module_votes, path_weight, names_part, names_project, named_by_initials, without_name
from index.storage import people as people_store
from index.storage.sqlite.store import UNIT_KINDS, Store
from index.people.visibility import Viewer, only_visible

ROLE_WEIGHT = {"author": 1.0, "owner": 1.0, "editor": 0.8, "committer": 0.7, "mentioned": 0.3}
VOTING_DOCS = 60
SCORE_POWER = 16  # votes as (score / best score) ** power; near-ties stay ties, one-retriever hits fall away
RECENCY_HALF_LIFE_DAYS = 2 * 365
RECENCY_FLOOR = 0.6
NAMED_OTHERS = 0.2  # mass kept by the projects a question does not name when it names one
NAMED_PART_LEAD = 0.5  # a named file or folder weighs at least this share of the best-matching one
PROJECT_WEIGHT = 0.75  # share of project votes in the final score
TOP_PROJECTS = 3  # projects that pass their votes on
PROJECT_FLOOR = 0.25
PROJECT_DOCS = 3  # documents per project that count towards its mass  # ... if their mass is at least this share of the heaviest project's

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


def describe(role: str, count: int, first: str | None, last: str | None, in_repository: bool = True) -> str:
    """'author: 3 commits, 2021–2023' for a file in a repository, 'editor: 5 edits, 2024' for a page."""
    unit = ("commit" if in_repository else "edit") if role in ("author", "committer", "editor") else "contribution"
    years = sorted({y[:4] for y in (first, last) if y})
    span = f", {years[0]}–{years[-1]}" if len(years) == 2 and years[0] != years[-1] else (f", {years[0]}" if years else "")
    return f"{role}: {count} {unit}{'s' if count != 1 else ''}{span}"


def is_part(doc: dict[str, Any]) -> bool:
    """A document that stands for one part of a repository (a file, a folder, a commit), not the whole of it.
    Prose at the repository's root (a README, DESCRIPTION.md, CHANGELOG.md) speaks for the whole."""
    meta = doc.get("metadata") or ""
    root_prose = doc.get("kind") == "doc" and "/" not in (doc.get("path") or "")
    return doc.get("kind") != "readme" and not root_prose and ('"repo"' in meta if isinstance(meta, str) else "repo" in meta)


PAGE_WHOLE = 0.1  # a wiki page speaks for the whole project this much against the README: a page about
# one part ("the GLMM encoder") is no sign of a question about the whole
PART_QUESTION = 0.5  # a question is about a part when its parts outweigh its whole (grain above one half)
WHOLE_WEIGHT = 4.0  # the README speaks for the whole project: a weak README match still says "the project"


def _grain(parts: list[float], whole: list[float]) -> float:
    """How much a project's match lies in its parts rather than in its whole (README, wiki pages):
    1 when only parts match, 1/5 when the best parts and the README match alike. Each side counts its
    PROJECT_DOCS best matches, as a project's mass does: evidence concentrated on a few parts (three
    commits and the file they changed) outweighs one README hit, while a single part matching in
    passing does not."""
    top = lambda xs: sum(sorted(xs, reverse=True)[:PROJECT_DOCS])  # noqa: E731
    p, w = top(parts), WHOLE_WEIGHT * top(whole)
    return p / (p + w) if p + w > 0 else 0.0


def _project_grain(ds: list[str], doc_weight: dict[str, float], docs: dict[str, dict[str, Any]]) -> float:
    """A project's grain (_grain) over its matching documents `ds`: its parts against its README and pages."""
    parts = [d for d in ds if is_part(docs[d])]
    return _grain([doc_weight[d] for d in parts],
                  [doc_weight[d] * (1.0 if docs[d]["kind"] == "readme" else PAGE_WHOLE) for d in ds if d not in parts])


def prose(doc: dict[str, Any], of_code: bool) -> bool:
    """A page about a project rather than the project: a wiki page, or a doc under the docs or examples folder of a
    repository whose matching parts reach its code (`of_code`); in a repository of documents they are the project."""
    return doc.get("kind") == "wiki_page" or (of_code and doc.get("kind") == "doc" and illustrates(doc.get("path") or ""))


def reaches_code(doc: dict[str, Any]) -> bool:
    """A file, folder or commit of a repository's code (not its docs, examples or images)."""
    if doc.get("kind") == "commit":
        return any(path_weight(p) == 1.0 for p in commit_paths(doc))
    return doc.get("kind") in ("code_path", "folder") and path_weight(doc.get("path") or "") == 1.0


def _chosen(mass: dict[str, float]) -> list[str]:
    """The projects that pass their votes on: the TOP_PROJECTS heaviest, each at least PROJECT_FLOOR of the heaviest."""
    heaviest = max(mass.values())
    return [pr for pr in sorted(mass, key=lambda k: -mass[k])[:TOP_PROJECTS] if mass[pr] >= PROJECT_FLOOR * heaviest]


def _question_grain(mass: dict[str, float], per_project: dict[str, list[str]], doc_weight: dict[str, float],
                    docs: dict[str, dict[str, Any]]) -> float:
    """How much the question is about a part rather than a whole: the chosen projects' grains, weighted by their mass."""
    chosen = _chosen(mass)
    return sum(_project_grain(per_project[k], doc_weight, docs) * mass[k] for k in chosen) / sum(mass[k] for k in chosen)


@dataclass
class Match:
    """The best documents of a question, weighed for voting, with the projects they belong to."""
    doc_weight: dict[str, float]  # doc id -> (score / best score) ** SCORE_POWER
    docs: dict[str, dict[str, Any]]
    units: set[str]  # commits and folders: module evidence only
    project_of: dict[str, str]  # the catalog's definition of a project
    per_project: dict[str, list[str]]
    of_code: set[str]  # projects whose matching parts reach their code (not only docs, examples, images)

    @classmethod
    def of(cls, store: Store, doc_scores: dict[str, float], voting_docs: int = VOTING_DOCS) -> "Match | None":
        top = sorted(doc_scores.items(), key=lambda kv: -kv[1])[:voting_docs]
        if not top:
            return None
        best = top[0][1]
        doc_weight = {d: (s / best) ** SCORE_POWER for d, s in top}
        docs = store.documents(d for d, _ in top)
        project_of = doc_projects(store, docs)
        per_project: dict[str, list[str]] = defaultdict(list)
        for d in doc_weight:
            if d in docs and d in project_of:
                per_project[project_of[d]].append(d)
        of_code = {project_of[d] for d in doc_weight if d in docs and d in project_of and reaches_code(docs[d])}
        return cls(doc_weight, docs, {d for d, r in docs.items() if r["kind"] in UNIT_KINDS}, project_of, dict(per_project), of_code)

    def mass(self, page: float) -> dict[str, float]:
        """How much each project matches: its PROJECT_DOCS best documents, so a big project does not win by size
        alone. A matching commit counts as the one event it is (UNIT_WEIGHT), so a project whose own history says
        the question's words is not outweighed by another's prose; a folder (the package root holds everything)
        counts for no project; a wiki page or a docs page of a repository whose code matches counts `page`: it
        tells which project a question is about as far as the question is about a whole (every project has its
        repository's parts to match a part question with, not every team keeps a wiki)."""
        def kind(d: str) -> float:
            if self.docs[d]["kind"] == "commit":
                return UNIT_WEIGHT["commit"]
            if d in self.units:
                return 0.0
            return page if prose(self.docs[d], self.project_of[d] in self.of_code) else 1.0
        out = {scope: sum(sorted((self.doc_weight[d] * kind(d) for d in ds), reverse=True)[:PROJECT_DOCS])
               for scope, ds in self.per_project.items()}
        return {scope: m for scope, m in out.items() if m > 0}

    def grain(self) -> float:
        """How much the question is about a part rather than a whole (_question_grain); 0 when nothing matches."""
        mass = self.mass(1.0)
        return _question_grain(mass, self.per_project, self.doc_weight, self.docs) if mass else 0.0


def named_projects(store: Store, topic: str, scopes: Iterable[str]) -> dict[str, str]:
    """The projects among `scopes` the question names ('... in tslearn'), with their names."""
    names = {scope: project_intro(store, scope)["name"] for scope in scopes}
    return {scope: name for scope, name in names.items() if names_project(topic, name)}


def beyond_the_name(store: Store, topic: str, doc_scores: dict[str, float],
                    search: Callable[[str], dict[str, float]]) -> dict[str, float]:
    """The documents that answer what a question asks of the project it names: for 'support for constraints in
    Bayesian optimization', those matching 'support for constraints', asked again with `search`. The name
    picks the project (rank_experts keeps to the projects a topic names) but, searched with the rest, it
    matches the project's README and reads as a question about the whole; the other words find the part.
    Unchanged (`doc_scores`) when no project among the best matches is named, when nothing but the name is
    asked ('who knows LightFM?'), when the rest's best match is not the named project's, or when the rest
    is about a whole rather than a part."""
    top = sorted(doc_scores, key=lambda d: -doc_scores[d])[:VOTING_DOCS]
    named = named_projects(store, topic, set(doc_projects(store, store.documents(top)).values()))
    if not named:
        return doc_scores
    rest = topic
    for name in named.values():
        rest = without_name(rest, name)
    if not any(w not in QUESTION_STOPWORDS and len(w) > 2 for w in rest.split()):
        return doc_scores
    again = search(rest)
    match = Match.of(store, again)
    if match is None or match.project_of.get(max(again, key=again.__getitem__)) not in named:
        return doc_scores  # in 'Bayesian optimization of hyperparameters' the name is the technique asked about: the rest leads elsewhere
    # the rest says which part of the project is asked about; a rest about the whole ('collaborative filtering on
    # implicit feedback' without 'implicit') asks what the question as written asks
    return again if match.grain() > PART_QUESTION else doc_scores


def rank_experts(store: Store, doc_scores: dict[str, float], limit: int = 10, team: str | None = None,
                 voting_docs: int = VOTING_DOCS, now: datetime | None = None,
                 project_weight: float = PROJECT_WEIGHT, viewer: Viewer | None = None, topic: str = "") -> list[Expert]:
    """People ranked by the votes of the best documents in `doc_scores` (doc id -> fused score).

    Two kinds of votes are mixed: document votes (each document's contributors, by their share of
    it) and project votes (the projects those documents belong to, passed on to the people who
    built them) — the second answers "who built X" rather than "who touched one page about X".
    A project passes its votes on at the grain of the match: to the builders of the module the
    matching parts (files, folders, commits) locate (index/expertise/modules.py) as far as the question
    matches parts, by commits to the whole project as far as it matches the whole (README, wiki
    pages). The same grain moves the mix: as far as the question is about parts, the document votes
    (the editors of matching pages, the committers of a matching README) only break ties, and a question
    about a part is asked of the projects whose parts match (pages weigh nothing in their mass). A `topic`
    naming a project keeps the others to NAMED_OTHERS of their mass. Only documents `viewer` may see
    vote (a project is one source).
    """
    initialled = named_by_initials(store, topic, doc_scores) if topic and doc_scores else {}
    doc_scores = {**doc_scores, **initialled}  # a part the question names by its initials matches as well as its repository's best hit
    doc_scores = only_visible(store, doc_scores, viewer)
    now = now or datetime.now(timezone.utc)
    match = Match.of(store, doc_scores, voting_docs)
    if match is None:
        return []
    doc_weight, docs, units, project_of, per_project = match.doc_weight, match.docs, match.units, match.project_of, match.per_project
    rows = people_store.person_contributions(store, list(doc_weight))
    totals: dict[str, float] = defaultdict(float)
    for r in rows:
        totals[r["doc_id"]] += r["count"] or 0
    doc_votes: dict[str, float] = defaultdict(float)
    proof: dict[str, dict[str, list]] = defaultdict(dict)
    for r in rows:
        share = (r["count"] or 0) / totals[r["doc_id"]] if totals[r["doc_id"]] else 0.0
        fresh = recency(r["last_at"], now)
        vote = 0.0 if r["doc_id"] in units else doc_weight[r["doc_id"]] * share * ROLE_WEIGHT.get(r["role"], 0.5) * fresh
        pid = r["person_id"]
        doc_votes[pid] += vote
        p = proof[pid].setdefault(r["doc_id"], [0.0, r["role"], 0, r["first_at"], r["last_at"]])
        p[0] += vote
        p[2] += r["count"] or 0

    mass = full = match.mass(1.0)
    if mass:
        asked_of_part = _question_grain(mass, per_project, doc_weight, docs)
        # a question about a part is asked of the projects whose parts match (pages weigh nothing then); below
        # PART_QUESTION the pages tell which project as far as the question is about a whole
        mass = (match.mass(0.0) if asked_of_part > PART_QUESTION else {}) or match.mass(1.0 - asked_of_part)
    project_votes: dict[str, float] = defaultdict(float)  # by commits to the whole project
    part_votes: dict[str, float] = defaultdict(float)  # by commits to the matching parts
    overall = 0.0
    project_proof: dict[str, list] = {}
    module_proof: dict[str, list] = {}
    if mass and topic and NAMED_OTHERS < 1:  # a question naming a project is about that project
        named = set(named_projects(store, topic, mass))
        # ... or one of its files or folders by name ('the target encoder': target_encoder.py), if that part is
        # among the question's best-matching files and folders ('feature selection' names many a file in passing)
        files = {d: doc_weight[d] for d in doc_weight if d in docs and docs[d]["kind"] in ("code_path", "folder")}
        leaders = {d for d, w in files.items() if w >= NAMED_PART_LEAD * max(files.values(), default=0.0)}
        named = named or {project_of[d] for d in leaders if d in project_of and project_of[d] in mass
                          and (d in initialled or names_part(topic, docs[d]["path"] or ""))}
        if named:
            top_mass, top_full = max(mass.values()), max(full.values())
            mass = {scope: top_mass if scope in named else m * NAMED_OTHERS for scope, m in mass.items()}
            full = {scope: top_full if scope in named else m * NAMED_OTHERS for scope, m in full.items()}
    grains: dict[str, float] = {}
    parts_of: dict[str, list[str]] = {}
    if mass and project_weight > 0:
        chosen = [k for k in _chosen(full) if k in mass] or _chosen(mass)  # which projects: by all their evidence; how much: by mass
        heaviest = max(mass[k] for k in chosen)
        for scope in chosen:
            parts_of[scope] = [d for d in per_project[scope] if is_part(docs[d])]
            grains[scope] = _project_grain(per_project[scope], doc_weight, docs)
        overall = sum(grains[k] * mass[k] for k in chosen) / sum(mass[k] for k in chosen)
        for scope in chosen:
            weight, grain, parts = mass[scope] / heaviest, grains[scope], parts_of[scope]
            # a project matching as a whole beside a question about another's part passes on its members' votes
            # only as far as the question as a whole is about wholes
            whole = 1 - max(grain, overall)
            if whole > 0:
                members = project_members(store, scope)
                total = sum(r["n"] or 0 for r in members)
                for r in members:
                    vote = weight * whole * ((r["n"] or 0) / total if total else 0) * recency(r["last_at"], now)
                    project_votes[r["person_id"]] += vote
                    if vote > project_proof.get(r["person_id"], [0])[0]:
                        project_proof[r["person_id"]] = [vote, scope, r["n"], r["first_at"], r["last_at"]]
            if grain > 0:
                votes = module_votes(store, parts, doc_weight, docs, lambda ts: recency(ts, now))
                for pid, (vote, best_doc, count, first, last, size) in votes.items():
                    vote *= weight * grain
                    part_votes[pid] += vote
                    if vote > module_proof.get(pid, [0])[0]:
                        module_proof[pid] = [vote, best_doc, count, first, last, size]
        project_weight = project_weight + (1 - project_weight) * overall  # for a part, page editors only break ties
    score = _mix(doc_votes, project_votes, part_votes, project_weight, overall)
    if not score:
        return []
    people = people_store.people_by_id(store, score)
    ranked = [pid for pid in sorted(score, key=lambda p: -score[p]) if pid in people and
              (not team or (people[pid]["team"] or "").casefold() == team.casefold())][:limit]
    evidence_docs = store.documents({d for pid in ranked for d in proof.get(pid, {})} |
                                    {module_proof[pid][1] for pid in ranked if pid in module_proof})
    out = []
    for pid in ranked:
        p = people[pid]
        # the part they changed and the project they built, the larger vote first
        module = module_proof.get(pid)
        evidence = [(module[0], _part_evidence(evidence_docs[module[1]], *module))] if module and module[1] in evidence_docs else []
        if pid in project_proof:
            evidence.append((project_proof[pid][0], _project_evidence(store, *project_proof[pid])))
        evidence = [e for _, e in sorted(evidence, key=lambda x: -x[0])]
        for doc_id, (w, role, count, first, last) in sorted(proof.get(pid, {}).items(), key=lambda kv: -kv[1][0]):
            d = evidence_docs.get(doc_id)
            if d and len(evidence) < 3 and all(e.url != d["url"] for e in evidence if e):
                evidence.append(Evidence(d["title"], d["url"], doc_id, d["source"], describe(role, count, first, last, '"repo"' in (d["metadata"] or "")), w))
        out.append(Expert(pid, p["name"], p["team"] or "", score[pid], json.loads(p["emails"] or "[]"),
                          json.loads(p["aliases"] or "[]"), p["slack_id"] or "", [e for e in evidence if e]))
    return out


def _mix(doc_votes: dict[str, float], project_votes: dict[str, float], part_votes: dict[str, float],
         project_weight: float, grain: float) -> dict[str, float]:
    """Each kind of vote scaled to a maximum of 1, then mixed. For a question about a part (`grain`, the
    question's concentration on parts, above PART_QUESTION) the votes of the part's own history lead and
    the rest (repository activity, page editors) only breaks ties: it reorders people whose part votes
    lie within 1 - grain of each other, so the more concentrated the match, the narrower the tie."""
    if grain <= PART_QUESTION or not any(part_votes.values()):
        whole = {pid: project_votes.get(pid, 0.0) + part_votes.get(pid, 0.0) for pid in set(project_votes) | set(part_votes)}
        return _blend(doc_votes, whole, project_weight)
    rest, part = _blend(doc_votes, project_votes, project_weight), _scaled(part_votes)
    top_rest = max(rest.values(), default=0) or 1.0
    band = 1 - grain
    return {pid: (part.get(pid, 0.0) + band * rest.get(pid, 0.0) / top_rest) / (1 + band) for pid in set(rest) | set(part)}


def _scaled(votes: dict[str, float]) -> dict[str, float]:
    top = max(votes.values(), default=0) or 1.0
    return {pid: v / top for pid, v in votes.items()}


def _blend(doc_votes: dict[str, float], project_votes: dict[str, float], project_weight: float) -> dict[str, float]:
    """Document and project votes, each scaled to a maximum of 1, mixed by `project_weight`."""
    docs, projects = _scaled(doc_votes), _scaled(project_votes)
    return {pid: (1 - project_weight) * docs.get(pid, 0) + project_weight * projects.get(pid, 0)
            for pid in set(doc_votes) | set(project_votes)}


def _part_evidence(doc: dict[str, Any], vote: float, doc_id: str, count: int, first: str | None,
                   last: str | None, size: int = 0) -> Evidence:
    """'14 of 22 commits to skopt/optimizer/, 2016–2017' for a folder or file (their share of its history
    is the evidence); the subject for a commit."""
    if doc["kind"] == "commit":
        return Evidence(doc["title"], doc["url"], doc_id, doc["source"], f"1 commit{_span(first, last)}", vote)
    share = f"{count} of {size} commits" if size > count else f"{count} commit{'s' if count != 1 else ''}"
    what = f"{share} to {doc['path'] or doc['title']}{_span(first, last)}"
    return Evidence(doc["source"], doc["url"], doc_id, doc["source"], what, vote)


def _span(first: str | None, last: str | None) -> str:
    years = sorted({y[:4] for y in (first, last) if y})
    return f", {years[0]}–{years[-1]}" if len(years) == 2 and years[0] != years[-1] else (f", {years[0]}" if years else "")


def _project_evidence(store: Store, vote: float, project_id: str, count: int, first: str | None,
                      last: str | None) -> Evidence | None:
    intro = project_intro(store, project_id)
    unit = "commit" if intro["repository"] else "edit"  # a repository counts commits; a wiki space, edits
    what = f"{count} {unit}{'s' if count != 1 else ''} to {intro['name']}{_span(first, last)}"
    title = intro["title"] if intro["repository"] else intro["name"]
    return Evidence(title, intro["url"], intro["doc_id"], intro["source"], what, vote)
