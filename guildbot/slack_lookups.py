"""`/guild projects` and `/guild person` behind one small interface.

When the Guild facade has `projects(team=None, topic=None)` and `person(name_or_email)` (the
catalog), their answers are used, adapted field by field; until then, and whenever they find
nothing, a minimal fallback answers from what every index has: the configured sources grouped by
team, search hits grouped by source, and the people, identities and contributions tables.
"""
from __future__ import annotations

import difflib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from index.experts import describe
from index.people import norm_name

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KIND_LABEL = {"git": "repository", "github": "repository", "gitlab": "repository", "files": "wiki", "mediawiki": "wiki",
              "confluence": "wiki", "web": "website"}
ROLE_ORDER = {"owner": 0, "author": 1, "editor": 2, "committer": 3, "mentioned": 4}


@dataclass
class ProjectInfo:
    name: str
    team: str
    kind: str = ""
    url: str = ""
    documents: int = 0
    detail: str = ""


@dataclass
class DocRef:
    title: str
    url: str
    what: str = ""


@dataclass
class PersonInfo:
    name: str
    team: str = ""
    emails: list[str] = field(default_factory=list)
    slack_id: str = ""
    tz: str = ""
    documents: list[DocRef] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    person_id: str = ""


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        v = obj.get(n) if isinstance(obj, dict) else getattr(obj, n, None)
        if v not in (None, "", []):
            return v
    return default


# -- projects -------------------------------------------------------------------------------------
def _adapt_project(p: Any) -> ProjectInfo:
    """A project from the catalog (index/catalog.Project or alike) in the fields the message shows."""
    links = _get(p, "links", default=[]) or []
    url = _get(p, "url", default="") or next((l.get("url", "") for l in links if isinstance(l, dict) and l.get("url")), "")
    return ProjectInfo(name=str(_get(p, "name", "id", default="?")), team=str(_get(p, "team", default="")),
                       kind=str(_get(p, "kind", default="")), url=url, documents=int(_get(p, "documents", default=0) or 0),
                       detail=str(_get(p, "summary", "description", default="")))


def _source_project(guild: Any, source: Any, documents: int) -> ProjectInfo:
    rows = guild.store.query(
        "SELECT title, url, kind, path FROM documents WHERE source = ? "
        "ORDER BY (kind = 'readme') DESC, (lower(path) LIKE 'readme%') DESC, length(path) LIMIT 1", [source.name])
    url = rows[0]["url"] if rows and rows[0]["kind"] == "readme" else ""
    return ProjectInfo(source.name, source.team, KIND_LABEL.get(source.kind, source.kind), url, documents)


def projects(guild: Any, arg: str = "") -> tuple[str, list[tuple[str, str, list[ProjectInfo]]]]:
    """(title, [(team, slack channel, projects)]) for `/guild projects [team|topic]`."""
    arg = arg.strip()
    team = guild.config.team(arg) if arg else None
    channel = {t.name: t.slack_channel for t in guild.config.teams}
    title = f"Projects of {team.name}" if team else (f"Projects about {arg}" if arg else "Projects by team")
    found: list[ProjectInfo] = []
    if hasattr(guild, "projects"):
        found = [_adapt_project(p) for p in (guild.projects(team=team.name) if team else guild.projects(topic=arg or None))]
    if not found and arg and not team:
        found = _projects_about(guild, arg)
    elif not found:
        counts = {s["name"]: s["documents"] for s in guild.sources()}
        found = [_source_project(guild, s, counts.get(s.name, 0)) for s in guild.config.sources
                 if not team or s.team == team.name]
    groups: dict[str, list[ProjectInfo]] = defaultdict(list)
    for p in found:
        groups[p.team].append(p)
    order = [t.name for t in guild.config.teams]
    teams = sorted(groups, key=lambda t: order.index(t) if (t in order and not (arg and not team)) else len(order))
    return title, [(t, channel.get(t, ""), groups[t]) for t in teams]


def _projects_about(guild: Any, topic: str, limit: int = 8) -> list[ProjectInfo]:
    """Sources with documents about `topic`, best first, each with its best document."""
    best: dict[str, Any] = {}
    count: dict[str, int] = defaultdict(int)
    for h in guild.search(topic, limit=limit):
        best.setdefault(h.source, h)
        count[h.source] += 1
    kinds = {s.name: s.kind for s in guild.config.sources}
    return [ProjectInfo(src, h.team, KIND_LABEL.get(kinds.get(src, ""), kinds.get(src, "")), h.url, 0,
                        f"{count[src]} matching document{'s' if count[src] != 1 else ''}, best: {h.title}")
            for src, h in best.items()]


# -- people ---------------------------------------------------------------------------------------
def parse_person_query(text: str) -> tuple[str, str]:
    """('slack', 'U123') | ('email', 'a@b.c') | ('name', 'Ada Lovelace')."""
    text = text.strip()
    m = MENTION.match(text)
    if m:
        return "slack", m.group(1)
    text = text.lstrip("@").strip()
    if EMAIL.match(text):
        return "email", text.casefold()
    return "name", text


def _rows_to_people(guild: Any, rows: Iterable[dict]) -> list[PersonInfo]:
    out = []
    for r in rows:
        out.append(PersonInfo(name=r["name"] or "", team=r["team"] or "", emails=json.loads(r["emails"] or "[]"),
                              slack_id=r["slack_id"] or "", tz=r["tz"] or "", person_id=r["id"]))
    for p in out:
        _add_work(guild, p)
    return out


