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


@dataclass(frozen=True)
class Candidate:
    """A person's standing on a topic: how much they know of it (`expertise`, any scale) and how
    recently they worked (`recency`, 1 for today down to activity_weight's floor). Recency orders
    the candidates; it never removes one, so a directory member whose commits are old still counts."""

    expertise: float
    recency: float = 1.0

    @property
    def rank(self) -> float:
        return self.expertise * self.recency


Scores = Mapping[str, "float | Candidate"]


def candidates_of(scores: Scores) -> dict[str, Candidate]:
    """Plain numbers are expertise with full recency; NaN, infinite and negative values count as none."""
    out = {}
    for pid, v in scores.items():
        c = v if isinstance(v, Candidate) else Candidate(float(v))
        e = c.expertise if math.isfinite(c.expertise) and c.expertise > 0 else 0.0
        r = c.recency if math.isfinite(c.recency) and c.recency > 0 else 0.0
        out[pid] = Candidate(e, min(r, 1.0) or 1e-9)
    return out


def pool_of(scores: Scores, people: Mapping[str, Person], settings: PlanSettings,
            load: Mapping[str, int] | None = None, opted_out: set[str] | None = None,
            exclude: Iterable[str] = (), sides: Iterable[str] = ()) -> list[str]:
    """Who may join a group, best first (expertise x recency): directory people with a Slack id, not
    opted out, not excluded, below `max_per_person` this cycle, who know the topic. "Know" is relative
    among those people: at least `min_relative` of the best expertise of their own team when that
    team is a side of the topic (`sides`), else of the best of all; so a side's best available
    person is always a candidate, however much more an outside contributor did."""
    load, opted_out, exclude = load or {}, opted_out or set(), set(exclude)
    cands = candidates_of(scores)
    avail = [pid for pid, c in cands.items() if c.expertise > 0 and pid in people
             and eligible(people[pid], opted_out) and load.get(pid, 0) < settings.max_per_person and pid not in exclude]
    side_keys = {t.casefold() for t in sides}
    best_all = max((cands[p].expertise for p in avail), default=0.0)
    best_team: dict[str, float] = defaultdict(float)
    for pid in avail:
        team = people[pid].team.casefold()
        best_team[team] = max(best_team[team], cands[pid].expertise)

    def floor(pid: str) -> float:
        team = people[pid].team.casefold()
        return settings.min_relative * (best_team[team] if team in side_keys else best_all)
    return sorted((p for p in avail if cands[p].expertise >= floor(p)), key=lambda p: (-cands[p].rank, p))


def form_group(scores: Scores, people: Mapping[str, Person], settings: PlanSettings,
               load: Mapping[str, int] | None = None, recent: Sequence[Iterable[str]] = (),
               opted_out: set[str] | None = None, exclude: set[str] | None = None,
               sides: Iterable[str] = (), seats: int = 0) -> list[Person] | None:
    """The best group for a topic: `scores` is person id -> Candidate (or plain expertise); who may
    join is `pool_of`'s, so groups are not padded with people who barely know the topic.

    Teams take turns (the team with the strongest candidate first), so no team dominates; one
    person on a side is enough when the other side brings the rest. A group must have `min_size`
    people (counting `seats` already taken by a side named by its channel or owner) from at least
    two teams (counting each such seat as a team). When the best group repeats a recent one
    (Jaccard >= 0.6), the weakest member they share is left out and it is tried again.
    Returns None when no acceptable group exists.
    """
    cands = candidates_of(scores)
    pool = pool_of(cands, people, settings, load, opted_out, exclude or (), sides)
    excluded: set[str] = set()
    while True:
        group = _balanced([p for p in pool if p not in excluded], people, max(1, settings.max_size - seats))
        if len(group) + seats < settings.min_size or len({people[p].team for p in group}) + seats < 2 or not group:
            return None
        clash = next((set(r) for r in recent if jaccard(group, r) >= REPEAT_JACCARD), None)
        if clash is None:
            return [people[p] for p in group]
        shared = [p for p in group if p in clash]
        excluded.add(min(shared, key=lambda p: (cands[p].rank, p)))


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


def strong_floor(pairs: Sequence[Pair], settings: PlanSettings) -> float:
    """The score from which a cross-team overlap is strong: `strong_ratio` of the best, at least `min_overlap`."""
    cross = [p.score for p in pairs if p.a_team.casefold() != p.b_team.casefold() and math.isfinite(p.score)]
    return max(settings.min_overlap, settings.strong_ratio * max(cross, default=0.0))


