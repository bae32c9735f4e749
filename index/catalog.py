"""The project catalog: every repository and every wiki project space becomes a project.

Grouping (which documents make a project):
- a document whose metadata names a `repo` (git, GitHub, GitLab) belongs to that repository;
- in a `mediawiki` or `files` source, pages are grouped by the first path segment below the
  source's prefix: "Home Feed/Ranker/Experiments" (prefix "Home Feed/") and "ranker/notes.md"
  belong to project "Ranker"/"ranker"; a top-level page named like a project folder ("Home
  Feed/Ranker", "ranker.md") is that project's main page; other top-level pages form the
  source's own space, named after the source;
- in a `confluence` source each Confluence space (metadata `space`) is one project space;
- any other source (web, ...) is one project space named after the source.

Each field says where it came from (`provenance`):
- summary: catalog-info.yaml description, else the README's first section, else the forge's
  repository description, else the first section of the space's main page (the page named like
  the project or index/home/overview, else the page nearest the space's centroid);
- owners: the catch-all rule of CODEOWNERS, else catalog-info.yaml spec.owner, else the top
  contributors; individual owners are resolved to people where an identity matches;
- topics: catalog-info tags, forge topics and package keywords as written, then TF-IDF
  keywords of the project's documents against the other projects';
- status: dormant when the last activity is older than DORMANT_DAYS, else active.

The table is derived data, rebuilt from the documents after every crawl.
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any, Iterable, Mapping

import numpy as np

from .docvectors import doc_centroids, from_blob, mean_direction, to_blob
from .keywords import document_frequency, file_words, fold, terms, tokens, top_keywords, written_form
from .people import identity_keys
from .store import Store, now_iso
from .visibility import Viewer, source_filter

DORMANT_DAYS = 180
SPACE_KINDS = frozenset({"mediawiki", "files"})  # sources whose page paths group into project spaces
INDEX_NAMES = frozenset({"index", "readme", "home", "main", "overview", "start", "about"})
SUMMARY_CHARS = 400
TOP_CONTRIBUTORS = 5
OWNER_CONTRIBUTORS = 3
KEYWORDS = 8
MAX_TOPICS = 12
README_WEIGHT = 3.0  # the README's words count this many times in a repository's keywords
CATCH_ALL = frozenset({"*", "/*", "**", "/**", "/"})

SCHEMA = {
    "projects": """CREATE TABLE projects (
        id TEXT PRIMARY KEY, name TEXT, kind TEXT, source TEXT, team TEXT, summary TEXT, topics TEXT,
        topic_sources TEXT, owners TEXT, owner_people TEXT, contributors TEXT, links TEXT, first_activity TEXT,
        last_activity TEXT, status TEXT, documents INTEGER, main_doc TEXT, provenance TEXT, vector BLOB,
        built_at TEXT)""",
    "project_documents": """CREATE TABLE project_documents (
        doc_id TEXT PRIMARY KEY, project_id TEXT NOT NULL)""",
}


# -- pure helpers --------------------------------------------------------------------------------
def parse_codeowners(text: str) -> list[tuple[str, list[str]]]:
    """(pattern, owners) rules of a CODEOWNERS file, in file order; comments and sections skipped."""
    rules = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line or line.startswith("[") or line.startswith("^["):  # GitLab section headers
            continue
        pattern, *owners = re.split(r"(?<!\\)\s+", line)  # "my\ dir" is one pattern
        rules.append((pattern.replace("\\ ", " "), owners))
    return rules


def codeowners_owners(rules: list[tuple[str, list[str]]]) -> list[str]:
    """The project's owners: the last catch-all rule's; without one, every owner, most rules first."""
    catch_all = [owners for pattern, owners in rules if pattern in CATCH_ALL]
    if catch_all:
        return list(dict.fromkeys(catch_all[-1]))
    counts: Counter = Counter()
    order: dict[str, int] = {}
    for _, owners in rules:
        for o in owners:
            counts[o] += 1
            order.setdefault(o, len(order))
    return sorted(counts, key=lambda o: (-counts[o], order[o]))


def owner_identity(owner: str) -> dict[str, str] | None:
    """An identity to look a single-person owner up by; None for teams and groups.

    '@ada' and 'user:ada' / 'user:default/ada' are people, 'ada@corp.com' too; '@org/team',
    'group:...' and a bare Backstage name (a group by default) are teams.
    """
    o = owner.strip()
    if o.startswith("@"):
        return None if "/" in o else {"username": o[1:]}
    if "@" in o:
        return {"email": o.casefold()}
    kind, _, rest = o.partition(":")
    if rest and kind.casefold() == "user":
        return {"username": rest.rsplit("/", 1)[-1]}
    return None


def status_of(last_activity: str | None, now: datetime | None = None, dormant_days: int = DORMANT_DAYS) -> str:
    """'active', 'dormant' (no activity in `dormant_days`) or 'unknown' (no dates at all)."""
    if not last_activity:
        return "unknown"
    try:
        last = datetime.fromisoformat(last_activity)
    except ValueError:
        return "unknown"
    if last.tzinfo is None:
        last = last.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return "dormant" if (now - last).days > dormant_days else "active"


def _is_heading(paragraph: str) -> bool:
    return "\n" not in paragraph and len(paragraph) < 80 and not re.search(r"[.!?:;]\s*$", paragraph) \
        and len(paragraph.split()) <= 8


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if end > limit // 3:
        return cut[:end + 1]
    return cut.rsplit(" ", 1)[0].rstrip(",;:") + "…"


def first_section(text: str, title: str = "", limit: int = SUMMARY_CHARS) -> str:
    """The prose before the first heading after the title, whitespace squeezed, about `limit` chars."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    if paragraphs and title and paragraphs[0].casefold() == title.strip().casefold():
        paragraphs = paragraphs[1:]
    out: list[str] = []
    for p in paragraphs:
        if _is_heading(p):
            if out:
                break
            continue
        out.append(re.sub(r"\s+", " ", p))
        if sum(len(x) for x in out) >= limit:
            break
    return _clip(" ".join(out), limit)


