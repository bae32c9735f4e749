"""A sync's invitation as iCalendar (RFC 5545), built with icalendar: one VEVENT with a UID stable
per sync (so a new time updates the same event), ORGANIZER, an ATTENDEE per member, UTC times
and the conference link where one is configured."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//guildbot//cross-team syncs//EN"


def uid(sync: dict[str, Any]) -> str:
    return f"{sync['id']}@guildbot"


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def description(sync: dict[str, Any], conference_url: str = "") -> str:
    lines = [f"Cross-team sync: {sync['topic']}", "", "Why these people:"]
    lines += [f"- {m['name']} ({m['team']})" for m in sync["members"]]
    if sync.get("evidence"):
        lines += ["", "Read first:"] + [f"- {e['title']}: {e['url']}" for e in sync["evidence"]]
    if conference_url:
        lines += ["", f"Join: {conference_url}"]
    return "\n".join(lines)


def build_ics(sync: dict[str, Any], organizer: str, conference_url: str = "", guild_name: str = "guild",
              sequence: int = 0, method: str = "REQUEST") -> bytes:
    """The invitation for a stored sync (the `syncs propose --json` shape with `start`/`end`)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    ev = Event()
    ev.add("uid", uid(sync))
    ev.add("dtstamp", datetime.now(timezone.utc).replace(microsecond=0))
    ev.add("dtstart", _utc(sync["start"]))
    ev.add("dtend", _utc(sync["end"]))
    ev.add("summary", f"{guild_name} sync: {sync['topic']}")
    ev.add("description", description(sync, conference_url))
    ev.add("sequence", sequence)
    org = vCalAddress(f"mailto:{organizer}")
    org.params["cn"] = vText(f"{guild_name} guildbot")
    ev.add("organizer", org)
    for m in sync["members"]:
        att = vCalAddress(f"mailto:{m['email']}")
        att.params["cn"] = vText(m["name"])
        att.params["role"] = vText("REQ-PARTICIPANT")
        att.params["partstat"] = vText("NEEDS-ACTION")
        att.params["rsvp"] = vText("TRUE")
        ev.add("attendee", att, encode=0)
    if conference_url:
        ev.add("location", conference_url)
        ev.add("url", conference_url)
    cal.add_component(ev)
    return cal.to_ical()