def strong_clusters(pairs: Sequence[Pair], settings: PlanSettings,
                    left_out: dict[tuple[str, str], str] | None = None) -> list[list[Pair]]:
    """Groups of strong cross-team overlaps, best first. Greedy, best pair first: a pair of two
    unplaced projects starts a group; a pair with one project in a group that has room (at most
    `max_projects`) and scores within `strong_ratio` of that group's best pair brings the other
    project in. Each project joins one group, so one project that resembles everything (a hub)
    cannot chain the whole catalog into a single topic. `left_out` collects, for each strong pair
    that joined no group, (a, b) -> the group it could not join and why (group index, as text)."""
    cross = [p for p in pairs if p.a_team.casefold() != p.b_team.casefold() and math.isfinite(p.score)]
    floor = strong_floor(cross, settings)
    group_of: dict[str, int] = {}
    groups: list[list[Pair]] = []
    members: list[set[str]] = []
    left = left_out if left_out is not None else {}
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
                left[(p.a, p.b)] = f"split:{ga}:{gb}"
        else:
            g = ga if ga is not None else gb
            other = p.b if ga is not None else p.a
            if len(members[g]) >= settings.max_projects:
                left[(p.a, p.b)] = f"full:{g}"
            elif p.score < settings.strong_ratio * groups[g][0].score:
                left[(p.a, p.b)] = f"weaker:{g}"
            else:
                group_of[other] = g
                groups[g].append(p)
                members[g].add(other)
    return groups


def stem(term: str) -> str:
    """A light suffix stem per word, so 'recommender' and 'recommendations' name one theme."""
    return " ".join(re.sub(r"(?:ations?|ers?|ings?|ed|s)$", "", w) if len(w) > 5 else w for w in term.split())


def _norm(phrase: str) -> str:
    return stem(" ".join(phrase.casefold().replace("-", " ").split()))


def generic_phrases(background: Mapping[str, Iterable[str]]) -> tuple[Counter, Counter, int]:
    """How many of the org's projects use each phrase, and each word of a phrase (`background`:
    project -> its phrases, e.g. the candidates of its characteristic passages); and how many
    projects there are."""
    df: Counter = Counter()
    words: Counter = Counter()
    for phrases in background.values():
        normed = {_norm(p) for p in phrases}
        df.update(normed)
        words.update({w for p in normed for w in p.split()})
    return df, words, len(background)


def is_generic(phrase: str, df: Counter, words: Counter, n: int) -> bool:
    """A phrase most of the org's projects use, or made only of words most of them use ('open-source
    Python library', 'machine learning models'), says nothing about what two teams share."""
    if n < 3:
        return False
    s = _norm(phrase)
    return df[s] > n / 2 or all(words[w] > n / 2 for w in s.split())


def key_phrases(cluster_projects: Sequence[str], project_team: Mapping[str, str],
                project_terms: Mapping[str, Counter], surface: Counter | None = None, limit: int = 3,
                exclude: Iterable[str] = (), all_teams: Mapping[str, str] | None = None,
                background: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    """The phrases the cluster's projects share and other teams use less, as people write them.

    A phrase must occur in projects of two teams at least; it scores by its mean log-count over
    the cluster's projects (a theme of the whole cluster beats a word one project repeats) times
    its rarity among the projects of teams outside the cluster (`all_teams`: project -> team; a
    phrase the cluster's own teams also use elsewhere is still their theme) and, with `background`
    (every project of the org -> its phrases), its rarity in the whole org; a phrase most of the
    org's projects use (`is_generic`) never counts, nor one with a word in `exclude` (people's
    names, say) or in BOILERPLATE."""
    banned = BOILERPLATE | {w.casefold() for w in exclude}
    bdf, bwords, bn = generic_phrases(background or {})
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
                any(_banned(w, banned) for t in (s, *forms[s]) for w in t.split()) or is_generic(s, bdf, bwords, bn):
            continue
        theme = sum(math.log1p(stemmed.get(p, Counter())[s]) for p in inside) / len(inside)
        org = math.log((1 + bn) / (1 + bdf[_norm(s)])) + 1 if bn else 1.0
        scored.append((theme * (math.log((1 + n) / (1 + df[s])) + 1) * org, len(s.split()), s))
    scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
    chosen: list[str] = []
    for _, _, s in scored:
        words = set(s.split())
        if any(words <= set(c.split()) or set(c.split()) <= words or _same_word(s, c) for c in chosen):
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


def _same_word(a: str, b: str) -> bool:
    """'visual' and 'visualization': one word, one the start of the other, is one theme."""
    if " " in a or " " in b:
        return False
    short, long = sorted((a, b), key=len)
    return len(short) >= 5 and long.startswith(short)


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
                      exclude: Iterable[str] = (), all_teams: Mapping[str, str] | None = None,
                      background: Mapping[str, Iterable[str]] | None = None) -> list[Topic]:
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
        phrases = key_phrases(projects, team_of, project_terms, surface, exclude=exclude, all_teams=all_teams,
                              background=background)
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


