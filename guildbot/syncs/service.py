"""Cross-team syncs, the application side: gather what the planner needs (overlaps, experts,
people, history), plan a cycle or an ad-hoc request, keep the state in the store.

`SyncService(store, answers, config)` is built once per surface by `syncs_for(guild)`: it reads and
writes the syncs' tables itself, through the repository in index/storage/syncs.py (and the
planner's inputs in index/syncs/inputs.py), and asks the answer layer (the Guild) only for answers:
overlaps, experts, search hits, projects and the public viewer. The planning rules are pure
functions in index/syncs/plan.py; Slack is in guildbot/slack/syncs.py and the calendars in
guildbot/syncs/ics.py / guildbot/syncs/caldav.py.
"""
from __future__ import annotations

from collections import Counter

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol

from index.storage import consent as consent_store
from index.storage import syncs as syncstore
from index.syncs import inputs as sync_inputs
from index.people.resolve import DirectoryError, load_directory
from index.syncs.plan import (Candidate, Outcome, Pair, Person, PlanSettings, Proposal, Topic, activity_weight,
                            cycle_label, cycle_window, explain_overlaps, group_and_slots, parse_hours, plan, sync_id,
                            topics_from_pairs, zone)

from guildbot.config.loader import ConfigError
from guildbot.config.syncs import SyncsConfig

if TYPE_CHECKING:
    from index.catalog.build import Project
    from index.catalog.overlaps import Overlap
    from index.digest.weekly import Week
    from index.expertise.experts import Expert
    from index.people.visibility import Viewer
    from index.retrieval.search import Hit
    from index.storage.factory import Store

    from guildbot.config.loader import Config
    from guildbot.guild import Guild

log = logging.getLogger("guildbot.syncs.service")
OVERLAPS = 40          # overlap pairs read to find topics
EXPERTS = 12           # experts asked per topic
EXPERT_WEIGHT = 0.5    # expertise = this x the search's experts + the rest x share of the topic's projects
ADHOC_DAYS = 7         # an ad-hoc sync is planned in the next week


class SyncAnswers(Protocol):
    """The answers the syncs ask of the answer layer (Guild has them all)."""

    def viewer_for(self, email: str = "", slack_id: str = "") -> "Viewer": ...

    def overlaps(self, limit: int = 10, include_same_team: bool = False, min_score: float | None = None,
                 viewer: "Viewer | None" = None) -> list["Overlap"]: ...

    def experts(self, question: str, limit: int = 10, team: str | None = None, viewer: "Viewer | None" = None, *,
                surface: str | None = "api", asker: str | None = None) -> list["Expert"]: ...

    def search(self, query: str, limit: int = 10, team: str | None = None, viewer: "Viewer | None" = None, *,
               surface: str | None = "api", asker: str | None = None) -> list["Hit"]: ...

    def projects(self, team: str | None = None, topic: str | None = None,
                 viewer: "Viewer | None" = None) -> list["Project"]: ...


def syncs_for(guild: "Guild") -> "SyncService":
    """The syncs service of a guild: its store, its answers and its config. Surfaces build it once;
    this is the one place outside guild.py that reads `guild.store` for syncs."""
    return SyncService(guild.store, guild, guild.config)


