"""Issue 26 in Slack, through signed requests to the real app and the loopback Web API fake: `/guild me`
and its buttons, the App Home, follow-ups in threads, and "Ask them". Every assertion is on what the
fake recorded, i.e. on what people would see."""
from __future__ import annotations

import json

import pytest

from guildbot import blockkit as kit
from guildbot.slack import home
from guildbot.slack.asks import SUBMIT
from guildbot.syncs.service import syncs_for
from index.retrieval import querylog
from support.consent_org import clear_consent, snow_org  # noqa: F401 - a fixture
from support.fake_slack import RESPONSE_URL, FakeSlack, User
from support.guilds import shared_embedder  # noqa: F401 - a fixture
from support.slack import (ASKER, CHANNEL, block_buttons, home_action, mention_event, new_ts, serve_bot,
                           view_submission)

INES, JON, KAI = "U0INES", "U0JON", "U0KAI"
QUESTION = "avalanche forecasting"


@pytest.fixture(scope="module")
def snow_bot(snow_org):  # noqa: F811
    users = [User(INES, "ines", "ines@snow.example", "Ines Alm"), User(JON, "jon", "jon@snow.example", "Jon Berg"),
             User(KAI, "kai", "kai@snow.example", "Kai Dahl"), User("U0LEA", "lea", "lea@snow.example", "Lea Fors"),
             User(ASKER, "asker", "asker@elsewhere.example", "Asker")]
    with FakeSlack(users=users) as fake:
        yield from serve_bot(snow_org, fake)


@pytest.fixture
def bot(snow_bot, snow_org):  # noqa: F811
    snow_bot.fake.reset()
    clear_consent(snow_org)
    snow_org.store.conn.execute("DELETE FROM query_log")
    yield snow_bot
    snow_bot.fake.quiet(0.3)
    clear_consent(snow_org)


def text_of(blocks: list[dict]) -> str:
    return kit.to_text(blocks)


def who(bot, user: str = ASKER) -> str:
    _, key = bot.command(f"who {QUESTION}", user_id=user)
    return text_of(bot.reply(key)["blocks"])


def posts(bot, channel: str | None = None) -> list:
    return [c for c in bot.fake.calls_to("chat.postMessage", ok=True) if channel is None or c.args["channel"] == channel]


# -- /guild me and who ------------------------------------------------------------------------------------
def test_an_opted_out_person_is_absent_from_who_in_slack(bot):
    assert "Ines Alm" in who(bot)
    _, key = bot.command("me stop", user_id=INES)
    reply = bot.reply(key)
    assert "no longer suggests you" in text_of(reply["blocks"])
    assert "Suggest me again" in json.dumps(reply["blocks"])
    shown = who(bot)
    assert "Ines Alm" not in shown and "Jon Berg" in shown
    _, key = bot.command("me start", user_id=INES)
    bot.reply(key)
    assert "Ines Alm" in who(bot)


def test_me_lists_topics_and_a_hide_button_hides_one(bot, snow_org):  # noqa: F811
    _, key = bot.command("me", user_id=INES)
    reply = bot.reply(key)
    kit.validate(reply["blocks"])
    hides = [(b, e) for b, e in block_buttons(reply["blocks"]) if e["action_id"] == home.ME_HIDE]
    assert hides, text_of(reply["blocks"])
    block, button = hides[0]
    topic = kit.decode_value(button["value"])["t"]
    assert topic in snow_org.person("ines@snow.example").topics
    _, key2 = bot.click([{"type": "actions", "block_id": block["block_id"], "elements": [button]}], home.ME_HIDE,
                        user=INES)
    again = bot.reply(key2)
    assert again["replace_original"] is True
    assert f"~{topic}~ (hidden)" in text_of(again["blocks"])
    assert snow_org.consent("p:ines@snow.example")["hidden_topics"] == [topic]


