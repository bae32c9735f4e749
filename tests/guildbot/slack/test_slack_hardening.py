"""The Slack endpoint against hostile and broken requests, through the real app on uvicorn: malformed
bodies get 400 after the signature check (401 before it) and no traceback; what users type is
escaped wherever it is echoed; a per-user rate limit answers politely; and two bot instances on
one data_dir, each with its own Guild and SQLite connection, answer a retried event once."""
from __future__ import annotations

import concurrent.futures
import json
import logging
from urllib.parse import urlencode

import httpx
import pytest

from support.guilds import open_guild, shared_embedder  # noqa: F401
from guildbot import blockkit as kit
from support.slack import (ASKER, CHANNEL, Bot, ServerThread, SECRET, dm_event, fake_slack, mention_event,  # noqa: F401
                           signed_headers, slash_command)

HOSTILE = "<!channel> <!here> <@U0TOMAS> & <https://evil.example|click> who knows recommender?"
RATE = 3


def make_bot(guild, fake, rate_limit: int = 0) -> tuple[Bot, ServerThread]:
    from guildbot.slack.app import SlackSettings, build_app
    from guildbot.web.app import create_app

    settings = SlackSettings(bot_token=fake.token, signing_secret=SECRET, api_url=fake.api_url, rate_limit=rate_limit)
    app = build_app(guild, settings)
    server = ServerThread(create_app(guild, app)).start()
    return Bot(server.url + "/slack/events", fake, app, httpx.Client(timeout=30)), server


@pytest.fixture(scope="module")
def bots(demo_guild, demo_dir, fake_slack, shared_embedder):  # noqa: F811
    """Two bot instances on the demo's data_dir: A (rate limited) on the session's Guild, B on its own."""
    from guildbot.slack.app import warm_up

    other = open_guild(demo_dir / "guild.toml", shared_embedder)
    warm_up(demo_guild)
    warm_up(other)
    a, server_a = make_bot(demo_guild, fake_slack, rate_limit=RATE)
    b, server_b = make_bot(other, fake_slack)
    yield a, b
    for bot, server in ((a, server_a), (b, server_b)):
        bot.http.close()
        server.stop()
    other.close()


@pytest.fixture
def a_and_b(bots):
    bots[0].fake.reset()
    yield bots
    bots[0].fake.quiet(0.3)


def rendered(blocks: list[dict]) -> str:
    """Every text Slack renders in the blocks (button values are data, never shown)."""
    out = []
    for b in blocks:
        out += [b["text"]["text"]] if b.get("text") else []
        out += [e["text"] if isinstance(e.get("text"), str) else e.get("text", {}).get("text", "") for e in b.get("elements", [])]
    return "\n".join(out)


def post(bot: Bot, body: str | bytes, headers: dict) -> httpx.Response:
    return bot.http.post(bot.url, content=body, headers=headers)


FORM = "application/x-www-form-urlencoded"
MALFORMED = [
    (urlencode({"payload": "{not json"}), FORM, "not valid JSON"),
    (urlencode({"payload": json.dumps([1, 2])}), FORM, "not an object"),
    (urlencode({"payload": json.dumps("text")}), FORM, "not an object"),
    ('{"type": "event_callback", "event": ', "application/json", "not valid JSON"),
    ("[1, 2, 3]", "application/json", "a JSON list, not an object"),
    ('"just a string"', "application/json", "not an object"),
    (urlencode({k: v for k, v in slash_command("who recommender", "http://x").items() if k != "user_id"}), FORM,
     "`user_id` is missing"),
    (urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": ASKER}})}), FORM, "`actions` is missing"),
    (urlencode({"payload": json.dumps({"type": "block_actions", "user": "U1", "actions": [{}]})}), FORM, "`user` is missing"),
    (json.dumps({"type": "event_callback", "event_id": "Ev1", "event": "hello"}), "application/json", "`event` is missing"),
    (json.dumps({"type": "event_callback", "event_id": "Ev2", "event": {"type": "app_mention", "text": ["x"]}}),
     "application/json", "event.`text` is not a string"),
    (json.dumps({"type": "event_callback", "event": {"type": "app_mention"}}), "application/json", "`event_id` is missing"),
    (json.dumps({"token": "x"}), "application/json", "neither a slash command nor a payload"),
]


def test_slacks_ssl_check_is_answered_without_reaching_the_bot(a_and_b):
    a, _ = a_and_b
    assert post(a, "ssl_check=1&token=legacy", {"Content-Type": FORM}).status_code == 200
    a.fake.quiet(0.3)
    assert a.fake.calls == []


def test_a_body_that_is_not_utf8_cannot_be_verified_and_gets_401(a_and_b, caplog):
    a, _ = a_and_b
    raw = b"command=/guild&text=\xff\xfe&user_id=U1"
    with caplog.at_level(logging.DEBUG):
        resp = post(a, raw, {**signed_headers("x"), "Content-Type": FORM})
    assert resp.status_code == 401 and "not UTF-8" in resp.text
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("body, content_type, problem", MALFORMED)
def test_malformed_signed_bodies_get_400_naming_the_problem_and_no_traceback(a_and_b, caplog, body, content_type, problem):
    a, _ = a_and_b
    with caplog.at_level(logging.DEBUG):
        unsigned = post(a, body, {"Content-Type": content_type})
        forged = post(a, body, signed_headers(body, secret="wrong", content_type=content_type))
        stale = post(a, body, signed_headers(body, timestamp=1_000_000_000, content_type=content_type))
        signed = post(a, body, signed_headers(body, content_type=content_type))
    assert unsigned.status_code == forged.status_code == stale.status_code == 401  # the signature is checked first
    assert signed.status_code == 400 and problem in signed.text, signed.text
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    a.fake.quiet(0.3)
    assert a.fake.calls == []


def test_what_users_type_never_pings_anyone_in_blocks_or_notification_text(a_and_b):
    _, b = a_and_b
    _, key = b.command(HOSTILE)
    reply = b.reply(key)
    event = mention_event(f"<@{b.fake.bot_user_id}> {HOSTILE}")
    b.event(event)
    posted = b.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == event["ts"])[0].args
    dm = dm_event(HOSTILE)
    b.event(dm)
    direct = b.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("channel") == dm["channel"])[0].args
    for message in (reply, posted, direct):
        kit.validate(message["blocks"])
        shown = message["text"] + "\n" + rendered(message["blocks"])
        for ping in ("<!channel>", "<!here>", "<@U0TOMAS>", "<https://evil.example"):
            assert ping not in shown, (ping, message["text"])
        assert "&lt;!channel&gt;" in message["text"]  # the question is echoed, escaped, in the notification too


