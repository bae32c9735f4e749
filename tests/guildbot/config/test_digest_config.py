"""guild.toml [digest] and [query_log]: defaults, and one clear ConfigError per mistake (exit 2)."""
import subprocess
import sys

import pytest

from guildbot.config.loader import ConfigError, load_config

from test_config import write

GOOD = """
[guild]
name = "Acme"
[[teams]]
name = "Home Feed"
slack_channel = "#home-feed"
[[sources]]
kind = "git"
name = "ranker"
team = "Home Feed"
url = "/srv/ranker"
"""
DIGEST = """
[digest]
channel = "#ml-guild"
per_team = true
day = "Friday"
time = "7:30"
tz = "Pacific/Auckland"
max_items = 8
empty = "line"
web_url = "https://guild.acme.example/"

[query_log]
retention_days = 30
weak_below = 0.4
"""


def test_defaults_without_the_sections(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    d = cfg.digest
    assert (d.channel, d.per_team, d.day, d.time, d.tz, d.max_items, d.empty) == ("", False, "monday", "09:00", "UTC", 5, "skip")
    assert cfg.query_log.retention_days == 90


def test_every_field_is_read_and_normalised(tmp_path):
    cfg = load_config(write(tmp_path, GOOD + DIGEST))
    d = cfg.digest
    assert (d.channel, d.per_team, d.day, d.time, d.tz, d.max_items, d.empty, d.web_url) == (
        "#ml-guild", True, "friday", "07:30", "Pacific/Auckland", 8, "line", "https://guild.acme.example")
    assert (cfg.query_log.retention_days, cfg.query_log.weak_below) == (30, 0.4)


@pytest.mark.parametrize("change, entry, problem, fix", [
    (('channel = "#ml-guild"', 'channel = "ml guild"'), "[digest] channel", "neither a #channel name nor a channel id", '"#ml-guild"'),
    (('day = "Friday"', 'day = "fri"'), "[digest] day", "unknown day 'fri'", "monday, tuesday"),
    (('time = "7:30"', 'time = "25:00"'), "[digest] time", "not a time of day", "24-hour"),
    (('time = "7:30"', "time = 930"), "[digest]", "`time` must be a str", '"09:00"'),
    (('tz = "Pacific/Auckland"', 'tz = "Mars/Olympus"'), "[digest] tz", "unknown time zone 'Mars/Olympus'", "IANA"),
    (("max_items = 8", "max_items = 0"), "[digest] max_items", "out of range", "1 to 20"),
    (("per_team = true", 'per_team = "yes"'), "[digest]", "`per_team` must be a bool", "true or false"),
    (('empty = "line"', 'empty = "never"'), "[digest] empty", "unknown value 'never'", '"skip"'),
    (('web_url = "https://guild.acme.example/"', 'web_url = "guild.acme"'), "[digest] web_url", "not an http(s) URL", "web_url ="),
    (("max_items = 8", "max_items = 8\nchanel = 1"), "[digest]", "unknown field `chanel`", "accepts: channel"),
    (("retention_days = 30", "retention_days = 0"), "[query_log] retention_days", "keeps nothing", "at least 1"),
])
def test_mistakes_name_the_entry_and_the_fix(tmp_path, change, entry, problem, fix):
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, (GOOD + DIGEST).replace(*change)))
    assert e.value.entry == entry and problem in e.value.problem and fix in e.value.fix, str(e.value)


def test_per_team_needs_a_team_channel(tmp_path):
    with pytest.raises(ConfigError, match="no team declares a slack_channel"):
        load_config(write(tmp_path, GOOD.replace('slack_channel = "#home-feed"', "") + DIGEST))


def test_the_cli_exits_2_on_a_bad_digest_section(tmp_path):
    path = write(tmp_path, GOOD + DIGEST.replace('day = "Friday"', 'day = "someday"'))
    out = subprocess.run([sys.executable, "-m", "guildbot", "--config", str(path), "digest", "--dry-run"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "[digest] day" in out.stderr and "Traceback" not in out.stderr


def test_posting_needs_somewhere_to_post(tmp_path):
    path = write(tmp_path, GOOD)
    out = subprocess.run([sys.executable, "-m", "guildbot", "--config", str(path), "digest"], capture_output=True, text=True)
    assert out.returncode == 2 and "no channel to post the digest to" in out.stderr and "--channel" in out.stderr