class SyncService:
    """Sync proposals and their stored state. Owns its storage use: every read and write of the
    syncs' tables goes through `store`; `answers` is asked only for answers."""

    def __init__(self, store: "Store", answers: SyncAnswers, config: "Config"):
        self.store, self.answers, self.config = store, answers, config

    def settings(self) -> SyncsConfig:
        return self.config.syncs or SyncsConfig()

    def shared(self) -> "Viewer":
        """What a proposal may show: public sources only, since several people (or a channel) read it."""
        return self.answers.viewer_for()

    # -- planning ----------------------------------------------------------------------------------
    def _people(self) -> dict[str, Person]:
        """Everyone as the planner sees them, with the directory's own `hours`; a bad `hours` or `tz`
        cell is a ConfigError naming the person, since no time could be computed for them."""
        config = self.config
        hours: dict[str, str] = {}
        if config.directory:
            try:
                rows = load_directory(config.directory)
            except DirectoryError as e:
                raise ConfigError(config.path, "[people] directory", str(e), "fix the CSV and run it again")
            hours = {r["email"].casefold(): r["hours"] for r in rows if r.get("hours")}
        people = sync_inputs.sync_people(self.store, hours)
        for p in people.values():
            if not p.in_directory:
                continue
            try:
                zone(p.tz)
                parse_hours(p.hours or self.settings().plan.working_hours)
            except ValueError as e:
                raise ConfigError(config.directory or config.path, f"the row of {p.email}", str(e),
                                  "write tz as an IANA zone (Europe/Berlin) and hours as 09:00-17:00, or leave hours empty")
        return people

    def _busy(self, first, last) -> list[tuple[datetime, datetime]]:
        cfg = self.settings()
        if not cfg.caldav_url:
            return []
        from guildbot.syncs.caldav import CalendarError, calendar_from_config
        try:
            return calendar_from_config(cfg).busy(datetime.combine(first, datetime.min.time(), timezone.utc),
                                                  datetime.combine(last, datetime.max.time(), timezone.utc))
        except CalendarError as e:
            log.warning("%s; planning without busy times", e)
            return []

    def _overlaps(self) -> list["Overlap"]:
        """Cross-team overlaps, best first: at least OVERLAPS, and every strong one (within the
        planner's `strong_ratio` of the best) however many there are, so each is accounted for."""
        ratio = self.settings().plan.strong_ratio
        limit = OVERLAPS
        while True:
            found = self.answers.overlaps(limit=limit, viewer=self.shared())
            if len(found) < limit or found[-1].score < ratio * found[0].score:
                return found
            limit *= 2

    def _pairs(self, overlaps: list | None = None) -> list[Pair]:
        out = []
        for o in overlaps if overlaps is not None else self._overlaps():
            evidence = [side for e in o.evidence for side in (e["a"], e["b"])]
            out.append(Pair(o.a.id, o.a.team, o.b.id, o.b.team, o.score, evidence))
        return out

    def _away(self, now: datetime | None = None) -> set[str]:
        """Who no sync may include: a sync opt-out, or a person opted out or paused in their consent."""
        return syncstore.optouts(self.store) | consent_store.unavailable_keys(self.store, now)

    def _expertise(self, query: str, projects: list[str], activity: dict[str, str], now: datetime) -> dict[str, Candidate]:
        """person id -> their expertise on the topic (the experts search and their share of its
        projects) and how recently they worked (activity_weight): recency orders, never removes."""
        experts = self.answers.experts(query, limit=EXPERTS, viewer=self.shared()) if query else []
        top = max((e.score for e in experts), default=0.0) or 1.0
        found = {e.person_id: e.score / top for e in experts if e.person_id}
        share = syncstore.project_people(self.store, projects)
        top_share = max(share.values(), default=0.0) or 1.0
        scores = {}
        for pid in set(found) | set(share):
            expertise = EXPERT_WEIGHT * found.get(pid, 0.0) + (1 - EXPERT_WEIGHT) * share.get(pid, 0.0) / top_share
            scores[pid] = Candidate(round(expertise, 6), activity_weight(activity.get(pid), now))
        return scores

    def _contacts(self, topics: list[Topic]) -> dict[str, str]:
        """team -> whom to name for a side with nobody in the directory: its Slack channel, else the
        owners of its projects in `topics` (CODEOWNERS, catalog-info or top contributors)."""
        out: dict[str, str] = {}
        owners: dict[str, list[str]] = {}
        names: dict[str, list[str]] = {}
        wanted = {p for t in topics for p in t.projects}
        for p in self.answers.projects(viewer=self.shared()):
            if p.id in wanted and p.owners:
                owners.setdefault(p.team, [])
                owners[p.team] += [o for o in p.owners[:2] if o not in owners[p.team]]
                names.setdefault(p.team, []).append(p.name)
        for team in {t for topic in topics for t in topic.teams}:
            cfg = self.config.team(team)
            if cfg is not None and cfg.slack_channel:
                out[team] = cfg.slack_channel
            elif owners.get(team):
                out[team] = f"the owners of {', '.join(names[team][:3])} ({', '.join(owners[team][:3])})"
        return out

    def topics(self, overlaps: list["Overlap"] | None = None) -> list[Topic]:
        """Topics worth a meeting, best first. Titles come from key phrases: each project's own, and
        those an overlap found on both of its sides (index/catalog/overlaps.py)."""
        terms, surface = sync_inputs.project_terms(self.store)
        if overlaps is None:
            overlaps = self._overlaps()
        for o in overlaps:
            for rank, phrase in enumerate(o.shared_topics):
                for side in (o.a.id, o.b.id):
                    terms.setdefault(side, Counter())[phrase.casefold()] += len(o.shared_topics) - rank
                surface[(phrase.casefold(), phrase)] += 1
        projects = self.answers.projects(viewer=self.shared())
        return topics_from_pairs(self._pairs(overlaps), self.settings().plan, terms, {p.id: p.name for p in projects},
                                 surface, exclude=syncstore.name_words(self.store),
                                 all_teams={p.id: p.team for p in projects},
                                 background=sync_inputs.project_phrases(self.store))

    def propose(self, now: datetime | None = None, replan: bool = False) -> list[dict[str, Any]]:
        """The next cycle's proposals (stored; planned once per cycle unless `replan` drops the unposted)."""
        return self.plan(now, replan)[0]

    def explain(self, now: datetime | None = None, replan: bool = False,
                save: bool = True) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The next cycle's proposals (as `propose`) and why: every cross-team overlap with what became
        of it (`explain_overlaps`: proposed, or the reason it was not), and a note when there is none.
        `save=False` (the web page) plans nothing new: it explains the stored cycle, or what
        `syncs propose` would do when the cycle is not planned yet."""
        return self.plan(now, replan, explain=True, save=save)

    def plan(self, now: datetime | None = None, replan: bool = False, explain: bool = False,
             save: bool = True) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Plan the next cycle once (stored); a cycle already planned is kept unless `replan` or an
        opt-out since. With `explain`, a planning pass that stores nothing says what became of each
        topic the stored proposals do not cover; with `save=False` nothing is stored or dropped."""
        now = now or datetime.now(timezone.utc)
        settings = self.settings().plan
        first, last = cycle_window(now, settings.cycle)
        label = cycle_label(first)
        store = self.store
        existing = syncstore.list_syncs(store, cycle=label, origin="cycle")
        out = self._away(now)
        stale = any(s["status"] == "proposed" and _opted_out(s, out) for s in existing)
        keep = bool(existing) and (not save or not (replan or stale))
        if existing and not keep:  # plan again what was never posted (someone opted out since, or --replan)
            syncstore.delete_unposted(store, label)
            existing = syncstore.list_syncs(store, cycle=label, origin="cycle")
        if keep and not explain:
            return [public(s) for s in existing if s["status"] != "cancelled"], {}
        taken = {s["id"]: s for s in existing}
        overlaps = self._overlaps()
        topics = self.topics(overlaps)
        found = [t for t in topics if sync_id(label, t.key) not in taken]
        people = self._people()
        activity = syncstore.person_activity(store)
        candidates = {t.key: self._expertise(" ".join(t.phrases) or t.title, t.projects, activity, now) for t in found}
        since = (now - timedelta(weeks=settings.avoid_repeat_weeks)).isoformat(timespec="seconds")
        room = PlanSettings(**{**vars(settings), "max_syncs": max(0, settings.max_syncs - len(existing))})
        result = plan(found, candidates, people, room, now, load=syncstore.cycle_load(store, label),
                      recent=syncstore.recent_groups(store, since) if settings.avoid_repeat_weeks else [],
                      opted_out=out, busy=self._busy(first, last), contacts=self._contacts(found))
        if not keep and save:
            for p in result.proposals:
                self._save(p, "cycle")
        rows = [public(s) for s in syncstore.list_syncs(store, cycle=label, origin="cycle")]
        if keep:
            rows = [r for r in rows if taken.get(r["id"], {}).get("status") != "cancelled"]
        if not explain:
            return rows, {}
        outcomes = list(result.outcomes)
        for t in topics:
            sid = sync_id(label, t.key)
            if sid in taken:
                status = taken[sid]["status"]
                outcomes.append(Outcome(t, "proposed" if status != "cancelled" else "cancelled",
                                        f"planned for this cycle as {sid} ({status})"))
        if keep:  # what the stored plan left out is explained by the pass above, which stored nothing
            outcomes = [o if o.status != "proposed" or sync_id(label, o.topic.key) in taken else
                        Outcome(o.topic, "not_planned", "the cycle was planned before this topic could make it; "
                                "`guildbot syncs propose --replan` plans the unposted proposals again") for o in outcomes]
        elif not save:  # nothing stored yet: say what planning would do
            outcomes = [o if o.status != "proposed" else
                        Outcome(o.topic, "not_planned", "not planned yet; `guildbot syncs propose` would propose it: "
                                + o.reason.removeprefix("proposed ")) for o in outcomes]
        names = {p.id: p.name for p in self.answers.projects(viewer=self.shared())}
        pairs = explain_overlaps(self._pairs(overlaps), settings, outcomes, names)
        note = ""
        if not pairs:
            note = (f"no pair of projects of two teams scores [overlaps] min_score ({self.config.overlaps_min_score}) or "
                    "more, so there is no topic to meet on; `guildbot overlaps --include-same-team` shows what is "
                    "alike, and a lower [overlaps] min_score in guild.toml lets weaker overlaps count")
        return rows, {"cycle": label, "overlaps": pairs, "note": note}

    def propose_topic(self, topic: str, now: datetime | None = None) -> dict[str, Any] | None:
        """An ad-hoc sync on `topic`: the people who know it from at least two teams, in the next week.
        Not limited by max_per_person (someone asked for it); opt-outs and the other rules hold."""
        now = now or datetime.now(timezone.utc)
        topic = " ".join(topic.split())
        if not topic:
            return None
        cfg = self.settings()
        first = (now + timedelta(days=1)).date()
        last = first + timedelta(days=ADHOC_DAYS)
        label = f"adhoc-{now.date().isoformat()}"
        sid = sync_id(label, topic.casefold())
        stored = syncstore.get_sync(self.store, sid)
        if stored:
            return public(stored)
        hits = self.answers.search(topic, limit=8, viewer=self.shared())
        projects = syncstore.projects_of(self.store, [h.doc_id for h in hits])
        people = self._people()
        scores = self._expertise(topic, projects, syncstore.person_activity(self.store), now)
        settings = PlanSettings(**{**vars(cfg.plan), "max_per_person": 10 ** 6})
        busy = self._busy(first, last)
        found = group_and_slots(scores, people, settings, first, last, busy, opted_out=self._away(now))
        if not found:
            return None
        group, slots = found
        evidence = []
        for h in hits:
            if all(h.url != e["url"] for e in evidence):
                evidence.append({"title": h.title, "url": h.url})
        t = Topic("adhoc:" + topic.casefold(), topic, projects, sorted({m.team for m in group}), evidence[:5],
                  round(max((c.expertise for c in scores.values()), default=0.0), 4))
        proposal = Proposal(sid, label, t, group, slots)
        self._save(proposal, "adhoc")
        return public(syncstore.get_sync(self.store, sid))

    def _save(self, p: Proposal, origin: str) -> None:
        slots = [{**s.public(), "local": {m.email: m.public(s.start)["local_start"] for m in p.members}} for s in p.slots]
        syncstore.save_sync(self.store, p.public(), p.cycle, origin, slots, [m.id for m in p.members])

    def move(self, sync_id_: str, slot_index: int) -> dict[str, Any] | None:
        """Give a sync its `slot_index`th alternative time; returns the sync."""
        sync = syncstore.get_sync(self.store, sync_id_)
        if not sync or not 0 <= slot_index < len(sync["slots"]):
            return None
        s = sync["slots"][slot_index]
        syncstore.move_sync(self.store, sync_id_, s["start"], s["end"], s["outside_hours"], s.get("local", {}))
        return syncstore.get_sync(self.store, sync_id_)

    def ics(self, sync_id_: str) -> bytes | None:
        from guildbot.syncs.ics import build_ics
        sync = syncstore.get_sync(self.store, sync_id_)
        if sync is None:
            return None
        cfg = self.settings()
        name = self.config.name
        return build_ics(sync, organizer=cfg.organizer or f"guildbot@{name.casefold().replace(' ', '-')}.invalid",
                         conference_url=cfg.conference_url, guild_name=name)

    # -- stored state ------------------------------------------------------------------------------
    def stored(self, status: list[str] | None = None) -> list[dict[str, Any]]:
        """Stored syncs with their state (status, channel, slots), soonest first."""
        return syncstore.list_syncs(self.store, status=status)

    def get(self, sync_id_: str) -> dict[str, Any] | None:
        return syncstore.get_sync(self.store, sync_id_)

    def upcoming(self, week: "Week | None" = None, team: str = "", now: datetime | None = None) -> list[dict[str, Any]]:
        """Cross-team syncs (proposed, posted or scheduled) starting after `week` ends (else after
        `now`), soonest first; only those with `team` among their teams when given. Each has the
        `syncs propose --json` fields plus "status" and "url"."""
        start = week.end if week is not None else (now or datetime.now(timezone.utc))
        return syncstore.upcoming(self.store, start, team)

    def checkins(self, since: str | None = None) -> list[dict[str, Any]]:
        """What came of past syncs: check-in answers since an ISO time, newest first."""
        return syncstore.checkins(self.store, since)

    def optout(self, keys: list[str], out: bool = True) -> None:
        """Never propose these people (Slack id, email or person id) for syncs again; out=False undoes it."""
        syncstore.set_optout(self.store, keys, out)

    # -- what the Slack flow records ---------------------------------------------------------------
    def posted(self, sync_id_: str, channel: str, ts: str) -> None:
        """The proposal was posted as message `ts` in `channel`."""
        syncstore.stamp(self.store, sync_id_, "posted_at", channel=channel, ts=ts, status="posted")

    def members(self, sync_id_: str) -> dict[str, str]:
        """Slack id -> person id of a sync's members."""
        return syncstore.members_of(self.store, sync_id_)

    def record_rsvp(self, sync_id_: str, slack_id: str, answer: str) -> dict[str, str]:
        """Store a member's answer; returns every member's answer so far (Slack id -> "yes" | "no")."""
        syncstore.record_rsvp(self.store, sync_id_, slack_id, answer)
        return self.rsvps(sync_id_)

    def rsvps(self, sync_id_: str) -> dict[str, str]:
        return syncstore.rsvps(self.store, sync_id_)

    def claim_invite(self, sync_id_: str, claim: bool = True) -> bool:
        """True for the one caller that may send the invitation; claim=False releases it after a failure."""
        return syncstore.claim_invite(self.store, sync_id_, claim)

    def scheduled(self, sync_id_: str, caldav_href: str | None = None) -> None:
        """The invitation went out (and to CalDAV at `caldav_href`, when written there)."""
        syncstore.update_sync(self.store, sync_id_, status="scheduled", **({"caldav_href": caldav_href} if caldav_href else {}))

    def reminded(self, sync_id_: str) -> None:
        syncstore.stamp(self.store, sync_id_, "reminded_at")

    def checkin_sent(self, sync_id_: str) -> None:
        syncstore.stamp(self.store, sync_id_, "checkin_at")

    def checkin(self, sync_id_: str, slack_id: str, met: bool, outcome: str = "") -> None:
        """A member's check-in answer; a sync whose members met is done."""
        syncstore.record_checkin(self.store, sync_id_, slack_id, met, outcome)
        if met:
            syncstore.update_sync(self.store, sync_id_, status="done")


def _opted_out(sync: dict[str, Any], out: set[str]) -> bool:
    return any(m["slack_id"] in out or m["email"].casefold() in out for m in sync["members"])


def public(sync: dict[str, Any]) -> dict[str, Any]:
    """The `syncs propose --json` shape of a stored sync."""
    out = {k: sync.get(k) for k in ("id", "topic", "teams", "members", "start", "end", "outside_hours", "evidence", "score")}
    out["contacts"] = sync.get("contacts") or []
    return out


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
