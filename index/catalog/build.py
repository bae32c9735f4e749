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
- topics: catalog-info tags, forge topics and package keywords as written, then key phrases
  picked with the embedding model (index/catalog/content.py);
- status: dormant when the last activity is older than DORMANT_DAYS, else active.

A catalog entry is made of units (a repository, a space): a space joins the repository of its
normalised name or the one its pages mostly link to, and [[projects]] in guild.toml declares
any other grouping (`merge_units`). The tables are derived data, rebuilt after every crawl; the
costly parts (characteristic content, key phrases, pair affinities) only for changed projects.
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

from index.catalog.keywords import phrase_key
from index.embedding.docvectors import doc_centroids, mean_direction, to_blob
from index.catalog import pairs
from index.catalog import content
from index.people.resolve import identity_keys
from index.storage import catalog as catalog_db
from index.storage import people as people_db
from index.storage import project_content as content_db
from index.storage.sqlite.store import Store, now_iso
from index.people.visibility import Viewer

DORMANT_DAYS = 180
SPACE_KINDS = frozenset({"mediawiki", "files"})  # sources whose page paths group into project spaces
INDEX_NAMES = frozenset({"index", "readme", "home", "main", "overview", "start", "about"})
SUMMARY_CHARS = 400
TOP_CONTRIBUTORS = 5
OWNER_CONTRIBUTORS = 3
MAX_TOPICS = 12
CATCH_ALL = frozenset({"*", "/*", "**", "/**", "/"})

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


DOC_WORDS = frozenset({"docs", "doc", "documentation", "wiki", "site", "space", "handbook", "pages", "manual"})


def norm_project_name(name: str) -> str:
    """'LightFM', 'lightfm', 'light-fm' and 'lightfm-docs' all give 'lightfm'."""
    words = re.findall(r"[a-z0-9]+", (name or "").casefold())
    return "".join([w for w in words if w not in DOC_WORDS] or words)


@dataclass(frozen=True)
class DeclaredProject:
    """guild.toml [[projects]]: these sources (source names or unit ids like 'wiki/Ranker') are one project."""
    name: str
    sources: tuple[str, ...]


def merge_units(units: Iterable[ProjectKey], declared: Iterable[DeclaredProject] = (),
                mentions: Mapping[str, Mapping[str, int]] | None = None) -> dict[ProjectKey, list[ProjectKey]]:
    """Catalog entries from units (repositories and spaces): entry key -> its units, main unit first.

    A declared project takes the units it names; otherwise a space joins the one repository with
    its normalised name, else the one repository that most of its pages link to
    (`mentions`: space unit id -> {repository unit id: pages mentioning its URL}); spaces of one
    normalised name without a repository form one entry.
    """
    units = sorted(set(units), key=lambda k: (k.kind != "repository", k.id))
    taken: set[ProjectKey] = set()
    out: dict[ProjectKey, list[ProjectKey]] = {}
    for decl in declared:
        wanted = {s.casefold() for s in decl.sources}
        members = [u for u in units if u not in taken and (u.source.casefold() in wanted or u.id.casefold() in wanted)]
        if not members:
            continue
        taken |= set(members)
        main = members[0]
        out[ProjectKey(decl.name, decl.name, main.kind, main.source)] = members
    free = [u for u in units if u not in taken]
    by_name: dict[str, list[ProjectKey]] = defaultdict(list)
    for u in free:
        by_name[norm_project_name(u.name)].append(u)
    repos = {u.id: u for u in free if u.kind == "repository"}
    joined: dict[ProjectKey, list[ProjectKey]] = {u: [u] for u in repos.values()}
    for name, group in by_name.items():
        same = [u for u in group if u.kind == "repository"]
        spaces = [u for u in group if u.kind != "repository"]
        if len(same) == 1:
            joined[same[0]] += spaces
        elif not same and spaces:
            joined[spaces[0]] = list(spaces)
        else:  # several repositories share the name: leave the spaces alone
            joined.update({s: [s] for s in spaces})
    for space in [k for k, v in joined.items() if k.kind != "repository" and len(v) == 1]:
        links = (mentions or {}).get(space.id) or {}
        best = sorted(((n, r) for r, n in links.items() if r in repos), reverse=True)
        if best and (len(best) == 1 or best[0][0] >= 2 * best[1][0]):
            joined[repos[best[0][1]]].append(joined.pop(space)[0])
    out.update(joined)
    return out


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
    sources: list[dict[str, str]] = field(default_factory=list)  # the units it is made of: {"id", "name", "kind", "source"}
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


_JSON_FIELDS = ("sources", "topics", "topic_sources", "owners", "owner_people", "contributors", "links", "provenance")


