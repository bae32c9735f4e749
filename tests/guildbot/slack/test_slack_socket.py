"""Socket Mode's request path: the envelopes Slack sends over the WebSocket, fed as raw text into the
real SocketModeHandler's client (its message queue, listeners and Bolt dispatch) for the same App;
what goes back over the socket is captured instead of sent, and answers land on the fake Slack."""
from __future__ import annotations

import json
import queue
import time
import uuid

import pytest

from support.fake_slack import RESPONSE_URL
from guildbot import blockkit as kit
from support.slack import (ASKER, assert_names_recommender_authors, block_action, event_callback,  # noqa: F401
                           fake_slack, find_button, mention_event, slash_command)


@pytest.fixture(scope="module")
def socket_bot(demo_guild, fake_slack):
    from guildbot.slack.app import SlackSettings, build_app, socket_mode_handler, warm_up

    warm_up(demo_guild)
    settings = SlackSettings(bot_token=fake_slack.token, app_token="xapp-1-A0GUILDBOT-1-test", api_url=fake_slack.api_url)
    app = build_app(demo_guild, settings)
    handler = socket_mode_handler(app, settings)
    acks: "queue.Queue[tuple[float, dict]]" = queue.Queue()
    # the socket's outbound side: what the client would send back to Slack over the WebSocket
    handler.client.send_message = lambda message: acks.put((time.monotonic(), json.loads(message)))
    yield handler, acks
    handler.close()


@pytest.fixture
def sock(socket_bot, fake_slack, demo_guild):
    fake_slack.reset()
    demo_guild.store.conn.execute("DELETE FROM feedback")
    handler, acks = socket_bot
    while not acks.empty():
        acks.get_nowait()

    def send(kind: str, payload: dict, **extra) -> tuple[str, float]:
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", **extra}
        t0 = time.monotonic()
        handler.client.enqueue_message(json.dumps(envelope))  # exactly the text frame Slack sends
        return envelope_id, t0

    def ack(envelope_id: str, timeout: float = 3.0) -> tuple[float, dict]:
        deadline = time.monotonic() + timeout
        while True:
            at, msg = acks.get(timeout=max(0.01, deadline - time.monotonic()))
            if msg.get("envelope_id") == envelope_id:
                return at, msg

    yield send, ack
    fake_slack.quiet(0.3)
    demo_guild.store.conn.execute("DELETE FROM feedback")


def test_slash_command_over_socket_mode_names_the_recommender_authors(sock, fake_slack, demo_guild):
    send, ack = sock
    envelope_id, t0 = send("slash_commands", slash_command("who recommender", fake_slack.response_url("sm-who")))
    at, msg = ack(envelope_id)
    assert at - t0 < 3.0 and msg == {"envelope_id": envelope_id}  # acknowledged, empty payload
    reply = fake_slack.wait_for(lambda c: c.method == RESPONSE_URL and c.key == "sm-who" and c.ok)[0].args
    kit.validate(reply["blocks"])
    text = "\n".join(b["text"]["text"] for b in reply["blocks"] if b["type"] == "section")
    assert_names_recommender_authors(text, demo_guild)
    for e in demo_guild.experts("who recommender", limit=5):  # the same people, evidence and order as `guildbot who`
        assert f"<@{e.slack_id}> ({e.name})" in text
        assert all(f"<{ev.url}|" in text for ev in e.evidence)
    fake_slack.quiet(0.5)
    assert len(fake_slack.calls_to(RESPONSE_URL)) == 1


def test_events_over_socket_mode_are_answered_in_thread_once_despite_retries(sock, fake_slack):
    send, ack = sock
    event = mention_event(f"<@{fake_slack.bot_user_id}> drift monitoring")
    body = event_callback(event, "EvSocket0001", fake_slack.bot_user_id)
    first, _ = send("events_api", body, retry_attempt=0, retry_reason="")
    ack(first)
    again, _ = send("events_api", body, retry_attempt=1, retry_reason="timeout")
    ack(again)  # the retry is acknowledged too ...
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert post.args["thread_ts"] == event["ts"]
    fake_slack.quiet(1.0)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # ... but answered once


def test_share_button_over_socket_mode(sock, fake_slack):
    send, ack = sock
    envelope_id, _ = send("slash_commands", slash_command("who drift monitoring", fake_slack.response_url("sm-1")))
    ack(envelope_id)
    private = fake_slack.wait_for(lambda c: c.method == RESPONSE_URL and c.key == "sm-1" and c.ok)[0].args
    block, button = find_button(private["blocks"], kit.SHARE)
    envelope_id, _ = send("interactive", block_action(block, button, fake_slack.response_url("sm-2")))
    ack(envelope_id)
    shared = fake_slack.wait_for(lambda c: c.method == RESPONSE_URL and c.key == "sm-2" and c.ok, count=2)
    assert shared[0].args["response_type"] == "in_channel"
    assert f"<@{ASKER}>" in shared[0].args["blocks"][0]["elements"][0]["text"]
    assert shared[1].args == {"delete_original": True}