def test_me_pause_and_a_bad_pause(bot, snow_org):  # noqa: F811
    _, key = bot.command("me pause 2w", user_id=JON)
    assert "Paused for 14 days" in text_of(bot.reply(key)["blocks"])
    assert snow_org.consent("p:jon@snow.example")["paused_until"]
    assert "Jon Berg" not in who(bot)
    _, key = bot.command("me pause forever", user_id=JON)
    assert "write a number of days or weeks" in text_of(bot.reply(key)["blocks"])


def test_me_for_someone_guildbot_does_not_know(bot):
    _, key = bot.command("me", user_id=ASKER)
    assert "does not know you yet" in text_of(bot.reply(key)["blocks"])


# -- the App Home --------------------------------------------------------------------------------------
def test_app_home_opened_publishes_the_persons_home(bot, snow_org):  # noqa: F811
    querylog.record(snow_org.store, "how is the avalanche bulletin danger level decided", "slack", "experts", 0.1, 0,
                    asker="U0LEA")
    for table in ("syncs", "sync_members"):
        snow_org.store.conn.execute(f"DELETE FROM {table}")
    sync = syncs_for(snow_org).propose_topic("avalanche forecasting")
    assert sync and INES in [m.get("slack_id") for m in sync["members"]]
    resp, _ = bot.event({"type": "app_home_opened", "user": INES, "channel": "D0INES", "tab": "home",
                         "event_ts": new_ts()})
    assert resp.status_code == 200
    call = bot.fake.wait_for("views.publish")[0]
    assert call.args["user_id"] == INES
    view = bot.fake.homes[INES]
    body = text_of(view["blocks"])
    assert "Questions you may answer" in body and "avalanche bulletin danger level" in body
    assert "Overlaps with Slopes" in body and "slopes* (Slopes) ↔ *valleys* (Valleys)" in body
    assert "*Your upcoming syncs*\n• avalanche forecasting — " in body
    for t in snow_org.person("ines@snow.example").topics[:3]:
        assert t in body
    stop = [(b, e) for b, e in block_buttons(view["blocks"]) if e["action_id"] == home.ME_STOP]
    assert stop
    bot.interact(home_action(*stop[0], user=INES))
    bot.fake.wait_for("views.publish", count=2)
    assert snow_org.consent("p:ines@snow.example")["opted_out"]
    assert "Suggest me again" in json.dumps(bot.fake.homes[INES]["blocks"])
    # Lea asked it herself, and knows nothing of avalanches: not a question for her
    bot.event({"type": "app_home_opened", "user": "U0LEA", "channel": "D0LEA", "tab": "home", "event_ts": new_ts()})
    bot.fake.wait_for("views.publish", count=3)
    assert "avalanche bulletin" not in text_of(bot.fake.homes["U0LEA"]["blocks"])


# -- follow-ups in threads --------------------------------------------------------------------------------
def thread_reply(text: str, thread_ts: str, user: str = ASKER, channel: str = CHANNEL, **extra) -> dict:
    ts = new_ts()
    return {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts,
            "thread_ts": thread_ts, "channel_type": "channel", **extra}


