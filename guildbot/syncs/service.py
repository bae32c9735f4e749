"""Cross-team syncs, the application side: gather what the planner needs from the guild (overlaps,
experts, people, history), plan a cycle or an ad-hoc request, keep the state in the store.

The planning rules are pure functions in index/syncs/plan.py; the SQL is in index/storage/syncs.py;
Slack is in guildbot/slack/syncs.py and the calendars in guildbot/syncs/ics.py /
guildbot/syncs/caldav.py. Surfaces reach all of this through the Guild facade.
"""
from __future__ import annotations

from collections import Counter

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from index.storage import syncs as syncstore
from index.syncs import inputs as sync_inputs
from index.people.resolve import DirectoryError, load_directory
from index.syncs.plan import (Pair, Person, PlanSettings, Proposal, Topic, activity_weight, cycle_label, cycle_window,
                            group_and_slots, parse_hours, plan_cycle, sync_id, topics_from_pairs, zone)

from guildbot.config.loader import ConfigError
from guildbot.config.syncs import SyncsConfig

if TYPE_CHECKING:
    from guildbot.guild import Guild

log = logging.getLogger("guildbot.syncs.service")
OVERLAPS = 40          # overlap pairs read to find topics
EXPERTS = 12           # experts asked per topic
EXPERT_WEIGHT = 0.5    # expertise = this x the search's experts + the rest x share of the topic's projects
ADHOC_DAYS = 7         # an ad-hoc sync is planned in the next week


def shared(guild: "Guild") -> Any:
    """What a proposal may show: public sources only, since several people (or a channel) read it."""
    return guild.viewer_for()


def settings(guild: "Guild") -> SyncsConfig:
    return guild.config.syncs or SyncsConfig()


def _people(guild: "Guild") -> dict[str, Person]:
    """Everyone as the planner sees them, with the directory's own `hours`; a bad `hours` or `tz`
    cell is a ConfigError naming the person, since no time could be computed for them."""
    hours: dict[str, str] = {}
    if guild.config.directory:
        try:
            rows = load_directory(guild.config.directory)
        except DirectoryError as e:
            raise ConfigError(guild.config.path, "[people] directory", str(e), "fix the CSV and run it again")
        hours = {r["email"].casefold(): r["hours"] for r in rows if r.get("hours")}
    people = sync_inputs.sync_people(guild.store, hours)
    for p in people.values():
        if not p.in_directory:
            continue
        try:
            zone(p.tz)
            parse_hours(p.hours or settings(guild).plan.working_hours)
        except ValueError as e:
            raise ConfigError(guild.config.directory or guild.config.path, f"the row of {p.email}", str(e),
                              "write tz as an IANA zone (Europe/Berlin) and hours as 09:00-17:00, or leave hours empty")
    return people


def _busy(guild: "Guild", first, last) -> list[tuple[datetime, datetime]]:
    cfg = settings(guild)
    if not cfg.caldav_url:
        return []
    from guildbot.syncs.caldav import CalendarError, calendar_from_config
    try:
        return calendar_from_config(cfg).busy(datetime.combine(first, datetime.min.time(), timezone.utc),
                                              datetime.combine(last, datetime.max.time(), timezone.utc))
    except CalendarError as e:
        log.warning("%s; planning without busy times", e)
        return []


def _pairs(guild: "Guild", overlaps: list | None = None) -> list[Pair]:
    out = []
    for o in overlaps if overlaps is not None else guild.overlaps(limit=OVERLAPS, viewer=shared(guild)):
        evidence = [side for e in o.evidence for side in (e["a"], e["b"])]
        out.append(Pair(o.a.id, o.a.team, o.b.id, o.b.team, o.score, evidence))
    return out


def _expertise(guild: "Guild", query: str, projects: list[str], activity: dict[str, str], now: datetime) -> dict[str, float]:
    """person id -> expertise on the topic (the experts search and their share of its projects)
    times recent activity."""
    experts = guild.experts(query, limit=EXPERTS, viewer=shared(guild)) if query else []
    top = max((e.score for e in experts), default=0.0) or 1.0
    found = {e.person_id: e.score / top for e in experts}
    share = syncstore.project_people(guild.store, projects)
    top_share = max(share.values(), default=0.0) or 1.0
    scores = {}
    for pid in set(found) | set(share):
        expertise = EXPERT_WEIGHT * found.get(pid, 0.0) + (1 - EXPERT_WEIGHT) * share.get(pid, 0.0) / top_share
        scores[pid] = round(expertise * activity_weight(activity.get(pid), now), 6)
    return scores


def topics(guild: "Guild") -> list[Topic]:
    """Topics worth a meeting, best first. Titles come from key phrases: each project's own, and
    those an overlap found on both of its sides (index/catalog/overlaps.py)."""
    terms, surface = sync_inputs.project_terms(guild.store)
    overlaps = guild.overlaps(limit=OVERLAPS, viewer=shared(guild))
    for o in overlaps:
        for rank, phrase in enumerate(o.shared_topics):
            for side in (o.a.id, o.b.id):
                terms.setdefault(side, Counter())[phrase.casefold()] += len(o.shared_topics) - rank
            surface[(phrase.casefold(), phrase)] += 1
    projects = guild.projects(viewer=shared(guild))
    return topics_from_pairs(_pairs(guild, overlaps), settings(guild).plan, terms, {p.id: p.name for p in projects}, surface,
                             exclude=syncstore.name_words(guild.store), all_teams={p.id: p.team for p in projects})


