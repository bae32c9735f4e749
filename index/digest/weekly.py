"""The weekly digest's content, computed from the store: what changed in one ISO week.

Weeks are ISO weeks in a configured time zone: Monday 00:00 to the next Monday 00:00 local time,
turned into UTC bounds (a week with a DST change is 167 or 169 hours long). Every date in the
store is UTC, so an item belongs to a week when `start <= date < end`.

Sections (each a list of plain dicts, ready for JSON and for rendering):
- projects: new (first activity this week), came back (activity after more than DORMANT_DAYS of
  silence), went dormant (its DORMANT_DAYS ran out this week), changed (other activity);
- overlaps: cross-team project pairs at or above a score, new unless this view announced them in
  an earlier week (`digest_overlaps`);
- documents: new pages and edited pages (not code paths) with the week's authors; a page is new
  when it was first seen this week (`doc_first_seen`, noted after every crawl, so an edited wiki
  page whose connector knows only its last date is not new again);
- crossings: people whose first contribution to another team's project fell in the week;
- gaps: weak answers from the query log (index/retrieval/querylog.py), with people who might know;
- syncs: upcoming cross-team syncs (filled by the syncs feature; empty until then).

A team's view keeps that team's items and the overlaps and crossings that involve it.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Container, Iterable, Sequence
from zoneinfo import ZoneInfo

from index.retrieval import querylog
from index.catalog.build import DORMANT_DAYS, list_projects
from index.storage import consent as consent_store
from index.storage import digest as digest_store
from index.storage.sqlite.store import UNIT_KINDS, Store, iso, now_iso

WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")
DOC_KINDS_SKIPPED = ("code_path", *sorted(UNIT_KINDS))  # file names and history units are not pages
OVERLAP_PEOPLE = 3


# -- weeks ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Week:
    label: str           # "2026-W49"
    start: datetime      # UTC, inclusive
    end: datetime        # UTC, exclusive
    tz: str

    def contains(self, moment: datetime | str | None) -> bool:
        m = as_utc(moment)
        return m is not None and self.start <= m < self.end


def as_utc(moment: datetime | str | None) -> datetime | None:
    if moment is None or moment == "":
        return None
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def parse_week(label: str) -> tuple[int, int]:
    """'2026-W49' -> (2026, 49); ValueError naming the right form otherwise."""
    m = WEEK.match((label or "").strip().upper())
    if not m:
        raise ValueError(f"{label!r} is not an ISO week; write it like 2026-W49")
    year, week = int(m[1]), int(m[2])
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no ISO week {week}") from None
    return year, week


def week_bounds(label: str, tz: str = "UTC") -> Week:
    """The UTC bounds of an ISO week in a time zone."""
    year, week = parse_week(label)
    zone = ZoneInfo(tz)
    monday = date.fromisocalendar(year, week, 1)
    start = datetime.combine(monday, time(0), zone).astimezone(timezone.utc)
    end = datetime.combine(monday + timedelta(days=7), time(0), zone).astimezone(timezone.utc)
    return Week(f"{year}-W{week:02d}", start, end, tz)


def week_of(moment: datetime, tz: str = "UTC") -> str:
    """The ISO week a moment falls in, as seen in a time zone."""
    year, week, _ = as_utc(moment).astimezone(ZoneInfo(tz)).isocalendar()
    return f"{year}-W{week:02d}"


def last_week(now: datetime | None = None, tz: str = "UTC") -> str:
    """The ISO week that ended most recently in the zone: the digest's default."""
    local = as_utc(now or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz))
    return week_of(local - timedelta(days=7), tz)


# -- the data ------------------------------------------------------------------------------------
@dataclass
class DigestData:
    week: str
    start: str
    end: str
    tz: str
    team: str = ""       # "" for the guild-wide view
    projects: list[dict[str, Any]] = field(default_factory=list)
    overlaps: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    crossings: list[dict[str, Any]] = field(default_factory=list)
    syncs: list[dict[str, Any]] = field(default_factory=list)
    at_risk: list[dict[str, Any]] = field(default_factory=list)  # a team's projects that hang on one person who is gone
    questions: int = 0   # questions asked this week (all of them, for the gaps line)

    SECTIONS = ("overlaps", "gaps", "projects", "documents", "crossings", "syncs", "at_risk")

    @property
    def view(self) -> str:
        return f"team:{self.team}" if self.team else "guild"

    def empty(self) -> bool:
        return not any(getattr(self, s) for s in self.SECTIONS)

    def public(self) -> dict[str, Any]:
        return asdict(self)


def _people(store: Store) -> dict[str, digest_store.PersonBrief]:
    """The people a digest may name: never one who opted out or is paused."""
    away = consent_store.unavailable(store)
    return {pid: p for pid, p in digest_store.people_brief(store).items() if pid not in away}


def _person(row: digest_store.PersonBrief) -> dict[str, str]:
    return {"name": row["name"], "team": row["team"] or "", "slack_id": row["slack_id"] or ""}


def _visible(sources: Container[str] | None, source: str) -> bool:
    return sources is None or source in sources