def test_a_reply_in_a_thread_guildbot_answered_is_answered_there_and_nowhere_else(bot):
    top = new_ts()
    bot.event(mention_event(f"<@{bot.fake.bot_user_id}> who knows {QUESTION}?", ts=top))
    bot.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == top)
    follow = thread_reply("and who knows snow sensors?", top)
    resp, event_id = bot.event(follow)
    assert resp.status_code == 200
    answered = bot.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == top, count=2)
    assert "Kai Dahl" in text_of(answered[1].args["blocks"])
    again, _ = bot.event(follow, event_id=event_id, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert again.status_code == 200
    # a thread guildbot never answered in, a bot, an edit, guildbot itself, and a top-level message: all silent
    bot.event(thread_reply("who knows snow sensors?", new_ts()))
    bot.event(thread_reply("who knows snow sensors?", top, bot_id="B0OTHER", subtype="bot_message"))
    bot.event(thread_reply("who knows snow sensors?", top, subtype="message_changed"))
    bot.event(thread_reply("who knows snow sensors?", top, user=bot.fake.bot_user_id))
    bot.event({**thread_reply("who knows snow sensors?", top), "thread_ts": None})
    bot.fake.quiet(1.0)
    assert len(posts(bot)) == 2 and all(c.args.get("thread_ts") == top for c in posts(bot))


def test_share_in_channel_posts_once(bot):
    _, key = bot.command(f"ask {QUESTION}")
    reply = bot.reply(key)
    share_key = bot.click(reply["blocks"], kit.SHARE)[1]
    shared = bot.fake.wait_for(lambda c: c.method == RESPONSE_URL and c.key == share_key
                               and c.args.get("response_type") == "in_channel")
    bot.fake.quiet(0.5)
    assert len([c for c in bot.fake.calls_to(RESPONSE_URL) if c.args.get("response_type") == "in_channel"]) == 1
    assert "Shared by" in text_of(shared[0].args["blocks"])


# -- "Ask them" -----------------------------------------------------------------------------------------
def open_and_send(bot, reply_blocks: list[dict], context: str = "we saw a slab on the north face") -> dict:
    bot.click(reply_blocks, kit.ASK_THEM)
    opened = bot.fake.wait_for("views.open")[-1]
    view = opened.args["view"] if isinstance(opened.args["view"], dict) else json.loads(opened.args["view"])
    assert view["callback_id"] == SUBMIT
    question = view["blocks"][0]["element"]["initial_value"]
    resp = bot.interact(view_submission(view, {"ask_q": {"q": question}, "ask_ctx": {"c": context}}))
    assert resp.status_code == 200
    return view


def test_ask_them_dms_the_suggested_people_and_tells_the_asker_when_one_answers(bot, snow_org):  # noqa: F811
    _, key = bot.command(f"who {QUESTION}")
    reply = bot.reply(key)
    view = open_and_send(bot, reply["blocks"])
    people = [p["s"] for p in json.loads(view["private_metadata"])["p"]]
    assert set(people[:2]) == {INES, JON} and 2 <= len(people) <= 3  # the two authors of the same guide
    sent = bot.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] in {"D" + p[1:] for p in people},
                             count=len(people))
    for c in sent:
        body = text_of(c.args["blocks"])
        assert QUESTION in body and "we saw a slab on the north face" in body and "Reply in this thread" in body
    confirm = bot.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] == "D" + ASKER[1:])
    assert f"<@{people[0]}>" in confirm[0].args["text"]
    ask = snow_org.store.query("SELECT * FROM asks")
    assert len(ask) == 1 and ask[0]["asker"] == ASKER
    to_jon = next(c for c in sent if c.args["channel"] == "D" + JON[1:])
    answer = {"type": "message", "channel": to_jon.args["channel"], "user": JON, "text": "Check the bulletin archive &amp; call me",
              "ts": new_ts(), "thread_ts": to_jon.result["ts"], "channel_type": "im"}
    answer["event_ts"] = answer["ts"]
    bot.event(answer)
    told = bot.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] == "D" + ASKER[1:]
                             and "answered your question" in c.args["text"])
    assert f"<@{JON}>" in told[0].args["text"] and "archive &amp; call me" in told[0].args["text"]  # escaped once
    bot.fake.quiet(0.5)
    assert not [c for c in posts(bot, to_jon.args["channel"]) if c.args.get("thread_ts")]  # not answered as a question
    assert snow_org.store.query("SELECT answered_by FROM asks")[0]["answered_by"] == JON


def test_ask_them_never_dms_an_opted_out_person(bot, snow_org):  # noqa: F811
    _, key = bot.command(f"who {QUESTION}")
    reply = bot.reply(key)
    snow_org.set_consent("p:ines@snow.example", opted_out=True)  # after the answer, before the modal
    view = open_and_send(bot, reply["blocks"])
    assert INES not in [p["s"] for p in json.loads(view["private_metadata"])["p"]]
    bot.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] == "D" + ASKER[1:])
    bot.fake.quiet(0.5)
    assert not posts(bot, "D" + INES[1:])
    assert INES not in json.dumps(snow_org.store.query("SELECT people, sent FROM asks"))