def propose(guild: "Guild", now: datetime | None = None, replan: bool = False) -> list[dict[str, Any]]:
    """The next cycle's proposals (stored; planned once per cycle unless `replan` drops the unposted)."""
    now = now or datetime.now(timezone.utc)
    cfg = settings(guild)
    plan = cfg.plan
    first, last = cycle_window(now, plan.cycle)
    label = cycle_label(first)
    store = guild.store
    existing = syncstore.list_syncs(store, cycle=label, origin="cycle")
    out = syncstore.optouts(store)
    stale = any(s["status"] == "proposed" and _opted_out(s, out) for s in existing)
    if existing and not (replan or stale):
        return [public(s) for s in existing if s["status"] != "cancelled"]
    if existing:  # plan again what was never posted (someone opted out since, or --replan)
        syncstore.delete_unposted(store, label)
        existing = syncstore.list_syncs(store, cycle=label, origin="cycle")
    taken = {s["id"] for s in existing}
    people = _people(guild)
    activity = syncstore.person_activity(store)
    found = [t for t in topics(guild) if sync_id(label, t.key) not in taken]
    candidates = {t.key: _expertise(guild, " ".join(t.phrases) or t.title, t.projects, activity, now) for t in found}
    since = (now - timedelta(weeks=plan.avoid_repeat_weeks)).isoformat(timespec="seconds")
    room = PlanSettings(**{**vars(plan), "max_syncs": max(0, plan.max_syncs - len(existing))})
    proposals = plan_cycle(found, candidates, people, room, now, load=syncstore.cycle_load(store, label),
                           recent=syncstore.recent_groups(store, since) if plan.avoid_repeat_weeks else [],
                           opted_out=out, busy=_busy(guild, first, last))
    for p in proposals:
        _save(guild, p, "cycle")
    return [public(s) for s in syncstore.list_syncs(store, cycle=label, origin="cycle")]


def _opted_out(sync: dict[str, Any], out: set[str]) -> bool:
    return any(m["slack_id"] in out or m["email"].casefold() in out for m in sync["members"])


def propose_topic(guild: "Guild", topic: str, now: datetime | None = None) -> dict[str, Any] | None:
    """An ad-hoc sync on `topic`: the people who know it from at least two teams, in the next week.
    Not limited by max_per_person (someone asked for it); opt-outs and the other rules hold."""
    now = now or datetime.now(timezone.utc)
    topic = " ".join(topic.split())
    if not topic:
        return None
    cfg = settings(guild)
    first = (now + timedelta(days=1)).date()
    last = first + timedelta(days=ADHOC_DAYS)
    label = f"adhoc-{now.date().isoformat()}"
    sid = sync_id(label, topic.casefold())
    stored = syncstore.get_sync(guild.store, sid)
    if stored:
        return public(stored)
    hits = guild.search(topic, limit=8, viewer=shared(guild))
    projects = syncstore.projects_of(guild.store, [h.doc_id for h in hits])
    people = _people(guild)
    scores = _expertise(guild, topic, projects, syncstore.person_activity(guild.store), now)
    plan = PlanSettings(**{**vars(cfg.plan), "max_per_person": 10 ** 6})
    busy = _busy(guild, first, last)
    found = group_and_slots(scores, people, plan, first, last, busy, opted_out=syncstore.optouts(guild.store))
    if not found:
        return None
    group, slots = found
    evidence = []
    for h in hits:
        if all(h.url != e["url"] for e in evidence):
            evidence.append({"title": h.title, "url": h.url})
    t = Topic("adhoc:" + topic.casefold(), topic, projects, sorted({m.team for m in group}), evidence[:5],
              round(max(scores.values()), 4))
    proposal = Proposal(sid, label, t, group, slots)
    _save(guild, proposal, "adhoc")
    return public(syncstore.get_sync(guild.store, sid))


def _save(guild: "Guild", p: Proposal, origin: str) -> None:
    slots = [{**s.public(), "local": {m.email: m.public(s.start)["local_start"] for m in p.members}} for s in p.slots]
    syncstore.save_sync(guild.store, p.public(), p.cycle, origin, slots, [m.id for m in p.members])


def public(sync: dict[str, Any]) -> dict[str, Any]:
    """The `syncs propose --json` shape of a stored sync."""
    return {k: sync.get(k) for k in ("id", "topic", "teams", "members", "start", "end", "outside_hours", "evidence", "score")}


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def move(guild: "Guild", sync_id_: str, slot_index: int) -> dict[str, Any] | None:
    """Give a sync its `slot_index`th alternative time; returns the sync."""
    sync = syncstore.get_sync(guild.store, sync_id_)
    if not sync or not 0 <= slot_index < len(sync["slots"]):
        return None
    s = sync["slots"][slot_index]
    syncstore.move_sync(guild.store, sync_id_, s["start"], s["end"], s["outside_hours"], s.get("local", {}))
    return syncstore.get_sync(guild.store, sync_id_)


def ics(guild: "Guild", sync_id_: str) -> bytes | None:
    from guildbot.syncs.ics import build_ics
    sync = syncstore.get_sync(guild.store, sync_id_)
    if sync is None:
        return None
    cfg = settings(guild)
    return build_ics(sync, organizer=cfg.organizer or f"guildbot@{guild.config.name.casefold().replace(' ', '-')}.invalid",
                     conference_url=cfg.conference_url, guild_name=guild.config.name)
