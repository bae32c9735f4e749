"""Acceptance: `guildbot serve` as a real process on the crawled demo org, configured only through the
environment (tokens, signing secret, SLACK_API_URL -> the fake Slack); signed slash commands, a burst
of them, `guildbot slack-console`, start-up errors, and the app manifest."""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import yaml

from support.fake_slack import RESPONSE_URL
from guildbot import blockkit as kit
from support.serve import GUILDBOT, free_port, serve_process
from support.slack import (SECRET, assert_names_recommender_authors, bot, event_callback, fake_slack,  # noqa: F401
                           mention_event, signed_headers, slash_command)

ROOT = Path(__file__).resolve().parents[3]


def slack_env(fake, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update({"SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
                "HF_HUB_OFFLINE": "1"})
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture(scope="module")
def served(demo_dir, demo_guild, fake_slack, tmp_path_factory):
    """`guildbot serve` in its own process (the index was crawled by demo_guild)."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serve_process(demo_dir / "guild.toml", slack_env(fake_slack), log) as url:
        yield url


def command(url: str, fake, text: str, key: str) -> httpx.Response:
    body = urlencode(slash_command(text, fake.response_url(key)))
    return httpx.post(url + "/slack/events", content=body, headers=signed_headers(body), timeout=30)


def test_guildbot_serve_answers_who_recommender(served, fake_slack, demo_guild):
    assert fake_slack.calls_to("auth.test", ok=True)  # at start-up the bot checked its token at SLACK_API_URL
    fake_slack.reset()
    resp = command(served, fake_slack, "who recommender", "serve-who")
    assert resp.status_code == 200
    reply = fake_slack.wait_for(lambda c: c.method == RESPONSE_URL and c.key == "serve-who" and c.ok)[0].args
    kit.validate(reply["blocks"])
    assert_names_recommender_authors("\n".join(b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"),
                                     demo_guild)


def test_a_burst_of_commands_is_acknowledged_in_time_and_answered_exactly_once(served, fake_slack):
    fake_slack.reset()
    n = 20
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        responses = list(pool.map(lambda i: command(served, fake_slack, f"who drift monitoring {i}", f"burst-{i}"), range(n)))
    assert [r.status_code for r in responses] == [200] * n  # ack latency is make bench's (scripts/bench_slack.py)
    fake_slack.wait_for(lambda c: c.method == RESPONSE_URL and c.key.startswith("burst-") and c.ok, count=n, timeout=60)
    fake_slack.quiet(1.0)
    keys = [c.key for c in fake_slack.calls_to(RESPONSE_URL)]
    assert sorted(keys) == sorted(f"burst-{i}" for i in range(n))


def test_a_retried_event_is_answered_once_across_two_bot_processes(served, bot, fake_slack):
    """`guildbot serve` in its own process and the in-process app, on one data_dir, both get each event."""
    fake_slack.reset()
    for n in range(3):
        event = mention_event(f"<@{fake_slack.bot_user_id}> who knows drift monitoring? {n}", user="U0TWICE")
        body = json.dumps(event_callback(event, None, fake_slack.bot_user_id))

        def send(url: str, retry: str) -> httpx.Response:
            headers = signed_headers(body, content_type="application/json", **{"X-Slack-Retry-Num": retry})
            return httpx.post(url, content=body, headers=headers, timeout=30)

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            sent = list(pool.map(send, [served + "/slack/events", bot.url], ["1", "1"]))
        assert [r.status_code for r in sent] == [200, 200]
        assert send(served + "/slack/events", "2").status_code == 200
        fake_slack.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == event["ts"], timeout=60)
        fake_slack.quiet(1.5)
        assert len([c for c in fake_slack.calls_to("chat.postMessage") if c.args.get("thread_ts") == event["ts"]]) == 1


def console(*args: str, secret: str = SECRET, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["SLACK_SIGNING_SECRET"] = secret
    return subprocess.run([*GUILDBOT, "slack-console", *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd="/")  # needs no guild.toml


def test_slack_console_prints_the_answer_as_text(served, demo_guild):
    done = console("/guild who recommender", "--url", served + "/slack/events")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("> /guild who recommender\n") and re.search(r"\(acknowledged in \d+ ms\)", out)
    assert "── reply (only visible to you) ──" in out
    for e in demo_guild.experts("who recommender", limit=2):
        assert f"@{e.slack_id} ({e.name}) · {e.team}" in out
        assert f"{e.evidence[0].title} <{e.evidence[0].url}>" in out
    assert out.rstrip().endswith("[Share in channel] [Ask them]")
    assert "<@" not in out and "&lt;" not in out  # readable, not Slack markup


def test_slack_console_reports_a_wrong_secret_and_an_absent_server(served):
    wrong = console("/guild help", "--url", served + "/slack/events", secret="wrong")
    assert wrong.returncode == 2 and "signature" in wrong.stderr
    absent = console("who drift", "--url", f"http://127.0.0.1:{free_port()}/slack/events")
    assert absent.returncode == 2 and "is `guildbot serve` running" in absent.stderr
    unset = console("help", secret="")
    assert unset.returncode == 2 and "SLACK_SIGNING_SECRET is not set" in unset.stderr


def run_cli(demo_dir, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*GUILDBOT, "--config", str(demo_dir / "guild.toml"), *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_start_up_stops_with_a_message_naming_what_is_missing(demo_dir, fake_slack):
    # with neither variable serve runs the web app alone (tests/guildbot/web/test_web_serve.py); with one, the other is missing
    done = run_cli(demo_dir, "serve", "--port", str(free_port()), env=slack_env(fake_slack, SLACK_BOT_TOKEN=None))
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in done.stderr and "OAuth & Permissions" in done.stderr
    done = run_cli(demo_dir, "serve", "--port", str(free_port()), env=slack_env(fake_slack, SLACK_SIGNING_SECRET=None))
    assert done.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in done.stderr and "Signing Secret" in done.stderr
    done = run_cli(demo_dir, "slack", "--socket", env=slack_env(fake_slack, SLACK_APP_TOKEN=None))
    assert done.returncode == 2 and "SLACK_APP_TOKEN is not set" in done.stderr and "connections:write" in done.stderr
    done = run_cli(demo_dir, "slack", env=slack_env(fake_slack))
    assert done.returncode == 2 and "--socket" in done.stderr and "guildbot serve" in done.stderr


def test_start_up_stops_when_slack_rejects_the_token(demo_dir, fake_slack):
    fake_slack.reset()
    done = run_cli(demo_dir, "serve", "--port", str(free_port()), env=slack_env(fake_slack, SLACK_BOT_TOKEN="xoxb-revoked"))
    assert done.returncode == 2 and "did not accept SLACK_BOT_TOKEN" in done.stderr and fake_slack.api_url in done.stderr
    assert [c.result.get("error") for c in fake_slack.calls_to("auth.test")] == ["invalid_auth"]


# -- the manifest --------------------------------------------------------------------------------------------
SCOPE_OF = {"chat_postMessage": "chat:write", "chat_postEphemeral": "chat:write", "chat_update": "chat:write",
            "users_lookupByEmail": "users:read.email", "users_info": "users:read", "conversations_open": "im:write",
            "files_upload_v2": "files:write",  # a sync's .ics (getUploadURLExternal + completeUploadExternal)
            "views_open": "commands",  # needs no scope of its own, only the trigger_id of a click
            "views_publish": None}  # the App Home: no scope, the manifest's home tab


def test_manifest_covers_the_command_events_interactivity_and_every_api_method_used():
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/guild"] and commands[0]["should_escape"] is True
    settings = manifest["settings"]
    urls = {commands[0]["url"], settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]}
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im", "message.channels",
                                                                  "message.groups", "app_home_opened"}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "app_mentions:read", "im:history"} <= scopes
    code = "".join(p.read_text() for p in (ROOT / "guildbot" / "slack").glob("*.py"))
    used = set(re.findall(r"\bclient\.(\w+)\(", code)) - {"auth_test"}
    assert {"users_info", "users_lookupByEmail", "chat_postMessage"} <= used
    assert used and used <= set(SCOPE_OF), f"add the scope of {used - set(SCOPE_OF)} to the manifest and SCOPE_OF"
    assert {SCOPE_OF[m] for m in used} - {None} <= scopes
    assert {"channels:history", "groups:history"} <= scopes  # follow-ups in threads (message.channels / .groups)
