"""Syncs and CalDAV against a real Radicale server on loopback: a busy event moves the proposed
slot; an accepted sync appears as an event; an unreachable calendar is a clear error."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar, Event
from slack_sdk import WebClient

from guildbot.slack import syncs as slack_syncs
from guildbot.syncs.caldav import CalDAVCalendar, CalendarError, busy_intervals
from support.radicale import USER, radicale  # noqa: F401
from support.slack import fake_slack  # noqa: F401
from guildbot.syncs.service import syncs_for

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def t(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def clean(guild) -> None:
    for table in ("syncs", "sync_members", "sync_rsvps", "sync_checkins", "sync_optouts"):
        guild.store.conn.execute(f"DELETE FROM {table}")


def busy_event(uid: str, start: datetime, end: datetime, transparent: bool = False) -> str:
    cal = Calendar()
    cal.add("prodid", "-//test//")
    cal.add("version", "2.0")
    ev = Event()
    ev.add("uid", uid)
    ev.add("dtstamp", NOW)
    ev.add("dtstart", start)
    ev.add("dtend", end)
    ev.add("summary", "Busy")
    if transparent:
        ev.add("transp", "TRANSPARENT")
    cal.add_component(ev)
    return cal.to_ical().decode()


@pytest.fixture
def caldav_guild(demo_guild, radicale, monkeypatch):
    cfg = demo_guild.config.syncs
    saved = (cfg.caldav_url, cfg.quorum)
    clean(demo_guild)
    cal = radicale.calendar(f"syncs{datetime.now().microsecond}")
    monkeypatch.setenv("GUILDBOT_CALDAV_USERNAME", USER)
    monkeypatch.setenv("GUILDBOT_CALDAV_PASSWORD", "x")
    yield demo_guild, cal
    cfg.caldav_url, cfg.quorum = saved
    clean(demo_guild)


def test_a_busy_event_moves_the_slot_and_an_accepted_sync_becomes_an_event(caldav_guild, fake_slack):
    guild, cal = caldav_guild
    free = syncs_for(guild).propose(now=NOW)[0]
    start, end = t(free["start"]), t(free["end"])
    clean(guild)
    cal.save_event(busy_event("busy-1", start - timedelta(minutes=15), end + timedelta(minutes=15)))
    cal.save_event(busy_event("free-1", end + timedelta(hours=1), end + timedelta(hours=2), transparent=True))
    guild.config.syncs.caldav_url = str(cal.url)
    moved = syncs_for(guild).propose(now=NOW)[0]
    assert moved["topic"] == free["topic"] and moved["members"] and moved["start"] != free["start"]
    m0, m1 = t(moved["start"]), t(moved["end"])
    assert not (m0 < end + timedelta(minutes=15) and start - timedelta(minutes=15) < m1)  # clear of the busy time
    assert moved["outside_hours"] == []

    # accepted: posted, two members say yes (quorum 2), the event is on the calendar
    guild.config.syncs.quorum = 2
    client = WebClient(token=fake_slack.token, base_url=fake_slack.api_url)
    slack_syncs.run_cycle(syncs_for(guild), client, now=NOW)
    flow = slack_syncs.SyncFlow(syncs_for(guild), client)
    ids = [m["slack_id"] for m in moved["members"]]
    assert flow.rsvp(moved["id"], ids[0], "yes") == "recorded"
    assert flow.rsvp(moved["id"], ids[1], "yes") == "invited"
    events = {str(e.icalendar_component["uid"]): e for e in cal.search(event=True)}
    assert f"{moved['id']}@guildbot" in events
    ev = events[f"{moved['id']}@guildbot"].icalendar_component
    assert ev.decoded("dtstart") == m0 and ev.decoded("dtend") == m1
    assert sorted(str(a).removeprefix("mailto:") for a in ev["attendee"]) == sorted(m["email"] for m in moved["members"])
    assert syncs_for(guild).get(moved["id"])["caldav_href"].startswith(str(cal.url))


def test_busy_intervals_read_all_day_and_skip_transparent_events():
    day = Calendar()
    day.add("version", "2.0")
    ev = Event()
    ev.add("uid", "d")
    ev.add("dtstart", NOW.date())
    day.add_component(ev)
    text = day.to_ical().decode()
    transparent = busy_event("t", NOW, NOW + timedelta(hours=1), transparent=True)
    assert busy_intervals([text, transparent]) == [(datetime(2026, 12, 1, tzinfo=timezone.utc),
                                                    datetime(2026, 12, 2, tzinfo=timezone.utc))]


def test_an_unreachable_calendar_is_a_clear_error_and_planning_goes_on(demo_guild, monkeypatch):
    from support.radicale import free_port
    dead = f"http://127.0.0.1:{free_port()}/guild/none/"
    with pytest.raises(CalendarError, match="caldav_url"):
        CalDAVCalendar(dead).busy(NOW, NOW + timedelta(days=1))
    cfg = demo_guild.config.syncs
    saved = cfg.caldav_url
    clean(demo_guild)
    try:
        cfg.caldav_url = dead
        assert syncs_for(demo_guild).propose(now=NOW)  # planned without busy times, with a warning
    finally:
        cfg.caldav_url = saved
        clean(demo_guild)