def space_segments(path: str, prefix: str = "") -> list[str]:
    """A page path below the source's prefix, as segments."""
    p = path or ""
    if prefix and p.casefold().startswith(prefix.casefold()):
        p = p[len(prefix):]
    return [s for s in p.strip("/").split("/") if s.strip()]


def _stem(segment: str) -> str:
    return PurePosixPath(segment).stem if PurePosixPath(segment).suffix.lower() in (".md", ".rst", ".txt", ".html", ".htm", ".markdown") else segment


@dataclass(frozen=True)
class ProjectKey:
    id: str
    name: str
    kind: str  # "repository" or "space"
    source: str


def group_documents(docs: Iterable[Mapping[str, Any]], source_kinds: Mapping[str, str],
                    prefixes: Mapping[str, str]) -> dict[ProjectKey, list[Mapping[str, Any]]]:
    """Documents (with `id, source, path, metadata` as a dict) grouped into projects; see the module doc."""
    groups: dict[ProjectKey, list] = defaultdict(list)
    top_level: list[tuple[Mapping[str, Any], str]] = []
    folders: dict[str, dict[str, ProjectKey]] = defaultdict(dict)  # source -> casefolded name -> key
    for d in docs:
        meta, source = d.get("metadata") or {}, d["source"]
        repo = meta.get("repo")
        if repo:
            groups[ProjectKey(source if repo == source else f"{source}/{repo}", str(repo), "repository", source)].append(d)
            continue
        if source_kinds.get(source) == "confluence" and meta.get("space"):
            space = str(meta["space"])
            groups[ProjectKey(f"{source}/{space}", space, "space", source)].append(d)
            continue
        if source_kinds.get(source) not in SPACE_KINDS:
            groups[ProjectKey(source, source, "space", source)].append(d)
            continue
        path = d.get("path") or ""
        if meta.get("namespace") not in (None, 0) and ":" in path:
            path = path.split(":", 1)[1]  # 'Help:Home Feed/Ranker' -> 'Home Feed/Ranker'
        segs = space_segments(path, prefixes.get(source, ""))
        if len(segs) > 1:
            key = folders[source].setdefault(segs[0].casefold(), ProjectKey(f"{source}/{segs[0]}", segs[0], "space", source))
            groups[key].append(d)
        else:
            top_level.append((d, _stem(segs[0]) if segs else ""))
    for d, stem in top_level:
        key = folders[d["source"]].get(stem.casefold()) or ProjectKey(d["source"], d["source"], "space", d["source"])
        groups[key].append(d)
    return dict(groups)


