"""Stateless replicas: two `guildbot serve` processes on one Postgres database, no shared data_dir state.

Both replicas receive the same signed Slack event and the same signed slash command (as a load
balancer that retries, or Slack redelivering, would send them): each is answered exactly once,
decided by the seen-events table in Postgres. The demo org is crawled into the database once.
"""
from __future__ import annotations

import concurrent.futures
import json
from urllib.parse import urlencode

import httpx
import pytest

from support.fake_slack import RESPONSE_URL
from support.serve import serve_process
from support.slack import event_callback, fake_slack, mention_event, signed_headers, slash_command  # noqa: F401
from test_slack_serve import slack_env


@pytest.fixture(scope="module")
def replicas(pg_demo, fake_slack, tmp_path_factory):
    logs = tmp_path_factory.mktemp("replicas")
    env = slack_env(fake_slack, GUILDBOT_DATABASE=None)
    with serve_process(pg_demo, env, logs / "a.log") as a, serve_process(pg_demo, env, logs / "b.log") as b:
        yield a, b


def _both(urls: list[str], body: str, **headers: str) -> list[int]:
    def send(url: str) -> int:
        return httpx.post(url + "/slack/events", content=body, headers=signed_headers(body, **headers), timeout=30).status_code
    with concurrent.futures.ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(send, urls))


def test_the_same_event_sent_to_two_replicas_is_answered_once(replicas, fake_slack, demo_dir):
    fake_slack.reset()
    assert not (demo_dir / "build" / ".guildbot-pg" / "guild.db").exists()  # nothing of the index in data_dir
    for n in range(3):
        event = mention_event(f"<@{fake_slack.bot_user_id}> who knows drift monitoring? {n}", user="U0REPLICA")
        body = json.dumps(event_callback(event, None, fake_slack.bot_user_id))
        assert _both(list(replicas), body, content_type="application/json", **{"X-Slack-Retry-Num": "1"}) == [200, 200]
        fake_slack.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == event["ts"], timeout=60)
        fake_slack.quiet(1.5)
        answers = [c for c in fake_slack.calls_to("chat.postMessage") if c.args.get("thread_ts") == event["ts"]]
        assert len(answers) == 1
        assert "drift" in json.dumps(answers[0].args).lower()  # answered from the Postgres index


def test_the_same_slash_command_sent_to_two_replicas_is_answered_once(replicas, fake_slack):
    fake_slack.reset()
    for n in range(3):
        key = f"replica-cmd-{n}"
        body = urlencode(slash_command("who recommender", fake_slack.response_url(key)))
        assert _both(list(replicas), body) == [200, 200]
        fake_slack.wait_for(lambda c: c.method == RESPONSE_URL and c.key == key and c.ok, timeout=60)
        fake_slack.quiet(1.5)
        assert [c.key for c in fake_slack.calls_to(RESPONSE_URL)].count(key) == 1


def test_different_commands_are_each_answered_by_some_replica(replicas, fake_slack):
    """Deduplication keys on the invocation: distinct commands, spread over both replicas, all get answers."""
    fake_slack.reset()
    a, b = replicas
    for n in range(4):
        body = urlencode(slash_command(f"who drift monitoring {n}", fake_slack.response_url(f"spread-{n}")))
        url = a if n % 2 else b
        assert httpx.post(url + "/slack/events", content=body, headers=signed_headers(body), timeout=30).status_code == 200
    fake_slack.wait_for(lambda c: c.method == RESPONSE_URL and c.key.startswith("spread-") and c.ok, count=4, timeout=60)
    fake_slack.quiet(1.0)
    assert sorted(c.key for c in fake_slack.calls_to(RESPONSE_URL)) == [f"spread-{n}" for n in range(4)]