def explain_overlaps(pairs: Sequence[Pair], settings: PlanSettings, outcomes: Sequence[Outcome],
                     names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """What became of every cross-team overlap, best first: {"a", "a_team", "b", "b_team", "score",
    "strong", "topic" (the title, or None), "status", "reason"}. A strong overlap's status is its
    topic's (`outcomes`, one per topic: proposed, or why not) or why it joined no topic; a weaker one
    says how far below the strong ones it is."""
    names = names or {}
    cross = sorted((p for p in pairs if p.a_team.casefold() != p.b_team.casefold() and math.isfinite(p.score)),
                   key=lambda p: (-p.score, p.a, p.b))
    floor = strong_floor(cross, settings)
    left: dict[tuple[str, str], str] = {}
    clusters = strong_clusters(cross, settings, left)
    sets = [sorted({x for p in c for x in (p.a, p.b)}) for c in clusters]
    keys = ["+".join(ps) for ps in sets]
    by_key = {o.topic.key: o for o in outcomes}
    out = []
    for p in cross:
        row: dict[str, Any] = {"a": names.get(p.a, p.a), "a_team": p.a_team, "b": names.get(p.b, p.b),
                               "b_team": p.b_team, "score": round(p.score, 4), "strong": p.score >= floor,
                               "topic": None}
        if p.score < floor:
            row.update(status="weak", reason=f"weaker than the strong overlaps (below {floor:.2f}: "
                                            f"{settings.strong_ratio:.0%} of the best, at least {settings.min_overlap})")
        elif (p.a, p.b) in left:
            kind, *gs = left[(p.a, p.b)].split(":")
            titles = [by_key[keys[int(g)]].topic.title if keys[int(g)] in by_key else keys[int(g)] for g in gs]
            why = {"split": f"its projects went to two topics ({' and '.join(repr(t) for t in titles)}); each project "
                            "joins one topic",
                   "full": f"the topic {titles[0]!r} its other project is in already has {settings.max_projects} projects",
                   "weaker": f"it scores below {settings.strong_ratio:.0%} of the best overlap of the topic "
                             f"{titles[0]!r} its other project is in"}[kind]
            row.update(status="merged", reason=why)
        else:
            key = next((k for k, ps in zip(keys, sets) if {p.a, p.b} <= set(ps)), None)
            o = by_key.get(key) if key else None
            if o is None:
                row.update(status="taken", reason="its topic is already planned for this cycle")
            else:
                row.update(topic=o.topic.title, status=o.status, reason=o.reason)
        out.append(row)
    return out


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
    contacts: list[dict[str, str]] = field(default_factory=list)  # a side with nobody in the directory: {"team", "contact"}

    @property
    def slot(self) -> Slot | None:
        return self.slots[0] if self.slots else None

    def public(self) -> dict[str, Any]:
        s = self.slot
        teams = {m.team for m in self.members} | {c["team"] for c in self.contacts}
        return {"id": self.id, "topic": self.topic.title, "teams": sorted(teams),
                "members": [m.public(s.start if s else None) for m in self.members],
                "start": iso_utc(s.start) if s else None, "end": iso_utc(s.end) if s else None,
                "outside_hours": s.outside if s else [m.email for m in self.members],
                "evidence": self.topic.evidence, "score": self.topic.score, "contacts": list(self.contacts)}


@dataclass
class Outcome:
    """What became of one topic in a plan: `status` is "proposed" or why not, `reason` says it in
    words an organiser can act on."""

    topic: Topic
    status: str                     # proposed | no_people | one_side | opted_out | busy | repeat | too_few | budget | taken
    reason: str
    proposal: Proposal | None = None


@dataclass
class Plan:
    proposals: list[Proposal]
    outcomes: list[Outcome]         # one per topic, in the topics' order


def plan_cycle(topics: Sequence[Topic], candidates: Mapping[str, Scores], people: Mapping[str, Person],
               settings: PlanSettings, now: datetime, load: Mapping[str, int] | None = None,
               recent: Sequence[Iterable[str]] = (), opted_out: set[str] | None = None,
               busy: Sequence[tuple[datetime, datetime]] = (),
               contacts: Mapping[str, str] | None = None) -> list[Proposal]:
    """Proposals for the next cycle (`plan`'s, without the reasons)."""
    return plan(topics, candidates, people, settings, now, load, recent, opted_out, busy, contacts).proposals


def plan(topics: Sequence[Topic], candidates: Mapping[str, Scores], people: Mapping[str, Person],
         settings: PlanSettings, now: datetime, load: Mapping[str, int] | None = None,
         recent: Sequence[Iterable[str]] = (), opted_out: set[str] | None = None,
         busy: Sequence[tuple[datetime, datetime]] = (), contacts: Mapping[str, str] | None = None) -> Plan:
    """Proposals for the next cycle and what became of every topic: topics best first, each with a
    group (`candidates[topic.key]` holds person id -> Candidate) and time slots. People already in
    `max_per_person` syncs this cycle (`load`, this plan's own proposals included) are skipped, and so
    are groups repeating `recent`. A side of the topic with nobody in the directory (with a Slack id)
    who knows it is named by `contacts[team]` (its channel or owner) and takes a seat, so the topic is
    not dropped; without a contact it cannot be met."""
    first, last = cycle_window(now, settings.cycle)
    label = cycle_label(first)
    load = Counter(load or {})
    recent = [set(r) for r in recent]
    opted_out = opted_out or set()
    contacts = {k.casefold(): v for k, v in (contacts or {}).items() if v}
    proposals: list[Proposal] = []
    outcomes: list[Outcome] = []
    for topic in topics:
        if len(proposals) >= settings.max_syncs:
            outcomes.append(Outcome(topic, "budget", f"the cycle's budget of {settings.max_syncs} sync(s) was reached by "
                                    "stronger topics; raise [syncs] max_syncs to propose more"))
            continue
        scores = candidates_of(candidates.get(topic.key, {}))
        known = [pid for pid, c in scores.items() if c.expertise > 0 and pid in people
                 and eligible(people[pid], set())]
        present = {people[pid].team.casefold() for pid in known}
        named = [{"team": t, "contact": contacts[t.casefold()]} for t in topic.teams
                 if t.casefold() not in present and t.casefold() in contacts]
        found = group_and_slots(scores, people, settings, first, last, busy, load, recent, opted_out,
                                sides=topic.teams, seats=len(named))
        if not found:
            status, reason = diagnose(topic, scores, people, settings, load, recent, opted_out, contacts)
            outcomes.append(Outcome(topic, status, reason))
            continue
        group, slots = found
        for m in group:
            load[m.id] += 1
        recent.append({m.id for m in group})
        proposal = Proposal(sync_id(label, topic.key), label, topic, group, slots, named)
        proposals.append(proposal)
        sides = ", ".join(f"{t}: {', '.join(m.name for m in group if m.team == t) or _named(named, t)}"
                          for t in topic.teams)
        when = "" if slots else ("; without a time: no half hour of the cycle is inside anyone's working hours "
                                 "([syncs] working_hours, holidays)")
        outcomes.append(Outcome(topic, "proposed", f"proposed ({sides}){when}", proposal))
    return Plan(proposals, outcomes)


def _named(named: list[dict[str, str]], team: str) -> str:
    return next((f"nobody in the directory; named {c['contact']}" for c in named if c["team"] == team),
                "nobody in the group")


def diagnose(topic: Topic, scores: Scores, people: Mapping[str, Person], settings: PlanSettings,
             load: Mapping[str, int], recent: Sequence[Iterable[str]], opted_out: set[str],
             contacts: Mapping[str, str]) -> tuple[str, str]:
    """Why no group formed for `topic`: (status, reason), the first obstacle found, in the order
    directory -> one side only -> size -> opt-outs -> this cycle's load -> recent groups."""
    cands = candidates_of(scores)
    known = [pid for pid, c in cands.items() if c.expertise > 0 and pid in people]
    listed = [pid for pid in known if eligible(people[pid], set())]
    teams = ", ".join(topic.teams) or "its teams"
    if not listed:
        outside = len([pid for pid in known if not people[pid].bot])
        return "no_people", (f"nobody who worked on it is in the directory with a Slack id ({outside} contributor(s) "
                             f"found, none current staff of {teams}); add the people who work on it to the [people] "
                             "directory with their slack_id")
    present = {people[pid].team.casefold() for pid in listed}
    missing = [t for t in topic.teams if t.casefold() not in present and t.casefold() not in contacts]
    seats = len([t for t in topic.teams if t.casefold() not in present and t.casefold() in contacts])  # named sides
    if len(present) + seats < 2:
        return "one_side", (f"only {', '.join(sorted({people[p].team for p in listed}))} has directory people who know it; "
                            f"nobody of {', '.join(missing) or 'another team'} is in the directory with a Slack id and "
                            "the team has no slack_channel or owner to name; add its people to the directory or give "
                            "it a slack_channel in guild.toml")
    sides = topic.teams
    if form_group(cands, people, settings, {}, (), set(), sides=sides, seats=seats) is None:
        pool = pool_of(cands, people, settings, {}, set(), (), sides)
        have = ", ".join(f"{n} of {t}" for t, n in sorted(Counter(people[p].team for p in pool).items()))
        return "too_few", (f"only {have or 'nobody'} among directory people know it; a group needs {settings.min_size} "
                           "people from two teams ([syncs] group_size)")
    if form_group(cands, people, settings, {}, (), opted_out, sides=sides, seats=seats) is None:
        out = [pid for pid in listed if not eligible(people[pid], opted_out)]
        return "opted_out", (f"{len(out)} of the {len(listed)} directory people who know it opted out of syncs "
                             f"({', '.join(people[p].name for p in out[:4])}); without them no group of two teams "
                             "remains (`guildbot syncs optout --undo` opts someone back in)")
    if form_group(cands, people, settings, load, (), opted_out, sides=sides, seats=seats) is None:
        return "busy", (f"the people who know it are already in {settings.max_per_person} sync(s) this cycle "
                        "([syncs] max_per_person); it comes up again next cycle")
    return "repeat", (f"every group that could meet on it met within the last {settings.avoid_repeat_weeks} weeks "
                      "([syncs] avoid_repeat_weeks); it comes up again when that has passed")


def group_and_slots(scores: Scores, people: Mapping[str, Person], settings: PlanSettings,
                    first: date, last: date, busy: Sequence[tuple[datetime, datetime]] = (),
                    load: Mapping[str, int] | None = None, recent: Sequence[Iterable[str]] = (),
                    opted_out: set[str] | None = None, sides: Iterable[str] = (),
                    seats: int = 0) -> tuple[list[Person], list[Slot]] | None:
    """A group and its slots, preferring a group that has a slot inside everyone's hours: whoever
    the best slot leaves outside makes way for the next candidate while the group stays valid.
    When no such group exists, the first group and its best slots (naming who is outside)."""
    cands = candidates_of(scores)
    sides = list(sides)
    exclude: set[str] = set()
    fallback = None
    for _ in range(len(cands) + 1):
        group = form_group(cands, people, settings, load, recent, opted_out, exclude, sides, seats)
        if not group:
            break
        slots = best_slots(group, first, last, settings, busy)
        if slots and not slots[0].outside:
            return group, slots
        fallback = fallback or (group, slots)
        if not slots:
            break
        exclude |= _cheapest_outside(group, cands, first, last, settings, busy, seats)
    return fallback


def _cheapest_outside(group: list[Person], cands: Mapping[str, Candidate], first: date, last: date,
                      settings: PlanSettings, busy: Sequence[tuple[datetime, datetime]], seats: int = 0) -> set[str]:
    """The members to let go so the rest share a slot, losing the least expertise (and the fewest
    people); the rest must still span two teams (a named side counting as one)."""
    by_email = {m.email: m for m in group}
    best: tuple[float, int, set[str]] | None = None
    for slot in candidate_slots(group, first, last, settings, busy):
        kept = [m for m in group if m.email not in slot.outside]
        if len({m.team for m in kept}) + seats < 2 or not kept:
            continue
        cost = (sum(cands[by_email[e].id].rank if by_email[e].id in cands else 0.0 for e in slot.outside),
                len(slot.outside))
        if best is None or cost < best[:2]:
            best = (*cost, {by_email[e].id for e in slot.outside})
    return best[2] if best else {m.id for m in group}
