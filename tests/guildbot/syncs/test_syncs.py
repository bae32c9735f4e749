"""Syncs through the CLI on the demo org (the acceptance command), the stored state, the .ics
export, and the [syncs] configuration's errors."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from guildbot.cli import main as cli
from guildbot.config.loader import ConfigError, load_config
from guildbot.syncs.service import syncs_for

MEMBER_KEYS = ["name", "email", "team", "tz", "slack_id", "local_start"]
KEYS = ["id", "topic", "teams", "members", "start", "end", "outside_hours", "evidence", "score", "contacts"]


def clean(guild) -> None:
    for t in ("syncs", "sync_members", "sync_rsvps", "sync_checkins", "sync_optouts"):
        guild.store.conn.execute(f"DELETE FROM {t}")


def run(capsys, *argv) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def utc(value: str) -> datetime:
    assert value.endswith("Z")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_demo_proposes_a_recommender_sync_across_home_feed_and_marketplace_inside_everyones_hours(demo_guild, demo_dir, capsys):
    clean(demo_guild)
    config = str(demo_dir / "guild.toml")
    code, out = run(capsys, "--config", config, "syncs", "propose", "--json")
    assert code == 0
    proposals = json.loads(out)
    assert proposals and all(list(p) == KEYS for p in proposals)
    assert all(list(m) == MEMBER_KEYS for p in proposals for m in p["members"])
    rec = next(p for p in proposals if "recommend" in p["topic"].casefold())
    assert {"Home Feed", "Marketplace"} <= {m["team"] for m in rec["members"]} and rec["teams"] == sorted(rec["teams"])
    assert 3 <= len(rec["members"]) <= 6 and rec["outside_hours"] == []
    directory = {r["email"]: r for r in demo_guild.store.query("SELECT emails, tz, slack_id FROM people")
                 for r in [{**r, "email": json.loads(r["emails"])[0]}]}
    start, end = utc(rec["start"]), utc(rec["end"])
    assert (end - start).total_seconds() == 30 * 60
    for m in rec["members"]:
        assert m["slack_id"] and m["tz"] == directory[m["email"]]["tz"]
        local, local_end = start.astimezone(ZoneInfo(m["tz"])), end.astimezone(ZoneInfo(m["tz"]))
        assert local.weekday() < 5 and local.hour >= 9 and (local_end.hour, local_end.minute) <= (17, 0), (m, local)
        assert datetime.fromisoformat(m["local_start"]) == start
    assert rec["evidence"] and all(set(e) == {"title", "url"} for e in rec["evidence"])
    # a cycle planned twice proposes once
    code, again = run(capsys, "--config", config, "syncs", "propose", "--json")
    assert json.loads(again) == proposals
    assert demo_guild.store.count("syncs") == len(proposals)
    # list and ics
    code, listing = run(capsys, "--config", config, "syncs", "list")
    assert rec["id"] in listing and rec["topic"] in listing
    assert cli.main(["--config", config, "syncs", "ics", rec["id"]]) == 0
    event = Calendar.from_ical(capsys.readouterr().out).walk("VEVENT")[0]
    assert event.decoded("dtstart") == start and str(event["uid"]) == f"{rec['id']}@guildbot"
    assert cli.main(["--config", config, "syncs", "ics", "nope"]) == 2
    assert "sync 'nope' does not exist" in capsys.readouterr().err
    # opting out through the CLI, then planning again
    victim = rec["members"][0]["email"]
    assert run(capsys, "--config", config, "syncs", "optout", victim)[0] == 0
    code, replanned = run(capsys, "--config", config, "syncs", "propose", "--json")  # unposted: planned again
    assert all(victim != m["email"] for p in json.loads(replanned) for m in p["members"])
    clean(demo_guild)


def test_syncs_post_without_a_token_says_what_to_set(demo_dir, capsys, monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert cli.main(["--config", str(demo_dir / "guild.toml"), "syncs", "post"]) == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err


@pytest.mark.parametrize("body, problem", [
    ('cycle = "daily"', "unknown cycle"),
    ('working_hours = "9-5"', "HH:MM"),
    ("group_size = [5, 3]", "group_size"),
    ("duration = 5", "out of range"),
    ('holidays = ["someday"]', "not a date"),
    ('caldav_url = "cal.example"', "not an http"),
    ("colour = 1", "unknown field"),
])
def test_bad_syncs_config_is_a_clear_error(tmp_path, body, problem):
    path = tmp_path / "guild.toml"
    path.write_text(f'[guild]\nname = "T"\n\n[syncs]\n{body}\n')
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert e.value.entry == "[syncs]" and problem in str(e.value) and e.value.fix


def test_syncs_config_reads_every_setting(tmp_path):
    path = tmp_path / "guild.toml"
    path.write_text('[guild]\nname = "T"\n\n[syncs]\ncycle = "biweekly"\nduration = 45\ngroup_size = [2, 4]\n'
                    'max_per_person = 2\navoid_repeat_weeks = 4\nworking_hours = "08:00-16:00"\n'
                    'holidays = ["2026-12-25", 2026-12-26]\nchannel = "#ml-guild"\nquorum = 3\n')
    s = load_config(path).syncs
    assert (s.plan.cycle, s.plan.duration, s.plan.min_size, s.plan.max_size, s.plan.max_per_person,
            s.plan.avoid_repeat_weeks, s.plan.working_hours) == ("biweekly", 45, 2, 4, 2, 4, "08:00-16:00")
    assert [str(d) for d in s.plan.holidays] == ["2026-12-25", "2026-12-26"] and s.channel == "#ml-guild"
    assert s.quorum_for(5) == 3 and s.quorum_for(2) == 2


def test_syncs_post_posts_each_proposal_once(demo_guild, demo_dir, capsys, monkeypatch):
    from support.fake_slack import FakeSlack
    from support.slack import directory_users
    clean(demo_guild)
    with FakeSlack(users=directory_users()) as fake:
        monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
        monkeypatch.setenv("SLACK_API_URL", fake.api_url)
        config = str(demo_dir / "guild.toml")
        assert cli.main(["--config", config, "syncs", "post"]) == 0
        first = capsys.readouterr().out
        posts = fake.calls_to("chat.postMessage", ok=True)
        assert posts and f"{len(posts)} posted now" in first
        assert cli.main(["--config", config, "syncs", "post"]) == 0
        assert "0 posted now" in capsys.readouterr().out and len(fake.calls_to("chat.postMessage", ok=True)) == len(posts)
        fake.fail("chat.postMessage", "not_in_channel")
        demo_guild.store.conn.execute("UPDATE syncs SET posted_at = NULL")
        assert cli.main(["--config", config, "syncs", "post"]) == 1
        assert "not_in_channel" in capsys.readouterr().err
    clean(demo_guild)


def test_the_directory_hours_column_is_read_and_optional(tmp_path):
    from index.people.resolve import load_directory
    with_hours = tmp_path / "a.csv"
    with_hours.write_text("name,email,team,slack_id,tz,hours\nAda,ada@x.example,T,UADA,Asia/Kolkata,10:00-18:30\n"
                          "Bo,bo@x.example,T,UBO,UTC,\n")
    rows = load_directory(with_hours)
    assert [r["hours"] for r in rows] == ["10:00-18:30", ""]
    without = tmp_path / "b.csv"
    without.write_text("name,email\nAda,ada@x.example\n")
    assert load_directory(without)[0]["hours"] == ""


def test_a_bad_hours_cell_names_the_person_and_the_fix(demo_guild, demo_dir, tmp_path, monkeypatch):
    rows = (demo_dir / "directory.csv").read_text().splitlines()
    broken = tmp_path / "directory.csv"
    broken.write_text("\n".join([rows[0] + ",hours", rows[1] + ",9-5", *[r + "," for r in rows[2:]]]) + "\n")
    monkeypatch.setattr(demo_guild.config, "directory", broken)
    clean(demo_guild)
    with pytest.raises(ConfigError) as e:
        syncs_for(demo_guild).propose()
    assert "HH:MM" in str(e.value) and rows[1].split(",")[1] in e.value.entry and "09:00-17:00" in e.value.fix


def test_upcoming_syncs_for_the_digest(demo_guild):
    from datetime import datetime, timedelta, timezone
    clean(demo_guild)
    now = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
    planned = syncs_for(demo_guild).propose(now=now)
    assert [s["id"] for s in syncs_for(demo_guild).upcoming(now=now)] == [p["id"] for p in sorted(planned, key=lambda p: p["start"])]
    last = max(datetime.fromisoformat(p["start"].replace("Z", "+00:00")) for p in planned)
    assert syncs_for(demo_guild).upcoming(now=last + timedelta(minutes=1)) == []
    clean(demo_guild)


def test_proposals_show_public_sources_only(demo_guild):
    from datetime import datetime, timezone
    source = next(s for s in demo_guild.config.sources if s.name == "similar-items")
    saved = source.visibility
    clean(demo_guild)
    try:
        source.visibility = "team"  # Marketplace only: several readers from other teams may not see it
        proposals = syncs_for(demo_guild).propose(now=datetime(2026, 12, 1, 10, tzinfo=timezone.utc))
        urls = [e["url"] for p in proposals for e in p["evidence"]]
        assert urls and not any("similar-items" in u for u in urls)
    finally:
        source.visibility = saved
        clean(demo_guild)