def main_page(key: ProjectKey, docs: list[Mapping[str, Any]], prefix: str,
              centroids: Mapping[str, np.ndarray], centroid: np.ndarray | None) -> Mapping[str, Any] | None:
    """The document that introduces a project: its README, its named page, an index page, else the most typical."""
    readme = [d for d in docs if d.get("kind") == "readme"]
    if readme:
        return readme[0]
    depth = 0 if key.id == key.source else 1
    named, index = [], []
    for d in docs:
        segs = space_segments(d.get("path") or "", prefix)
        if not segs:
            continue
        stem = _stem(segs[-1]).casefold()
        if len(segs) == 1 and depth == 1 and stem == key.name.casefold():
            named.append(d)
        elif len(segs) == depth + 1 and stem in INDEX_NAMES:
            index.append(d)
    if named or index:
        return (named or index)[0]
    prose = [d for d in docs if d.get("kind") != "code_path"] or list(docs)
    if centroid is not None:
        scored = [(float(centroids[d["id"]] @ centroid), d) for d in prose if d["id"] in centroids]
        if scored:
            return max(scored, key=lambda x: (x[0], x[1]["id"]))[1]
    return min(prose, key=lambda d: d.get("path") or d["id"]) if prose else None


# -- the Project record -----------------------------------------------------------------------------
@dataclass
class Project:
    id: str
    name: str
    kind: str
    source: str
    team: str
    summary: str = ""
    topics: list[str] = field(default_factory=list)
    topic_sources: dict[str, list[str]] = field(default_factory=dict)
    owners: list[str] = field(default_factory=list)
    owner_people: list[str] = field(default_factory=list)
    contributors: list[dict[str, Any]] = field(default_factory=list)  # {"person_id", "name", "team", "count"}
    links: list[dict[str, str]] = field(default_factory=list)
    first_activity: str | None = None
    last_activity: str | None = None
    status: str = "unknown"
    documents: int = 0
    main_doc: str = ""
    provenance: dict[str, str] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        d = asdict(self)
        d["contributors"] = [{k: c[k] for k in ("name", "team", "count")} for c in self.contributors]
        return d


_JSON_FIELDS = ("topics", "topic_sources", "owners", "owner_people", "contributors", "links", "provenance")


def _from_row(row: Mapping[str, Any], now: datetime | None = None) -> Project:
    values = {k: row[k] for k in Project.__dataclass_fields__ if k in row}
    for k in _JSON_FIELDS:
        values[k] = json.loads(row[k] or ("{}" if k in ("topic_sources", "provenance") else "[]"))
    values["status"] = status_of(row["last_activity"], now)
    return Project(**values)


def ensure_schema(store: Store) -> None:
    """Create the catalog tables; recreate one whose columns differ (it only holds derived data)."""
    for table, ddl in SCHEMA.items():
        wanted = re.findall(r"(?:\(|,)\s*(\w+) ", ddl)
        have = [r[1] for r in store.conn.execute(f"PRAGMA table_info([{table}])")]
        if have and have != wanted:
            store.conn.execute(f"DROP TABLE [{table}]")
            have = []
        if not have:
            store.conn.execute(ddl)


# -- building -------------------------------------------------------------------------------------
class _People:
    """Identity keys -> person, to resolve owners such as '@ada' or 'user:ada' to people."""

    def __init__(self, store: Store):
        self.by_key: dict[str, set[str]] = defaultdict(set)
        for r in store.query("SELECT kind, name, email, username, person_id FROM identities WHERE person_id IS NOT NULL"):
            for _, key in identity_keys(r):
                self.by_key[key].add(r["person_id"])
        self.names = {r["id"]: r["name"] for r in store.query("SELECT id, name FROM people")}

    def resolve(self, owner: str) -> str | None:
        ident = owner_identity(owner)
        if ident is None:
            return None
        found: set[str] = set()
        for _, key in identity_keys(ident):
            found |= self.by_key.get(key, set())
        return self.names.get(next(iter(found))) if len(found) == 1 else None


def _contributors(store: Store, doc_ids: list[str]) -> list[dict[str, Any]]:
    totals: Counter = Counter()
    for i in range(0, len(doc_ids), 500):
        part = doc_ids[i:i + 500]
        for r in store.query(f"""SELECT i.person_id, sum(c.count) AS n FROM contributions c
                                 JOIN identities i ON i.id = c.identity_id
                                 WHERE c.doc_id IN ({','.join('?' * len(part))}) AND i.person_id IS NOT NULL
                                 GROUP BY i.person_id""", part):
            totals[r["person_id"]] += r["n"] or 0
    if not totals:
        return []
    people = {r["id"]: r for r in store.query(
        f"SELECT id, name, team FROM people WHERE id IN ({','.join('?' * len(totals))})", list(totals))}
    ranked = sorted((p for p in totals if p in people), key=lambda p: (-totals[p], people[p]["name"]))
    return [{"person_id": p, "name": people[p]["name"], "team": people[p]["team"] or "", "count": int(totals[p])}
            for p in ranked[:TOP_CONTRIBUTORS]]