def _add_work(guild: Any, p: PersonInfo, limit: int = 8) -> None:
    rows = guild.store.query(
        """SELECT c.doc_id, c.role, SUM(c.count) AS n, MIN(c.first_at) AS first_at, MAX(c.last_at) AS last_at,
                  d.title, d.url, d.source
           FROM contributions c JOIN identities i ON i.id = c.identity_id JOIN documents d ON d.id = c.doc_id
           WHERE i.person_id = ? GROUP BY c.doc_id, c.role""", [p.person_id])
    best: dict[str, dict] = {}
    for r in rows:
        cur = best.get(r["doc_id"])
        if cur is None or (ROLE_ORDER.get(r["role"], 9), -(r["n"] or 0)) < (ROLE_ORDER.get(cur["role"], 9), -(cur["n"] or 0)):
            best[r["doc_id"]] = r
    ranked = sorted(best.values(), key=lambda r: (-(r["n"] or 0), ROLE_ORDER.get(r["role"], 9), r["last_at"] or ""))
    p.documents = [DocRef(r["title"], r["url"], describe(r["role"], r["n"] or 0, r["first_at"], r["last_at"]))
                   for r in ranked[:limit]]
    p.sources = sorted({r["source"] for r in rows})


def _person_rows(guild: Any, kind: str, value: str) -> list[dict]:
    store = guild.store
    if kind == "slack":
        rows = store.query("SELECT * FROM people WHERE slack_id = ?", [value])
        return rows or store.query("SELECT p.* FROM people p JOIN identities i ON i.person_id = p.id "
                                   "WHERE i.slack_id = ? GROUP BY p.id", [value])
    if kind == "email":
        return store.query("SELECT p.* FROM people p JOIN identities i ON i.person_id = p.id "
                           "WHERE lower(i.email) = ? GROUP BY p.id", [value])
    want = norm_name(value)
    if not want:
        return []
    people = store.query("SELECT * FROM people")
    exact = [r for r in people if norm_name(r["name"] or "") == want]
    if exact:
        return exact
    # any identity (git name, wiki user name) with that name
    ids = {r["person_id"] for r in store.query("SELECT name, username, person_id FROM identities WHERE person_id IS NOT NULL")
           if want in (norm_name(r["name"] or ""), norm_name(r["username"] or ""))}
    if ids:
        return [r for r in people if r["id"] in ids]
    words = set(want.split())
    return [r for r in people if words <= set(norm_name(r["name"] or "").split())]


def person(guild: Any, query: str, slack_profile: dict | None = None) -> tuple[list[PersonInfo], list[str]]:
    """(people matching `query`, name suggestions when nobody does). `slack_profile` (from
    users.info, for a mention of someone the index does not know by Slack id) adds their email
    and real name as further keys."""
    kind, value = parse_person_query(query)
    if hasattr(guild, "person"):
        try:
            rich = guild.person(value)
        except LookupError as e:  # several people match: the catalog's AmbiguousPerson names them
            rich = [r for r in (_rich_person(guild, c) for c in getattr(e, "candidates", [])[:5]) if r]
        if rich:
            return [_adapt_person(r) for r in (rich if isinstance(rich, list) else [rich])], []
    rows = _person_rows(guild, kind, value)
    if not rows and slack_profile:
        email = (slack_profile.get("email") or "").casefold()
        rows = _person_rows(guild, "email", email) if email else []
        for key in ("real_name", "display_name"):
            if not rows and slack_profile.get(key):
                rows = _person_rows(guild, "name", slack_profile[key])
    found = _rows_to_people(guild, rows[:5])
    if kind == "slack":
        for p in found:
            p.slack_id = p.slack_id or value
    if found:
        return found, []
    names = sorted({r["name"] for r in guild.store.query("SELECT name FROM people") if r["name"]})
    by_norm = {norm_name(n): n for n in names}
    close = difflib.get_close_matches(norm_name(value), list(by_norm), n=3, cutoff=0.6)
    return [], [by_norm[c] for c in close]


def _rich_person(guild: Any, row: Any) -> Any:
    try:
        return guild.person(_get(row, "id", "person_id", default=""))
    except LookupError:
        return None


def _doc_what(d: Any) -> str:
    what = _get(d, "what", default="")
    if what or not _get(d, "role"):
        return str(what or "")
    last = _get(d, "last_at", default=None)
    return describe(str(_get(d, "role")), int(_get(d, "count", default=0) or 0), _get(d, "first_at", default=None), last)


def _adapt_person(p: Any) -> PersonInfo:
    """A person from the catalog (index/profiles.Profile or alike) in the fields the message shows."""
    docs = _get(p, "documents", "recent", "evidence", default=[]) or []
    projects = _get(p, "projects", "sources", default=[]) or []
    return PersonInfo(
        name=str(_get(p, "name", default="?")), team=str(_get(p, "team", default="")),
        emails=list(_get(p, "emails", default=[]) or []), slack_id=str(_get(p, "slack_id", default="")),
        tz=str(_get(p, "tz", default="")), person_id=str(_get(p, "person_id", "id", default="")),
        documents=[DocRef(str(_get(d, "title", default="")), str(_get(d, "url", default="")), _doc_what(d))
                   for d in docs[:8]],
        sources=[s if isinstance(s, str) else str(_get(s, "name", default="?")) for s in projects][:20])
