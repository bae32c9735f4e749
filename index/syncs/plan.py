"""Cross-team sync planning: which topics deserve a meeting, who should meet, and when.

Pure functions over plain values (no store, no Slack), so every rule is tested on hand-made
people: topics from clusters of cross-team project overlaps, titled by the key phrases the teams
share; groups balanced across teams, chosen by expertise and recent activity, never a repeat of
a recent group, never an opted-out person, nobody in more than `max_per_person` syncs a cycle;
time slots inside every member's working hours in their own IANA zone (zoneinfo, so DST is
right), weekdays only, holidays skipped, busy times avoided.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CYCLES = ("weekly", "biweekly", "monthly")
DEFAULT_HOURS = "09:00-17:00"
REPEAT_JACCARD = 0.6
# repository boilerplate: words every project's docs use, never what a meeting is about
BOILERPLATE = frozenset("""html htm txt rst ipynb png jpg svg pdf csv json yaml yml toml docs doc readme changelog
http https www com org io github gitlab pypi pip conda install installation version release license copyright
contributing contributor file files example examples tutorial link""".split())
HOURS = re.compile(r"^\s*([01]?\d|2[0-4]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)\s*$")


# -- settings --------------------------------------------------------------------------------------
@dataclass
class PlanSettings:
    min_size: int = 3
    max_size: int = 6
    max_per_person: int = 1
    avoid_repeat_weeks: int = 8
    cycle: str = "weekly"
    duration: int = 30              # minutes
    working_hours: str = DEFAULT_HOURS
    holidays: list[date] = field(default_factory=list)
    max_syncs: int = 3              # proposals per cycle
    step: int = 30                  # minutes between candidate start times
    strong_ratio: float = 0.75      # an overlap is strong when it scores this share of the best one
    min_overlap: float = 0.2        # ... and at least this much
    max_projects: int = 4           # projects in one topic
    min_relative: float = 0.1       # a candidate scores at least this share of the topic's best one


def parse_hours(text: str) -> tuple[time, time]:
    """'09:00-17:00' -> (09:00, 17:00); ValueError naming the expected form."""
    m = HOURS.match(text or "")
    if not m:
        raise ValueError(f"working hours {text!r} are not of the form HH:MM-HH:MM (e.g. 09:00-17:00)")
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if (h1, m1) >= (h2, m2) or (h2 == 24 and m2) or (h1 == 24):
        raise ValueError(f"working hours {text!r} must start before they end, within one day")
    return time(h1, m1), (time.max if h2 == 24 else time(h2, m2))


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}; use an IANA name such as Europe/Berlin")


# -- people ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    team: str
    tz: str = "UTC"
    slack_id: str = ""
    hours: str = ""                 # the directory's own hours; "" = the configured default
    in_directory: bool = True
    bot: bool = False

    def public(self, start: datetime | None = None) -> dict[str, Any]:
        local = start.astimezone(zone(self.tz)).isoformat(timespec="minutes") if start else None
        return {"name": self.name, "email": self.email, "team": self.team, "tz": self.tz, "slack_id": self.slack_id,
                "local_start": local}


def eligible(p: Person, opted_out: set[str]) -> bool:
    """Directory people with a Slack id, never a bot, never someone who opted out (by id, email or Slack id)."""
    return (p.in_directory and bool(p.slack_id) and not p.bot
            and not ({p.id, p.email.casefold(), p.slack_id} & opted_out))


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


def is_repeat(group: Iterable[str], recent: Iterable[Iterable[str]], threshold: float = REPEAT_JACCARD) -> bool:
    group = set(group)
    return any(jaccard(group, r) >= threshold for r in recent)


def activity_weight(last_at: str | None, now: datetime, half_life_days: float = 180.0) -> float:
    """1 for activity today, halving every `half_life_days`; a floor of 0.1 for the long quiet."""
    if not last_at:
        return 0.1
    try:
        then = datetime.fromisoformat(last_at)
    except ValueError:
        return 0.1
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    days = max(0.0, (now - then).total_seconds() / 86400)
    return max(0.1, 0.5 ** (days / half_life_days))


def form_group(scores: Mapping[str, float], people: Mapping[str, Person], settings: PlanSettings,
               load: Mapping[str, int] | None = None, recent: Sequence[Iterable[str]] = (),
               opted_out: set[str] | None = None, exclude: set[str] | None = None) -> list[Person] | None:
    """The best group for a topic: `scores` is person id -> expertise x recent activity; nobody
    below `min_relative` of the best score is an expert on it, so groups are not padded with them.

    Teams take turns (the team with the strongest candidate first), so no team dominates; a
    group must have `min_size` people from at least two teams. When the best group repeats a
    recent one (Jaccard >= 0.6), the weakest member they share is left out and it is tried again.
    Returns None when no acceptable group exists.
    """
    load, opted_out = load or {}, opted_out or set()
    floor = settings.min_relative * max(scores.values(), default=0.0)
    pool = [pid for pid, s in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
            if s > 0 and s >= floor and pid in people and eligible(people[pid], opted_out)
            and load.get(pid, 0) < settings.max_per_person
            and pid not in (exclude or ())]
    excluded: set[str] = set()
    while True:
        group = _balanced([p for p in pool if p not in excluded], people, settings.max_size)
        if len(group) < settings.min_size or len({people[p].team for p in group}) < 2:
            return None
        clash = next((set(r) for r in recent if jaccard(group, r) >= REPEAT_JACCARD), None)
        if clash is None:
            return [people[p] for p in group]
        shared = [p for p in group if p in clash]
        excluded.add(min(shared, key=lambda p: (scores[p], p)))


def _balanced(pool: list[str], people: Mapping[str, Person], size: int) -> list[str]:
    by_team: dict[str, list[str]] = defaultdict(list)
    for pid in pool:  # pool is best first, so each team's list is too
        by_team[people[pid].team].append(pid)
    order = sorted(by_team, key=lambda t: pool.index(by_team[t][0]))
    group: list[str] = []
    while len(group) < size and any(by_team.values()):
        for t in order:
            if by_team[t] and len(group) < size:
                group.append(by_team[t].pop(0))
    return group


# -- topics -------------------------------------------------------------------------------------------
@dataclass
class Pair:
    """One cross-team overlap: two projects, their teams, a score and evidence documents."""

    a: str
    a_team: str
    b: str
    b_team: str
    score: float
    evidence: list[dict[str, str]] = field(default_factory=list)  # {"title", "url"}


@dataclass
class Topic:
    key: str                        # stable: the sorted project ids
    title: str
    projects: list[str]
    teams: list[str]
    evidence: list[dict[str, str]]
    score: float
    phrases: list[str] = field(default_factory=list)


def strong_clusters(pairs: Sequence[Pair], settings: PlanSettings) -> list[list[Pair]]:
    """Groups of strong cross-team overlaps, best first. Greedy, best pair first: a pair of two
    unplaced projects starts a group; a pair with one project in a group that has room (at most
    `max_projects`) and scores within `strong_ratio` of that group's best pair brings the other
    project in. Each project joins one group, so one project that resembles everything (a hub)
    cannot chain the whole catalog into a single topic."""
    cross = [p for p in pairs if p.a_team.casefold() != p.b_team.casefold()]
    floor = max(settings.min_overlap, settings.strong_ratio * max((p.score for p in cross), default=0.0))
    group_of: dict[str, int] = {}
    groups: list[list[Pair]] = []
    members: list[set[str]] = []
    for p in sorted((p for p in cross if p.score >= floor), key=lambda p: (-p.score, p.a, p.b)):
        ga, gb = group_of.get(p.a), group_of.get(p.b)
        if ga is None and gb is None:
            group_of[p.a] = group_of[p.b] = len(groups)
            groups.append([p])
            members.append({p.a, p.b})
        elif ga is not None and gb is not None:
            if ga == gb:
                groups[ga].append(p)  # more evidence inside the group
        else:
            g = ga if ga is not None else gb
            other = p.b if ga is not None else p.a
            if len(members[g]) < settings.max_projects and p.score >= settings.strong_ratio * groups[g][0].score:
                group_of[other] = g
                groups[g].append(p)
                members[g].add(other)
    return groups


def stem(term: str) -> str:
    """A light suffix stem per word, so 'recommender' and 'recommendations' name one theme."""
    return " ".join(re.sub(r"(?:ations?|ers?|ings?|ed|s)$", "", w) if len(w) > 5 else w for w in term.split())


def key_phrases(cluster_projects: Sequence[str], project_team: Mapping[str, str],
                project_terms: Mapping[str, Counter], surface: Counter | None = None, limit: int = 3,
                exclude: Iterable[str] = (), all_teams: Mapping[str, str] | None = None) -> list[str]:
    """The phrases the cluster's projects share and other teams use less, as people write them.

    A phrase must occur in projects of two teams at least; it scores by its mean log-count over
    the cluster's projects (a theme of the whole cluster beats a word one project repeats) times
    its rarity among the projects of teams outside the cluster (`all_teams`: project -> team; a
    phrase the cluster's own teams also use elsewhere is still their theme). Phrases with a word in
    `exclude` (people's names, say) or in BOILERPLATE never count."""
    banned = BOILERPLATE | {w.casefold() for w in exclude}
    inside = list(dict.fromkeys(cluster_projects))
    teams_inside = {project_team.get(p, "") for p in inside}
    stemmed: dict[str, Counter] = {}
    forms: dict[str, Counter] = defaultdict(Counter)
    for pid, counts in project_terms.items():
        st: Counter = Counter()
        for t, n in counts.items():
            st[stem(t)] += n
            if pid in project_team and pid in inside:
                forms[stem(t)][t] += n
        stemmed[pid] = st
    others = [c for pid, c in stemmed.items() if pid not in inside
              and (all_teams or {}).get(pid, "\x00") not in teams_inside]
    df: Counter = Counter()
    for c in others:
        df.update(c.keys())
    n = len(others)
    scored = []
    for s in forms:
        teams = {project_team.get(p, "") for p in inside if stemmed.get(p, Counter())[s] > 0}
        if len(teams) < 2 or not re.search(r"[a-z]{3}", s) or \
                any(_banned(w, banned) for t in (s, *forms[s]) for w in t.split()):
            continue
        theme = sum(math.log1p(stemmed.get(p, Counter())[s]) for p in inside) / len(inside)
        scored.append((theme * (math.log((1 + n) / (1 + df[s])) + 1), len(s.split()), s))
    scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
    chosen: list[str] = []
    for _, _, s in scored:
        words = set(s.split())
        if any(words <= set(c.split()) or set(c.split()) <= words for c in chosen):
            continue
        chosen.append(s)
        if len(chosen) >= limit:
            break

    def written(s: str) -> str:
        form = max(forms[s].items(), key=lambda kv: (kv[1], kv[0]))[0] if forms[s] else s
        if surface:
            cands = [(c, f) for (t, f), c in surface.items() if t == form]
            form = max(cands)[1] if cands else form
        return form
    return [written(s) for s in chosen]


def _banned(word: str, banned: frozenset[str] | set[str]) -> bool:
    """In the list, or two listed words run together ('examplevera' from 'example' + 'vera')."""
    return word in banned or any(word.startswith(b) and word[len(b):] in banned for b in banned if len(b) < len(word))


def topic_title(phrases: Sequence[str], fallback: str) -> str:
    """'Recommendations: cold start, implicit feedback' from key phrases."""
    if not phrases:
        return fallback
    head, rest = phrases[0], list(phrases[1:])
    head = head[:1].upper() + head[1:]
    return f"{head}: {', '.join(rest)}" if rest else head


def topics_from_pairs(pairs: Sequence[Pair], settings: PlanSettings, project_terms: Mapping[str, Counter],
                      project_names: Mapping[str, str] | None = None, surface: Counter | None = None,
                      exclude: Iterable[str] = (), all_teams: Mapping[str, str] | None = None) -> list[Topic]:
    """Candidate sync topics: each cluster of strong cross-team overlaps, scored by its best
    overlap plus a bonus for every further team it spans."""
    names = project_names or {}
    out = []
    for cluster in strong_clusters(pairs, settings):
        team_of: dict[str, str] = {}
        for p in cluster:
            team_of[p.a], team_of[p.b] = p.a_team, p.b_team
        projects = sorted(team_of)
        teams = sorted(set(team_of.values()))
        phrases = key_phrases(projects, team_of, project_terms, surface, exclude=exclude, all_teams=all_teams)
        top = max(cluster, key=lambda p: p.score)
        fallback = f"{names.get(top.a, top.a)} and {names.get(top.b, top.b)}"
        evidence: list[dict[str, str]] = []
        for p in sorted(cluster, key=lambda p: -p.score):
            for e in p.evidence:
                if e.get("url") and all(e["url"] != x["url"] for x in evidence):
                    evidence.append({"title": e.get("title") or e["url"], "url": e["url"]})
        score = top.score * (1 + 0.1 * (len(teams) - 2))
        out.append(Topic("+".join(projects), topic_title(phrases, fallback), projects, teams, evidence[:6],
                         round(score, 4), phrases))
    return sorted(out, key=lambda t: (-t.score, t.key))


# -- time -----------------------------------------------------------------------------------------------
@dataclass
class Slot:
    start: datetime                 # UTC
    end: datetime
    outside: list[str]              # emails of members outside their hours

    def public(self) -> dict[str, Any]:
        return {"start": iso_utc(self.start), "end": iso_utc(self.end), "outside_hours": self.outside}


def iso_utc(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def cycle_window(now: datetime, cycle: str) -> tuple[date, date]:
    """The next cycle's first and last day (inclusive): next Monday for a week (weekly) or two
    (biweekly); the next calendar month (monthly)."""
    today = now.astimezone(timezone.utc).date()
    if cycle == "monthly":
        first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return first, last
    if cycle not in CYCLES:
        raise ValueError(f"unknown cycle {cycle!r}; use one of {', '.join(CYCLES)}")
    monday = today + timedelta(days=7 - today.weekday())
    return monday, monday + timedelta(days=(13 if cycle == "biweekly" else 6))


def cycle_label(first: date) -> str:
    y, w, _ = first.isocalendar()
    return f"{y}-W{w:02d}"


def minutes_outside(p: Person, start: datetime, end: datetime, default_hours: str, holidays: Iterable[date] = ()) -> int:
    """How far [start, end) lies outside the person's hours in their own zone, in minutes: 0 inside,
    a whole day on a weekend or holiday, else the minutes before their start or after their end."""
    tz = zone(p.tz)
    ls, le = start.astimezone(tz), (end - timedelta(seconds=1)).astimezone(tz)
    if ls.date() != le.date() or ls.weekday() >= 5 or ls.date() in set(holidays):
        return 24 * 60
    h0, h1 = parse_hours(p.hours or default_hours)
    minute = lambda t: t.hour * 60 + t.minute + t.second / 60  # noqa: E731
    early = max(0.0, minute(h0) - minute(ls.time()))
    late = 0.0 if le.time() < h1 else minute(le.time()) + 1 / 60 - minute(h1)
    return int(round(early + max(0.0, late)))


def inside_hours(p: Person, start: datetime, end: datetime, default_hours: str, holidays: Iterable[date] = ()) -> bool:
    """Is [start, end) a weekday, not a holiday, inside the person's hours in their own zone?"""
    return minutes_outside(p, start, end, default_hours, holidays) == 0


def candidate_slots(members: Sequence[Person], first: date, last: date, settings: PlanSettings,
                    busy: Sequence[tuple[datetime, datetime]] = ()) -> list[Slot]:
    """Every start time (every `step` minutes, UTC) in the window that no busy time overlaps,
    with who would be outside their hours, best first: most members inside, then the least time
    outside (18:00 for one is better than 03:30 for another), then earliest.
    Holidays (dates, in the members' own calendars) and weekends are outside everyone's hours."""
    duration, step = timedelta(minutes=settings.duration), timedelta(minutes=settings.step)
    t = datetime.combine(first, time(0), timezone.utc)
    stop = datetime.combine(last + timedelta(days=1), time(0), timezone.utc)
    scored = []
    while t + duration <= stop:
        end = t + duration
        if not any(b0 < end and t < b1 for b0, b1 in busy):
            off = {m.email: minutes_outside(m, t, end, settings.working_hours, settings.holidays) for m in members}
            outside = [e for e, n in off.items() if n]
            if len(outside) < len(members):
                scored.append((len(outside), sum(off.values()), t, Slot(t, end, outside)))
        t += step
    scored.sort(key=lambda x: x[:3])
    return [x[3] for x in scored]


def best_slots(members: Sequence[Person], first: date, last: date, settings: PlanSettings,
               busy: Sequence[tuple[datetime, datetime]] = (), n: int = 3) -> list[Slot]:
    """The best slot and the next best ones on other days (what "Another time" offers)."""
    out: list[Slot] = []
    for s in candidate_slots(members, first, last, settings, busy):
        if all(s.start.date() != o.start.date() for o in out):
            out.append(s)
            if len(out) >= n:
                break
    return out


def sync_id(cycle: str, key: str) -> str:
    """Stable per cycle and topic (or per ad-hoc request), so a cycle run twice proposes once."""
    return "s" + hashlib.sha256(f"{cycle}\x00{key}".encode()).hexdigest()[:10]


@dataclass
class Proposal:
    id: str
    cycle: str
    topic: Topic
    members: list[Person]
    slots: list[Slot]               # the best first

    @property
    def slot(self) -> Slot | None:
        return self.slots[0] if self.slots else None

    def public(self) -> dict[str, Any]:
        s = self.slot
        return {"id": self.id, "topic": self.topic.title, "teams": sorted({m.team for m in self.members}),
                "members": [m.public(s.start if s else None) for m in self.members],
                "start": iso_utc(s.start) if s else None, "end": iso_utc(s.end) if s else None,
                "outside_hours": s.outside if s else [m.email for m in self.members],
                "evidence": self.topic.evidence, "score": self.topic.score}


def plan_cycle(topics: Sequence[Topic], candidates: Mapping[str, Mapping[str, float]], people: Mapping[str, Person],
               settings: PlanSettings, now: datetime, load: Mapping[str, int] | None = None,
               recent: Sequence[Iterable[str]] = (), opted_out: set[str] | None = None,
               busy: Sequence[tuple[datetime, datetime]] = ()) -> list[Proposal]:
    """Proposals for the next cycle: topics best first, each with a group (`candidates[topic.key]`
    holds person id -> score) and time slots. People already in `max_per_person` syncs this cycle
    (`load`, this plan's own proposals included) are skipped, and so are groups repeating `recent`."""
    first, last = cycle_window(now, settings.cycle)
    label = cycle_label(first)
    load = Counter(load or {})
    recent = [set(r) for r in recent]
    out: list[Proposal] = []
    for topic in topics:
        if len(out) >= settings.max_syncs:
            break
        found = group_and_slots(candidates.get(topic.key, {}), people, settings, first, last, busy, load, recent, opted_out)
        if not found:
            continue
        group, slots = found
        for m in group:
            load[m.id] += 1
        recent.append({m.id for m in group})
        out.append(Proposal(sync_id(label, topic.key), label, topic, group, slots))
    return out


def group_and_slots(scores: Mapping[str, float], people: Mapping[str, Person], settings: PlanSettings,
                    first: date, last: date, busy: Sequence[tuple[datetime, datetime]] = (),
                    load: Mapping[str, int] | None = None, recent: Sequence[Iterable[str]] = (),
                    opted_out: set[str] | None = None) -> tuple[list[Person], list[Slot]] | None:
    """A group and its slots, preferring a group that has a slot inside everyone's hours: whoever
    the best slot leaves outside makes way for the next candidate while the group stays valid.
    When no such group exists, the first group and its best slots (naming who is outside)."""
    exclude: set[str] = set()
    fallback = None
    for _ in range(len(scores) + 1):
        group = form_group(scores, people, settings, load, recent, opted_out, exclude)
        if not group:
            break
        slots = best_slots(group, first, last, settings, busy)
        if slots and not slots[0].outside:
            return group, slots
        fallback = fallback or (group, slots)
        if not slots:
            break
        exclude |= _cheapest_outside(group, scores, first, last, settings, busy)
    return fallback


def _cheapest_outside(group: list[Person], scores: Mapping[str, float], first: date, last: date,
                      settings: PlanSettings, busy: Sequence[tuple[datetime, datetime]]) -> set[str]:
    """The members to let go so the rest share a slot, losing the least expertise (and the fewest
    people); the rest must still span two teams."""
    by_email = {m.email: m for m in group}
    best: tuple[float, int, set[str]] | None = None
    for slot in candidate_slots(group, first, last, settings, busy):
        kept = [m for m in group if m.email not in slot.outside]
        if len({m.team for m in kept}) < 2:
            continue
        cost = (sum(scores.get(by_email[e].id, 0.0) for e in slot.outside), len(slot.outside))
        if best is None or cost < best[:2]:
            best = (*cost, {by_email[e].id for e in slot.outside})
    return best[2] if best else {m.id for m in group}