def _in_view(team: str, *teams: str) -> bool:
    return not team or any((t or "").casefold() == team.casefold() for t in teams)


# -- projects ----------------------------------------------------------------------------------------
def classify_activity(dates: Iterable[datetime], week: Week, dormant_days: int = DORMANT_DAYS) -> str | None:
    """'new', 'back', 'changed', 'dormant' (went dormant this week) or None. Pure."""
    ds = sorted(d for d in dates if d is not None)
    if not ds:
        return None
    during = [d for d in ds if week.start <= d < week.end]
    before = [d for d in ds if d < week.start]
    if during:
        if not before:
            return "new"
        return "back" if (during[0] - before[-1]).days > dormant_days else "changed"
    if before:  # later activity does not undo that it went dormant in this week
        flips = before[-1] + timedelta(days=dormant_days + 1)  # status_of: dormant when more than N days old
        if week.start <= flips < week.end:
            return "dormant"
    return None


def project_changes(store: Store, week: Week, team: str = "", sources: Container[str] | None = None) -> list[dict[str, Any]]:
    projects = {p.id: p for p in list_projects(store) if _in_view(team, p.team) and _visible(sources, p.source)}
    dates: dict[str, list[datetime]] = {}
    active: dict[str, set[str]] = {}
    for r in digest_store.project_contributions(store):
        if r["project_id"] not in projects:
            continue
        first, last = as_utc(r["first_at"]), as_utc(r["last_at"])
        dates.setdefault(r["project_id"], []).extend(d for d in (first, last) if d)
        if r["person_id"] and (week.contains(first) or week.contains(last)):
            active.setdefault(r["project_id"], set()).add(r["person_id"])
    for r in digest_store.project_document_dates(store):
        if r["project_id"] in projects and as_utc(r["updated_at"]):
            dates.setdefault(r["project_id"], []).append(as_utc(r["updated_at"]))
    people = _people(store)
    order = {"new": 0, "back": 1, "dormant": 2, "changed": 3}
    out = []
    for pid, p in projects.items():
        change = classify_activity(dates.get(pid, []), week)
        if not change:
            continue
        who = sorted((people[x] for x in active.get(pid, ()) if x in people), key=lambda r: r["name"])
        out.append({"project": p.name, "id": p.id, "team": p.team, "change": change, "summary": p.summary,
                    "url": p.links[0]["url"] if p.links else "", "last_activity": p.last_activity,
                    "people": [_person(r) for r in who]})
    out.sort(key=lambda x: (order[x["change"]], -len(x["people"]), x["team"], x["project"]))
    return out


# -- documents ---------------------------------------------------------------------------------------
def note_first_seen(store: Store) -> None:
    """Remember when each document was first seen: its earliest known date, or now. Runs after a crawl."""
    with store.transaction():
        digest_store.note_first_seen(store, now_iso())


def notable_documents(store: Store, week: Week, team: str = "", sources: Container[str] | None = None) -> list[dict[str, Any]]:
    """New and edited pages of the week with their authors: new first, larger first."""
    s, e = iso(week.start), iso(week.end)  # stored dates are UTC ISO text: they compare as strings
    touched_ids = digest_store.touched_doc_ids(store, s, e)
    docs: dict[str, digest_store.DigestDocument] = {}
    contribs: dict[str, list[digest_store.DigestContribution]] = {}
    for r in digest_store.documents_seen(store, touched_ids):
        if r["kind"] not in DOC_KINDS_SKIPPED and _in_view(team, r["team"]) and _visible(sources, r["source"]):
            docs[r["id"]] = r
    for c in digest_store.contributions_to(store, touched_ids):
        if c["doc_id"] in docs:
            contribs.setdefault(c["doc_id"], []).append(c)
    people = _people(store)
    out = []
    for doc_id, d in docs.items():
        if d["kind"] == "readme" and not week.contains(d["updated_at"]):
            continue  # a README carries its whole repository's committers: only its own change counts
        cs = contribs.get(doc_id, [])
        known = [as_utc(x) for c in cs for x in (c["first_at"], c["last_at"])] + [as_utc(d["updated_at"])]
        known = [x for x in known if x]
        seen = as_utc(d["first_seen"])
        first = min([x for x in (*known, seen) if x], default=None)
        touched = [c for c in cs if week.contains(c["last_at"]) or week.contains(c["first_at"])]
        if first is not None and week.contains(first):
            change, size = "new", d["size"] or 0
        elif touched or week.contains(d["updated_at"]):
            change = "edited"
            # lines are exact for contributors whose whole history with the page lies in this week
            size = sum((c["lines"] or 0) if week.contains(c["first_at"]) else (c["count"] or 0) for c in touched)
        else:
            continue
        authors = {c["person_id"] for c in (cs if change == "new" else touched) if c["person_id"] in people}
        out.append({"title": d["title"], "url": d["url"], "team": d["team"], "source": d["source"], "change": change,
                    "size": size, "authors": [_person(people[a]) for a in sorted(authors, key=lambda a: people[a]["name"])]})
    out.sort(key=lambda x: (x["change"] != "new", -x["size"], x["title"] or ""))
    return out


