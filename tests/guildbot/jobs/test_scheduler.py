"""The scheduler of `guildbot serve` (APScheduler 3): weekly jobs at a local time, a catch-up run
at start-up when the last scheduled run was missed, and the digest job end to end."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from guildbot.jobs.scheduler import Scheduler, digest_missed, digest_week, previous_weekly, start_for
from index.storage import digest_runs

from support.digest import CHANNELS, demo_week  # noqa: F401 - a fixture
from support.fake_slack import FakeSlack

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")


def test_the_previous_weekly_time_is_local():
    monday_9 = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)
    assert previous_weekly(monday_9, "monday", "09:00", "Europe/London") == monday_9.astimezone(UTC)
    assert previous_weekly(datetime(2026, 11, 30, 8, 59, tzinfo=LONDON), "monday", "09:00", "Europe/London") \
        == datetime(2026, 11, 23, 9, 0, tzinfo=LONDON).astimezone(UTC)
    # summer time: Monday 09:00 in London is 08:00 UTC
    assert previous_weekly(datetime(2026, 7, 1, tzinfo=UTC), "monday", "09:00", "Europe/London") == datetime(2026, 6, 29, 8, 0, tzinfo=UTC)
    assert previous_weekly(datetime(2026, 12, 2, tzinfo=UTC), "friday", "17:30", "Pacific/Auckland") \
        == datetime(2026, 11, 27, 17, 30, tzinfo=ZoneInfo("Pacific/Auckland")).astimezone(UTC)


def test_a_weekly_job_is_due_at_its_local_time_and_catches_up_once_when_missed():
    ran: list = []
    done = threading.Event()
    s = Scheduler()
    s.weekly("digest", lambda when: (ran.append(when), done.set()), "monday", "09:00", "Europe/London",
             missed=lambda when: True)
    s.weekly("quiet", lambda when: ran.append("quiet"), "tuesday", "10:00", "UTC", missed=lambda when: False)
    try:
        assert s.start() == ["digest"]
        assert done.wait(10)
        time.sleep(0.3)
        assert ran == [previous_weekly(datetime.now(UTC), "monday", "09:00", "Europe/London")]  # once, for the missed run
        nxt = s.next_run("digest").astimezone(LONDON)
        assert (nxt.isoweekday(), nxt.hour, nxt.minute) == (1, 9, 0) and nxt > datetime.now(UTC)
    finally:
        s.shutdown()


def test_an_interval_job_runs_and_a_failing_one_keeps_its_schedule():
    calls = []
    two = threading.Event()

    def flaky(when):
        calls.append(when)
        if len(calls) >= 2:
            two.set()
        raise RuntimeError("boom")
    s = Scheduler()
    s.every("syncs", flaky, seconds=0.2)
    s.start()
    try:
        assert two.wait(10) and calls[0] is None
    finally:
        s.shutdown()


def test_serve_posts_a_missed_digest_once_even_from_two_processes(demo_guild, demo_week):
    for table in ("digest_runs", "digest_overlaps"):
        demo_guild.store.conn.execute(f"DELETE FROM {table}")
    assert start_for(demo_guild, environ={}) is None  # no token: nothing to schedule
    with FakeSlack(channels=CHANNELS) as fake:
        env = {"SLACK_BOT_TOKEN": fake.token, "SLACK_API_URL": fake.api_url}
        missed = digest_missed(demo_guild)
        last = previous_weekly(datetime.now(UTC), "monday", "09:00", "Europe/London")
        assert missed(last)
        schedulers = [start_for(demo_guild, environ=env), start_for(demo_guild, environ=env)]
        try:
            deadline = time.monotonic() + 240
            while missed(last) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert not missed(last)
            for s in schedulers:
                job = s.aps.get_job("digest-catch-up")
                while job is not None and time.monotonic() < deadline:  # let the second process finish too
                    time.sleep(0.5)
                    job = s.aps.get_job("digest-catch-up")
            fake.quiet(1.0)
        finally:
            for s in schedulers:
                s.shutdown()
        for name in CHANNELS:
            assert len(fake.messages_in("#" + name)) == 1, name
        assert len(fake.calls_to("chat.postMessage", ok=True)) == len(CHANNELS)
        runs = digest_runs.runs(demo_guild.store)
        assert {r.week for r in runs} == {digest_week(last, "Europe/London")}  # the week the missed run was for