def _activity(store: Store, docs: list[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    ids = [d["id"] for d in docs]
    dates = [d["updated_at"] for d in docs if d.get("updated_at")]
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        row = store.conn.execute(f"SELECT min(first_at), max(last_at), min(last_at) FROM contributions "
                                 f"WHERE doc_id IN ({','.join('?' * len(part))})", part).fetchone()
        dates += [x for x in row if x]
    norm = sorted(datetime.fromisoformat(x).astimezone(timezone.utc).isoformat(timespec="seconds") for x in dates)
    return (norm[0], norm[-1]) if norm else (None, None)


def _project_terms(docs: list[Mapping[str, Any]], surface: Counter) -> Counter:
    counts: Counter = Counter()
    for d in docs:
        weight = README_WEIGHT if d.get("kind") == "readme" else 1.0
        # a code path counts by its file name: its folders mostly repeat the project's name
        text = f"{d.get('title') or ''}\n{d.get('text') or ''}"
        if d.get("kind") == "code_path":
            text = file_words(d.get("title") or "")
        for term, n in terms(text, surface).items():
            counts[term] += n * weight
    return counts


def project_keywords(name: str, counts: Counter, surface: Counter, df: Counter, n_groups: int,
                     limit: int = KEYWORDS) -> list[str]:
    """TF-IDF keywords of a project, as written, without the project's own name."""
    own = " ".join(fold(w) for w in tokens(name) if w)
    counts = Counter(counts)
    if " " in own and own in counts:  # 'feed ranker' says nothing new, nor does 'feed' inside it
        inside = counts.pop(own)
        for w in own.split():
            counts[w] -= inside
    best = top_keywords(counts, df, n_groups, limit + 1)
    return [written_form(k.term, surface) for k in best if k.term != own][:limit]


def _merge_topics(sources: dict[str, list[str]]) -> list[str]:
    seen: dict[str, str] = {}
    for values in sources.values():
        for v in values:
            seen.setdefault(v.casefold(), v)
    return list(seen.values())[:MAX_TOPICS]


def build_project(store: Store, key: ProjectKey, docs: list[Mapping[str, Any]], prefix: str,
                  centroids: Mapping[str, np.ndarray], keywords: list[str], people: _People) -> tuple[Project, np.ndarray | None]:
    """One project's record and centroid from its documents."""
    team = Counter(d["team"] for d in docs if d.get("team")).most_common(1)
    centroid = mean_direction([centroids[d["id"]] for d in docs if d["id"] in centroids])
    main = main_page(key, docs, prefix, centroids, centroid)
    meta = dict((main or {}).get("metadata") or {})
    info = meta.get("catalog_info") if isinstance(meta.get("catalog_info"), dict) else {}
    info_path = meta.get("catalog_info_path", "catalog-info.yaml")
    p = Project(id=key.id, name=key.name, kind=key.kind, source=key.source, team=team[0][0] if team else "",
                documents=len(docs), main_doc=(main or {}).get("id", ""))
    where = (main or {}).get("path") or (main or {}).get("title") or ""

    # summary
    section = first_section((main or {}).get("text") or "", (main or {}).get("title") or "") if main else ""
    if info.get("description"):
        p.summary, p.provenance["summary"] = info["description"], f"{info_path} metadata.description"
    elif section and main.get("kind") == "readme":
        p.summary, p.provenance["summary"] = section, where
    elif meta.get("description"):
        p.summary, p.provenance["summary"] = str(meta["description"]), "repository description"
    elif section:
        p.summary, p.provenance["summary"] = section, f"page {where}"

    # owners
    contributors = _contributors(store, [d["id"] for d in docs])
    p.contributors = contributors
    codeowners = codeowners_owners(parse_codeowners(meta["codeowners"])) if meta.get("codeowners") else []
    if codeowners:
        p.owners, p.provenance["owners"] = codeowners, meta.get("codeowners_path", "CODEOWNERS")
    elif info.get("owner"):
        p.owners, p.provenance["owners"] = [info["owner"]], f"{info_path} spec.owner"
    elif contributors:
        p.owners = [c["name"] for c in contributors[:OWNER_CONTRIBUTORS]]
        p.provenance["owners"] = "top contributors"
    if p.provenance.get("owners") == "top contributors":
        p.owner_people = list(p.owners)
    else:
        p.owner_people = list(dict.fromkeys(n for n in (people.resolve(o) for o in p.owners) if n))

    # topics
    sources: dict[str, list[str]] = {}
    if info.get("tags"):
        sources[f"{info_path} tags"] = [str(t) for t in info["tags"]]
    if meta.get("topics"):
        sources["repository topics"] = [str(t) for t in meta["topics"]]
    if meta.get("keywords"):
        sources[f"{meta.get('keywords_path', 'package')} keywords"] = [str(k) for k in meta["keywords"]]
    if keywords:
        sources["keywords"] = keywords
    p.topic_sources, p.topics = sources, _merge_topics(sources)

    # links
    links = []
    if meta.get("repo_url"):
        links.append({"title": "repository", "url": meta["repo_url"]})
    if main and main.get("url"):
        links.append({"title": main.get("title") or where, "url": main["url"]})
    links += [{"title": l["title"], "url": l["url"]} for l in info.get("links", []) if isinstance(l, dict)]
    p.links = list({l["url"]: l for l in links}.values())

    p.first_activity, p.last_activity = _activity(store, docs)
    p.status = status_of(p.last_activity)
    return p, centroid


def build_catalog(store: Store, source_kinds: Mapping[str, str] | None = None, prefixes: Mapping[str, str] | None = None,
                  centroids: Mapping[str, np.ndarray] | None = None) -> list[Project]:
    """Rebuild the projects tables from the stored documents. Returns the projects."""
    ensure_schema(store)
    kinds = dict(source_kinds or {})
    for r in store.query("SELECT name, kind FROM sources"):
        kinds.setdefault(r["name"], r["kind"])
    prefixes = dict(prefixes or {})
    docs = []
    for r in store.query("SELECT id, source, team, kind, title, url, path, text, updated_at, metadata FROM documents "
                         "WHERE kind NOT IN ('commit', 'folder')"):  # history units are evidence for `who` only
        r["metadata"] = json.loads(r["metadata"] or "{}")
        docs.append(r)
    groups = group_documents(docs, kinds, prefixes)
    centroids = centroids if centroids is not None else doc_centroids(store)
    surfaces = {key: Counter() for key in groups}
    counts = {key: _project_terms(members, surfaces[key]) for key, members in groups.items()}
    df, n = document_frequency(counts.values())
    people = _People(store)
    built = []
    for key in sorted(groups, key=lambda k: k.id):
        words = project_keywords(key.name, counts[key], surfaces[key], df, n)
        built.append(build_project(store, key, groups[key], prefixes.get(key.source, ""), centroids, words, people))
    stamp = now_iso()
    with store.transaction():
        store.conn.execute("DELETE FROM projects")
        store.conn.execute("DELETE FROM project_documents")
        for p, vec in built:
            row = asdict(p)
            for k in _JSON_FIELDS:
                row[k] = json.dumps(row[k], ensure_ascii=False)
            row.update(vector=to_blob(vec), built_at=stamp)
            cols = list(row)
            store.conn.execute(f"INSERT INTO projects ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                               [row[c] for c in cols])
        for key, members in groups.items():
            store.conn.executemany("INSERT OR REPLACE INTO project_documents (doc_id, project_id) VALUES (?, ?)",
                                   [(d["id"], key.id) for d in members])
    return [p for p, _ in built]


# -- reading --------------------------------------------------------------------------------------
def _topic_match(p: Project, topic: str) -> bool:
    q = topic.strip().casefold()
    return any(q in t.casefold() for t in p.topics)


def list_projects(store: Store, team: str | None = None, topic: str | None = None,
                  now: datetime | None = None, viewer: Viewer | None = None) -> list[Project]:
    """Catalog projects, by team then name; `team` matches exactly, `topic` within any topic (case-insensitive);
    only projects of sources `viewer` may see."""
    ensure_schema(store)
    where, params = source_filter(viewer, "source")
    out = [_from_row(r, now) for r in store.query(f"SELECT * FROM projects WHERE 1{where} ORDER BY team, name", params)]
    if team:
        out = [p for p in out if p.team.casefold() == team.strip().casefold()]
    if topic:
        out = [p for p in out if _topic_match(p, topic)]
    return out


def get_project(store: Store, name: str, now: datetime | None = None, viewer: Viewer | None = None) -> Project | None:
    """A project by id, else by name (case-insensitive); None when nothing matches or `viewer` may not see it."""
    ensure_schema(store)
    where, params = source_filter(viewer, "source")
    rows = store.query(f"SELECT * FROM projects WHERE id = ?{where}", [name, *params]) or \
        store.query(f"SELECT * FROM projects WHERE lower(name) = lower(?){where} ORDER BY id", [name.strip(), *params])
    return _from_row(rows[0], now) if rows else None


def project_vectors(store: Store) -> dict[str, np.ndarray]:
    """project id -> centroid direction."""
    ensure_schema(store)
    out = {}
    for r in store.query("SELECT id, vector FROM projects"):
        v = from_blob(r["vector"])
        if v is not None:
            out[r["id"]] = v
    return out