# -- people crossing into other teams' projects -----------------------------------------------------------
def cross_team_starts(store: Store, week: Week, team: str = "", sources: Container[str] | None = None) -> list[dict[str, Any]]:
    """People whose first contribution to another team's project fell in the week."""
    projects = {p.id: p for p in list_projects(store) if _visible(sources, p.source)}
    people = _people(store)
    first: dict[tuple[str, str], datetime] = {}
    for r in digest_store.first_project_contributions(store):
        when = as_utc(r["first_at"]) or as_utc(r["last_at"])
        key = (r["person_id"], r["project_id"])
        if when and (key not in first or when < first[key]):
            first[key] = when
    out = []
    for (person_id, project_id), when in first.items():
        p, who = projects.get(project_id), people.get(person_id)
        if not p or not who or not week.contains(when) or not who["team"] or not p.team:
            continue
        if who["team"].casefold() == p.team.casefold() or not _in_view(team, who["team"], p.team):
            continue
        out.append({"person": _person(who), "project": p.name, "project_team": p.team,
                    "url": p.links[0]["url"] if p.links else "", "since": iso(when)})
    out.sort(key=lambda x: (x["since"], x["person"]["name"]))
    return out


# -- overlaps --------------------------------------------------------------------------------------------
def pair_key(overlap: Any) -> str:
    return "|".join(sorted((overlap.a.id, overlap.b.id)))


def announced_before(store: Store, view: str, week: str) -> set[str]:
    """Overlap pairs this view's digests announced in weeks before `week`."""
    return digest_store.announced_before(store, view, week)


def mark_announced(store: Store, view: str, week: str, pairs: Iterable[str]) -> None:
    """Remember that a delivered digest announced these pairs (the earliest week wins)."""
    with store.transaction():
        digest_store.mark_announced(store, view, week, pairs)


def overlap_items(store: Store, overlaps: Sequence[Any], week: Week, team: str = "",
                  min_score: float = 0.45, sources: Container[str] | None = None) -> list[dict[str, Any]]:
    """Overlaps (index.catalog.overlaps.Overlap) worth announcing in this view this week, with people's Slack ids."""
    view = f"team:{team}" if team else "guild"
    seen = announced_before(store, view, week.label)
    people = _people(store)
    out = []
    for o in overlaps:
        if o.score < min_score or pair_key(o) in seen or not _in_view(team, o.a.team, o.b.team) \
                or not (_visible(sources, o.a.source) and _visible(sources, o.b.source)) \
                or not (_begun_by(o.a, week) and _begun_by(o.b, week)):
            continue
        item = o.public()
        for side, project in (("a", o.a), ("b", o.b)):
            everyone = [_person(people[c["person_id"]]) if c.get("person_id") in people
                        else {"name": c["name"], "team": c.get("team", ""), "slack_id": ""} for c in project.contributors]
            own = [p for p in everyone if _in_view(project.team, p["team"])]  # the team's own people speak for it
            item[side]["people"] = (own or everyone)[:OVERLAP_PEOPLE]
            item[side]["url"] = project.links[0]["url"] if project.links else ""
        item["pair"] = pair_key(o)
        out.append(item)
    return out


def _begun_by(project: Any, week: Week) -> bool:
    """Whether the project had any activity before the week ended: a digest of an earlier week never
    announces an overlap with work that did not exist yet."""
    first = getattr(project, "first_activity", None)
    return not first or first < iso(week.end)


# -- knowledge gaps ----------------------------------------------------------------------------------------
WhoKnows = Callable[[str], list[dict[str, Any]]]


def gap_items(store: Store, week: Week, who_knows: WhoKnows, team: str = "",
              weak_below: float = querylog.WEAK_BELOW) -> tuple[list[dict[str, Any]], int]:
    """(weak questions of the week with people who might know, questions asked in the view).
    A team's view keeps questions its members asked or that its members might answer."""
    asked = querylog.questions(store, week.start, week.end)
    out = []
    for g in querylog.gaps(asked, weak_below):
        g.people = who_knows(g.question)
        if _in_view(team, *g.teams) or any(_in_view(team, p.get("team", "")) for p in g.people):
            out.append(g.public())
    return out, sum(1 for q in asked if _in_view(team, q.asker_team))


# -- everything -------------------------------------------------------------------------------------------
def build_digest(store: Store, week: Week, overlaps: Sequence[Any], who_knows: WhoKnows, team: str = "",
                 min_overlap: float = 0.45, weak_below: float = querylog.WEAK_BELOW,
                 syncs: Sequence[dict[str, Any]] = (), sources: Container[str] | None = None) -> DigestData:
    """The digest of one week, for the guild (team '') or one team's view, from the `sources` its
    readers may see (None: all)."""
    gaps, asked = gap_items(store, week, who_knows, team, weak_below)
    return DigestData(week.label, iso(week.start), iso(week.end), week.tz, team,
                      projects=project_changes(store, week, team, sources),
                      overlaps=overlap_items(store, overlaps, week, team, min_overlap, sources),
                      documents=notable_documents(store, week, team, sources),
                      gaps=gaps, crossings=cross_team_starts(store, week, team, sources), syncs=list(syncs), questions=asked)

