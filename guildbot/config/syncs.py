"""The [syncs] section of guild.toml: cross-team sync planning, posting and calendars.

    [syncs]
    cycle = "weekly"                  # weekly | biweekly | monthly
    duration = 30                     # minutes
    group_size = [3, 6]               # smallest and largest group
    max_per_person = 1                # syncs per person per cycle
    avoid_repeat_weeks = 8            # the same group (Jaccard >= 0.6) not again within this
    working_hours = "09:00-17:00"     # a directory `hours` column overrides it per person
    holidays = ["2026-12-25"]
    max_syncs = 3                     # proposals per cycle
    channel = "#ml-guild"             # a thread per sync here; without it, a group DM per sync
    quorum = 0                        # accepts that schedule a sync; 0 = a majority (at least 2)
    organizer = "guildbot@acme.example"
    conference_url = "https://meet.example/guild"
    caldav_url = "https://cal.example/dav/guild/"   # credentials: GUILDBOT_CALDAV_USERNAME / _PASSWORD
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from index.syncs.plan import CYCLES, PlanSettings, parse_hours

from guildbot.config.errors import ConfigError, expect


@dataclass
class SyncsConfig:
    plan: PlanSettings = field(default_factory=PlanSettings)
    channel: str = ""
    quorum: int = 0
    organizer: str = ""
    conference_url: str = ""
    caldav_url: str = ""

    def quorum_for(self, members: int) -> int:
        """Accepts needed: the configured number (at most the group), else a majority of at least two."""
        if self.quorum:
            return min(self.quorum, members)
        return min(members, max(2, members // 2 + 1))


def parse_syncs(path: Path, table: Any) -> SyncsConfig:

    entry = "[syncs]"
    if table is None:
        return SyncsConfig()
    if not isinstance(table, dict):
        raise ConfigError(path, entry, "must be a table", 'write [syncs] with cycle = "weekly"')
    known = {"cycle", "duration", "group_size", "max_per_person", "avoid_repeat_weeks", "working_hours", "holidays",
             "max_syncs", "channel", "quorum", "organizer", "conference_url", "caldav_url"}
    for key in table:
        if key not in known:
            raise ConfigError(path, entry, f"unknown field `{key}`", f"[syncs] accepts: {', '.join(sorted(known))}")
    plan = PlanSettings()

    def number(key: str, default: int, low: int, high: int, fix: str) -> int:
        value = expect(path, entry, table, key, int, False, fix)
        if value is None:
            return default
        if not low <= value <= high:
            raise ConfigError(path, entry, f"`{key}` = {value} is out of range", fix)
        return value

    cycle = expect(path, entry, table, "cycle", str, False, f"use one of: {', '.join(CYCLES)}") or plan.cycle
    if cycle not in CYCLES:
        raise ConfigError(path, entry, f"unknown cycle {cycle!r}", f"use one of: {', '.join(CYCLES)}")
    plan.cycle = cycle
    plan.duration = number("duration", plan.duration, 15, 240, "set duration to minutes between 15 and 240, e.g. 30")
    size = expect(path, entry, table, "group_size", list, False, "write group_size = [3, 6]")
    if size is not None:
        if len(size) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in size) \
                or not 2 <= size[0] <= size[1] <= 12:
            raise ConfigError(path, entry, f"group_size = {size!r} is not [smallest, largest] between 2 and 12",
                              "write group_size = [3, 6]")
        plan.min_size, plan.max_size = size
    plan.max_per_person = number("max_per_person", plan.max_per_person, 1, 10, "set max_per_person between 1 and 10")
    plan.avoid_repeat_weeks = number("avoid_repeat_weeks", plan.avoid_repeat_weeks, 0, 104,
                                     "set avoid_repeat_weeks between 0 and 104")
    plan.max_syncs = number("max_syncs", plan.max_syncs, 1, 50, "set max_syncs between 1 and 50")
    hours = expect(path, entry, table, "working_hours", str, False, 'e.g. working_hours = "09:00-17:00"')
    if hours is not None:
        try:
            parse_hours(hours)
        except ValueError as e:
            raise ConfigError(path, entry, str(e), 'e.g. working_hours = "09:00-17:00"')
        plan.working_hours = hours
    for h in expect(path, entry, table, "holidays", list, False, 'e.g. holidays = ["2026-12-25"]') or []:
        try:
            plan.holidays.append(h if isinstance(h, date) else date.fromisoformat(str(h)))
        except ValueError:
            raise ConfigError(path, entry, f"holiday {h!r} is not a date", 'write dates as "2026-12-25"')
    cfg = SyncsConfig(plan)
    cfg.channel = expect(path, entry, table, "channel", str, False, 'e.g. channel = "#ml-guild"') or ""
    cfg.quorum = number("quorum", 0, 0, 12, "set quorum to the accepts needed, or 0 for a majority")
    cfg.organizer = expect(path, entry, table, "organizer", str, False, 'e.g. organizer = "guildbot@acme.example"') or ""
    cfg.conference_url = expect(path, entry, table, "conference_url", str, False, "a meeting link, or remove it") or ""
    cfg.caldav_url = expect(path, entry, table, "caldav_url", str, False, "the CalDAV calendar's URL") or ""
    if cfg.caldav_url and not cfg.caldav_url.startswith(("http://", "https://")):
        raise ConfigError(path, entry, f"caldav_url {cfg.caldav_url!r} is not an http(s) URL",
                          "give the calendar collection's URL, e.g. https://cal.example/dav/guild/")
    return cfg