def _from_row(row: Mapping[str, Any], now: datetime | None = None) -> Project:
    values = {k: row[k] for k in Project.__dataclass_fields__ if k in row}
    for k in _JSON_FIELDS:
        values[k] = json.loads(row[k] or ("{}" if k in ("topic_sources", "provenance") else "[]"))
    values["status"] = status_of(row["last_activity"], now)
    return Project(**values)


def ensure_schema(store: Store) -> None:
    """Nothing to do: the store has every catalog table from the moment it opens (index/storage/sqlite/schema.py,
    on Postgres its migrations)."""


# -- building -------------------------------------------------------------------------------------
class _People:
    """Identity keys -> person, to resolve owners such as '@ada' or 'user:ada' to people."""

    def __init__(self, store: Store):
        self.by_key: dict[str, set[str]] = defaultdict(set)
        for r in people_db.resolved_identities(store):
            for _, key in identity_keys(r):
                self.by_key[key].add(r["person_id"])
        self.names = {r["id"]: r["name"] for r in people_db.people_names(store)}
        self.name_words = frozenset(w for n in self.names.values() for w in re.findall(r"[a-z]{3,}", (n or "").casefold()))

    def resolve(self, owner: str) -> str | None:
        ident = owner_identity(owner)
        if ident is None:
            return None
        found: set[str] = set()
        for _, key in identity_keys(ident):
            found |= self.by_key.get(key, set())
        return self.names.get(next(iter(found))) if len(found) == 1 else None


def _contributors(store: Store, doc_ids: list[str]) -> list[dict[str, Any]]:
    totals = catalog_db.person_totals(store, doc_ids)
    if not totals:
        return []
    people = people_db.people_teams_of(store, list(totals))
    ranked = sorted((p for p in totals if p in people), key=lambda p: (-totals[p], people[p]["name"]))
    return [{"person_id": p, "name": people[p]["name"], "team": people[p]["team"] or "", "count": int(totals[p])}
            for p in ranked[:TOP_CONTRIBUTORS]]