def test_a_user_asking_too_fast_gets_a_polite_reply_and_others_are_not_slowed(a_and_b):
    a, _ = a_and_b
    answers = []
    for n in range(RATE + 1):
        _, key = a.command(f"who drift monitoring {n}", user_id="U0FAST")
        answers.append(a.reply(key))
    assert all("People who know" in r["text"] for r in answers[:RATE])
    assert "asking faster than I can keep up" in answers[RATE]["text"] and "Please ask again in" in answers[RATE]["text"]
    _, key = a.command("who drift monitoring", user_id="U0CALM")
    assert "People who know" in a.reply(key)["text"]
    event = mention_event(f"<@{a.fake.bot_user_id}> who knows drift monitoring", user="U0FAST")
    a.event(event)
    sorry = a.fake.wait_for(lambda c: c.method == "chat.postEphemeral" and c.args.get("user") == "U0FAST")[0]
    assert "asking faster" in sorry.args["text"] and sorry.args.get("thread_ts") == event["ts"]
    a.fake.quiet(0.5)
    assert not [c for c in a.fake.calls_to("chat.postMessage") if c.args.get("thread_ts") == event["ts"]]


def test_mentions_over_the_limit_are_told_once_then_stay_silent(a_and_b):
    a, _ = a_and_b
    user, bot_id = "U0BURST", a.fake.bot_user_id
    allowed = [mention_event(f"<@{bot_id}> who knows drift monitoring {n}", user=user) for n in range(RATE)]
    for event in allowed:
        a.event(event)
    a.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") in {e["ts"] for e in allowed},
                    count=RATE)
    refused = [mention_event(f"<@{bot_id}> and feature stores {n}?", user=user) for n in range(3)]
    for event in refused:
        a.event(event)
    sorry = a.fake.wait_for(lambda c: c.method == "chat.postEphemeral" and c.args.get("user") == user)[0]
    assert "asking faster" in sorry.args["text"] and sorry.args["channel"] == CHANNEL
    assert sorry.args.get("thread_ts") in {e["ts"] for e in refused}
    a.fake.quiet(1.0)
    assert len(a.fake.calls_to("chat.postEphemeral")) == 1  # told once, not once per mention
    assert not [c for c in a.fake.calls_to("chat.postMessage") if c.args.get("thread_ts") in {e["ts"] for e in refused}]


def test_a_refused_user_is_told_once_until_they_may_ask_again():
    from guildbot.slack.limits import RateLimit

    now = [0.0]
    limit = RateLimit(2, 60.0, clock=lambda: now[0])
    assert limit.allow("u") == limit.allow("u") == 0.0
    assert limit.allow("u") == 60.0 and limit.tell_once("u") and not limit.tell_once("u")
    now[0] = 30.0
    assert limit.allow("u") == 30.0 and not limit.tell_once("u")  # still the same window: silent
    now[0] = 60.0
    assert limit.allow("u") == 0.0  # the window has passed: asking again...
    assert limit.allow("u") == 0.0 and limit.allow("u") > 0 and limit.tell_once("u")  # ...and told again when over


def test_a_retried_event_is_answered_once_by_two_bot_instances_on_one_data_dir(a_and_b, demo_guild):
    a, b = a_and_b
    for n in range(3):
        event = mention_event(f"<@{a.fake.bot_user_id}> who knows drift monitoring? {n}")
        envelope_id = f"EvTwoBots{n}{event['ts'].replace('.', '')}"
        with concurrent.futures.ThreadPoolExecutor(2) as pool:  # both at once, as Slack's retry may race the first
            sent = list(pool.map(lambda bot: bot.event(event, envelope_id, **{"X-Slack-Retry-Num": "1"})[0], (a, b)))
        assert [r.status_code for r in sent] == [200, 200]
        b.event(event, envelope_id, **{"X-Slack-Retry-Num": "2"})
        a.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == event["ts"])
        a.fake.quiet(1.0)
        assert len([c for c in a.fake.calls_to("chat.postMessage") if c.args.get("thread_ts") == event["ts"]]) == 1
    seen = demo_guild.store.query("SELECT key FROM seen_events WHERE key LIKE 'event:EvTwoBots%'")
    assert len(seen) == 3


def test_seen_events_expire_and_are_shared_by_connections(tmp_path):
    from index.storage.sqlite.seen import SeenEvents

    one, two = SeenEvents(tmp_path / "db.sqlite", ttl=60), SeenEvents(tmp_path / "db.sqlite", ttl=60)
    assert one.first("e1", now=1000.0) and not two.first("e1", now=1001.0) and not one.first("e1", now=1059.0)
    assert two.first("e1", now=1061.0)  # expired: a new delivery
    assert two.first("e2", now=1061.0) and not one.first("e2", now=1062.0)
    one.close()
    two.close()
