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

The planner's settings (index/syncs/plan.py PlanSettings) are `SyncsConfig.plan`.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass

from index.syncs.plan import CYCLES, PlanSettings, parse_hours

from guildbot.config.errors import FORBID, Invalid, List, Section, Text, Whole

PLAN = PlanSettings()  # the planner's defaults are the section's
RANGES = {  # field: (lowest, highest, fix)
    "duration": (15, 240, "set duration to minutes between 15 and 240, e.g. 30"),
    "max_per_person": (1, 10, "set max_per_person between 1 and 10"),
    "avoid_repeat_weeks": (0, 104, "set avoid_repeat_weeks between 0 and 104"),
    "max_syncs": (1, 50, "set max_syncs between 1 and 50"),
    "quorum": (0, 12, "set quorum to the accepts needed, or 0 for a majority"),
}
GROUP_FIX = "write group_size = [3, 6]"
HOURS_FIX = 'e.g. working_hours = "09:00-17:00"'


def _number(name: str, default: int) -> Any:
    return Field(default, description=RANGES[name][2])


@dataclass(config=FORBID)
class SyncsConfig(Section):
    TABLE, TABLE_FIX, FIELD_IN_ENTRY = "[syncs]", 'write [syncs] with cycle = "weekly"', False

    cycle: Text = Field(PLAN.cycle, description=f"use one of: {', '.join(CYCLES)}")
    duration: Whole = _number("duration", PLAN.duration)
    group_size: List = Field(default_factory=lambda: [PLAN.min_size, PLAN.max_size], description=GROUP_FIX)
    max_per_person: Whole = _number("max_per_person", PLAN.max_per_person)
    avoid_repeat_weeks: Whole = _number("avoid_repeat_weeks", PLAN.avoid_repeat_weeks)
    working_hours: Text = Field(PLAN.working_hours, description=HOURS_FIX)
    holidays: List = Field(default_factory=list, description='e.g. holidays = ["2026-12-25"]')
    max_syncs: Whole = _number("max_syncs", PLAN.max_syncs)
    channel: Text = Field("", description='e.g. channel = "#ml-guild"')
    quorum: Whole = _number("quorum", 0)
    organizer: Text = Field("", description='e.g. organizer = "guildbot@acme.example"')
    conference_url: Text = Field("", description="a meeting link, or remove it")
    caldav_url: Text = Field("", description="the CalDAV calendar's URL")

    @property
    def plan(self) -> PlanSettings:
        """The planner's settings: these fields, the planner's defaults for the rest."""
        return PlanSettings(min_size=self.group_size[0], max_size=self.group_size[1], max_per_person=self.max_per_person,
                            avoid_repeat_weeks=self.avoid_repeat_weeks, cycle=self.cycle, duration=self.duration,
                            working_hours=self.working_hours, holidays=list(self.holidays), max_syncs=self.max_syncs)

    def quorum_for(self, members: int) -> int:
        """Accepts needed: the configured number (at most the group), else a majority of at least two."""
        if self.quorum:
            return min(self.quorum, members)
        return min(members, max(2, members // 2 + 1))

    @classmethod
    def unknown(cls, key: str, context: dict) -> tuple[str, str]:
        return f"unknown field `{key}`", f"{cls.TABLE} accepts: {', '.join(sorted(cls.keys()))}"

    @field_validator("cycle")
    @classmethod
    def _cycle(cls, value: str) -> str:
        value = value or PLAN.cycle
        if value not in CYCLES:
            raise Invalid(f"unknown cycle {value!r}", f"use one of: {', '.join(CYCLES)}")
        return value

    @field_validator(*RANGES)
    @classmethod
    def _in_range(cls, value: int, info: ValidationInfo) -> int:
        low, high, fix = RANGES[info.field_name]
        if not low <= value <= high:
            raise Invalid(f"`{info.field_name}` = {value} is out of range", fix)
        return value

    @field_validator("group_size")
    @classmethod
    def _group_size(cls, value: list) -> list[int]:
        if len(value) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in value) \
                or not 2 <= value[0] <= value[1] <= 12:
            raise Invalid(f"group_size = {value!r} is not [smallest, largest] between 2 and 12", GROUP_FIX)
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        try:
            parse_hours(value)
        except ValueError as e:
            raise Invalid(str(e), HOURS_FIX) from None
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: list) -> list[date]:
        days = []
        for h in value:
            try:
                days.append(h if isinstance(h, date) else date.fromisoformat(str(h)))
            except ValueError:
                raise Invalid(f"holiday {h!r} is not a date", 'write dates as "2026-12-25"') from None
        return days

    @field_validator("caldav_url")
    @classmethod
    def _caldav_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise Invalid(f"caldav_url {value!r} is not an http(s) URL",
                          "give the calendar collection's URL, e.g. https://cal.example/dav/guild/")
        return value