def _activity(store: Store, docs: list[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    ids = [d["id"] for d in docs]
    dates = [d["updated_at"] for d in docs if d.get("updated_at")]
    dates += catalog_db.contribution_dates(store, ids)
    norm = sorted(datetime.fromisoformat(x).astimezone(timezone.utc).isoformat(timespec="seconds") for x in dates)
    return (norm[0], norm[-1]) if norm else (None, None)


def _merge_topics(sources: dict[str, list[str]]) -> list[str]:
    """Topics as written, in source order; a form of one already listed ('matrix factorization'
    after 'matrix-factorization') is skipped."""
    seen: dict[str, str] = {}
    for values in sources.values():
        for v in values:
            seen.setdefault(phrase_key(v), v)
    return list(seen.values())[:MAX_TOPICS]


def _main_doc(key: ProjectKey, units: list[ProjectKey], groups: Mapping[ProjectKey, list[Mapping[str, Any]]],
              prefixes: Mapping[str, str], centroids: Mapping[str, np.ndarray]) -> Mapping[str, Any] | None:
    """The entry's introduction: its main unit's main page, else the first unit that has one."""
    for u in units:
        docs = groups[u]
        centroid = mean_direction([centroids[d["id"]] for d in docs if d["id"] in centroids])
        main = main_page(u, docs, prefixes.get(u.source, ""), centroids, centroid)
        if main is not None:
            return main
    return None


def build_project(store: Store, key: ProjectKey, units: list[ProjectKey], groups: Mapping[ProjectKey, list[Mapping[str, Any]]],
                  prefixes: Mapping[str, str], centroids: Mapping[str, np.ndarray], people: _People) -> tuple[Project, np.ndarray | None]:
    """One catalog entry's record and centroid from its units' documents (topics come later)."""
    docs = [d for u in units for d in groups[u]]
    main_docs = groups[units[0]]
    team = Counter(d["team"] for d in main_docs if d.get("team")).most_common(1)
    centroid = mean_direction([centroids[d["id"]] for d in docs if d["id"] in centroids])
    main = _main_doc(key, units, groups, prefixes, centroids)
    if main is not None and "text" not in main:
        main = dict(main, text=catalog_db.document_text(store, main["id"]))
    meta = dict((main or {}).get("metadata") or {})
    info = meta.get("catalog_info") if isinstance(meta.get("catalog_info"), dict) else {}
    info_path = meta.get("catalog_info_path", "catalog-info.yaml")
    p = Project(id=key.id, name=key.name, kind=key.kind, source=key.source, team=team[0][0] if team else "",
                documents=len(docs), main_doc=(main or {}).get("id", ""),
                sources=[{"id": u.id, "name": u.name, "kind": u.kind, "source": u.source} for u in units])
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

    # topics as written; key phrases are added by build_catalog
    if info.get("tags"):
        p.topic_sources[f"{info_path} tags"] = [str(t) for t in info["tags"]]
    if meta.get("topics"):
        p.topic_sources["repository topics"] = [str(t) for t in meta["topics"]]
    if meta.get("keywords"):
        p.topic_sources[f"{meta.get('keywords_path', 'package')} keywords"] = [str(k) for k in meta["keywords"]]

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


def _repo_urls(groups: Mapping[ProjectKey, list[Mapping[str, Any]]]) -> dict[str, str]:
    """repository unit id -> its URL without scheme or '.git' ('github.com/acme/ranker')."""
    out = {}
    for u, docs in groups.items():
        if u.kind != "repository":
            continue
        for d in docs:
            url = str((d.get("metadata") or {}).get("repo_url") or "")
            core = re.sub(r"^[a-z+]+://|^git@|\.git$|/+$", "", url.strip()).replace(":", "/")
            if core.count("/") >= 2:  # a host and a path: local clones say nothing
                out[u.id] = core
                break
    return out


def _mentions(store: Store, groups: Mapping[ProjectKey, list[Mapping[str, Any]]]) -> dict[str, dict[str, int]]:
    """space unit id -> {repository unit id: pages that mention the repository's URL}, where at least
    a fifth of the space's pages (and two) do."""
    urls = _repo_urls(groups)
    if not urls:
        return {}
    unit_of = {d["id"]: u for u, docs in groups.items() if u.kind != "repository" for d in docs}
    found: dict[str, Counter] = defaultdict(Counter)
    for repo, url in urls.items():
        for doc_id in catalog_db.documents_mentioning(store, url.casefold()):
            if doc_id in unit_of:
                found[unit_of[doc_id].id][repo] += 1
    sizes = {u.id: len(docs) for u, docs in groups.items()}
    return {s: {r: n for r, n in c.items() if n >= max(2, sizes[s] / 5)} for s, c in found.items()}


def build_catalog(store: Store, source_kinds: Mapping[str, str] | None = None, prefixes: Mapping[str, str] | None = None,
                  centroids: Mapping[str, np.ndarray] | None = None, declared: Iterable[DeclaredProject] = (),
                  embed: content.Embed | None = None, model: str = "") -> list[Project]:
    """Rebuild the catalog from the stored documents. Returns the projects.

    The records (owners, contributors, summary, status) are cheap and rebuilt every time; each
    project's characteristic content and key phrases (index/catalog/content.py) only when its
    documents changed; overlaps (index/catalog/overlaps.py) only for the pairs that involve a changed
    project.
    """
    ensure_schema(store)
    kinds = dict(source_kinds or {})
    for name, kind in catalog_db.source_kinds(store).items():
        kinds.setdefault(name, kind)
    prefixes = dict(prefixes or {})
    docs = [{**r, "metadata": json.loads(r["metadata"] or "{}")}  # history units are evidence for `who` only
            for r in catalog_db.catalog_documents(store)]
    groups = group_documents(docs, kinds, prefixes)
    entries = merge_units(groups, list(declared), _mentions(store, groups))
    centroids = centroids if centroids is not None else doc_centroids(store)
    people = _People(store)
    built = [build_project(store, key, units, groups, prefixes, centroids, people)
             for key, units in sorted(entries.items(), key=lambda kv: kv[0].id)]

    centre = content.centre_of([vec for _, vec in built])
    raw = store.get_meta("catalog_centre")
    old_centre = np.frombuffer(bytes.fromhex(raw), dtype="float32") if raw else None
    moved = centre is None or old_centre is None or len(old_centre) != len(centre) or float(old_centre @ centre) < content.CENTRE_DRIFT
    use_centre = centre if moved else old_centre
    stored = content.fingerprints(store)
    model = model if embed is not None else "no-model"
    by_id = entries_by_id(entries)
    fresh = []  # computed outside any transaction: embedding phrases is slow and readers must not wait
    for p, _ in built:
        members = [d for u in by_id[p.id] for d in groups[u]]
        own = [p.team, *p.team.split(), *(u.source for u in by_id[p.id]), *(u.name for u in by_id[p.id])]
        fp = content.fingerprint(members, f"{model}\x00{p.summary}\x00{p.topic_sources}\x00{own}")
        if not moved and stored.get(p.id) == fp:
            continue
        written = [t for values in p.topic_sources.values() for t in values]
        fresh.append((content.build_content(store, p.id, p.name, members, p.summary, use_centre, embed, p.main_doc,
                                            written, model, own, people.name_words), fp))
    changed = [c.project_id for c, _ in fresh]
    with store.transaction():
        for c, fp in fresh:
            content.save(store, c, fp)
        live = [p.id for p, _ in built]
        content_db.keep_only(store, live)
        if moved and centre is not None:
            store.set_meta("catalog_centre", to_blob(centre).hex())
    contents = content.load_all(store)
    for p, _ in built:
        c = contents.get(p.id)
        if c and c.key_phrases:
            p.topic_sources["key phrases"] = c.key_phrases
        p.topics = _merge_topics(p.topic_sources)
    stamp = now_iso()
    rows = []
    for p, vec in built:
        row = asdict(p)
        for k in _JSON_FIELDS:
            row[k] = json.dumps(row[k], ensure_ascii=False)
        row.update(vector=to_blob(vec), built_at=stamp)
        rows.append(row)
    placed = [(d["id"], key.id, u.id) for key, units in entries.items() for u in units for d in groups[u]]
    with store.transaction():
        catalog_db.replace_projects(store, rows, placed)
    pairs.update(store, changed, all_changed=moved)
    return [p for p, _ in built]


def entries_by_id(entries: Mapping[ProjectKey, list[ProjectKey]]) -> dict[str, list[ProjectKey]]:
    return {k.id: v for k, v in entries.items()}


# -- reading --------------------------------------------------------------------------------------
def _topic_match(p: Project, topic: str) -> bool:
    q = topic.strip().casefold()
    return any(q in t.casefold() for t in p.topics)


def list_projects(store: Store, team: str | None = None, topic: str | None = None,
                  now: datetime | None = None, viewer: Viewer | None = None) -> list[Project]:
    """Catalog projects, by team then name; `team` matches exactly, `topic` within any topic (case-insensitive);
    only projects of sources `viewer` may see."""
    ensure_schema(store)
    out = [_from_row(r, now) for r in catalog_db.project_rows(store, None if viewer is None else viewer.sources)]
    if team:
        out = [p for p in out if p.team.casefold() == team.strip().casefold()]
    if topic:
        out = [p for p in out if _topic_match(p, topic)]
    return out


def get_project(store: Store, name: str, now: datetime | None = None, viewer: Viewer | None = None) -> Project | None:
    """A project by id, else by name (case-insensitive); None when nothing matches or `viewer` may not see it."""
    ensure_schema(store)
    row = catalog_db.project_row(store, name, None if viewer is None else viewer.sources)
    return _from_row(row, now) if row else None


# -- the catalog's project of a document, for experts and the other readers ------------------------
def doc_projects(store: Store, doc_ids: Iterable[str]) -> dict[str, str]:
    """doc id -> catalog project id. A document the catalog leaves out (commits and folders are
    evidence for `who` only) or has not placed yet (before the first rebuild) belongs to the project
    holding most of its source's placed documents, else to its source."""
    ensure_schema(store)
    ids = list(dict.fromkeys(doc_ids))
    out: dict[str, str] = {}
    unplaced: dict[str, str] = {}  # doc id -> source
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        out.update(catalog_db.placed_projects(store, part))
        missing = [d for d in part if d not in out]
        if missing:
            unplaced.update(catalog_db.document_sources(store, missing))
    if unplaced:
        owner = catalog_db.main_projects(store, sorted(set(unplaced.values())))
        out.update((d, owner.get(src, src)) for d, src in unplaced.items())
    return out


def project_members(store: Store, project_id: str) -> list[dict[str, Any]]:
    """Each person's contributions to a whole project ({"person_id", "n", "first_at", "last_at"}):
    per repository its README's repository-level counts, per space the sum over its pages; then
    summed over the project's units."""
    rows = catalog_db.member_contributions(store, project_id)
    with_readme = {r["unit"] for r in rows if r["readme"]}
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["unit"] in with_readme and not r["readme"]:
            continue
        m = out.setdefault(r["person_id"], {"person_id": r["person_id"], "n": 0, "first_at": None, "last_at": None})
        m["n"] += r["n"] or 0
        m["first_at"] = min(x for x in (m["first_at"], r["first_at"]) if x) if (m["first_at"] or r["first_at"]) else None
        m["last_at"] = max(x for x in (m["last_at"], r["last_at"]) if x) if (m["last_at"] or r["last_at"]) else None
    return list(out.values())


def project_intro(store: Store, project_id: str) -> dict[str, Any]:
    """{"name", "doc_id", "title", "url", "source", "repository"} of the page that introduces a
    project: the catalog's main document, else (not placed yet) the source's README or first page."""
    ensure_schema(store)
    m = catalog_db.main_page(store, project_id)
    if m is not None:
        return {"name": m["name"], "doc_id": m["id"] or "", "title": m["title"] or m["name"], "url": m["url"] or "",
                "source": m["source"] or "", "repository": m["kind"] == "repository"}
    r: Mapping[str, Any] = catalog_db.first_page(store, project_id) or \
        {"id": "", "title": project_id, "url": "", "source": project_id, "kind": ""}
    return {"name": project_id, "doc_id": r["id"], "title": r["title"], "url": r["url"], "source": r["source"],
            "repository": r["kind"] == "readme"}
