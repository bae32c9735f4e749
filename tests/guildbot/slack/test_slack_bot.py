"""The Slack bot over HTTP: signed slash commands, events and button clicks, sent as Slack sends them
through the real FastAPI app on a real uvicorn server, answered on the fake Slack Web API.
Every assertion is on what the fake recorded, i.e. on what a user would see."""
from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest

from support.fake_slack import RESPONSE_URL, User
from guildbot import blockkit as kit
from support.slack import (ASKER, CHANNEL, bot, dm_event, fake_slack, find_button, mention_event,  # noqa: F401
                           new_ts, assert_names_recommender_authors, signed_headers, slack, slash_command)



def section_text(blocks: list[dict]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b.get("type") == "section")


def buttons(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


# -- slash commands ------------------------------------------------------------------------------------
def test_who_names_the_recommender_authors_with_evidence_links(slack, demo_guild):
    resp, key = slack.command("who recommender")
    assert resp.status_code == 200
    reply = slack.reply(key)
    assert reply["response_type"] == "ephemeral"
    kit.validate(reply["blocks"])
    assert_names_recommender_authors(section_text(reply["blocks"]), demo_guild)
    assert buttons(reply["blocks"]) == [kit.SHARE, kit.ASK_THEM]
    slack.fake.quiet(0.5)
    assert len(slack.fake.calls_to(RESPONSE_URL)) == 1  # answered exactly once


def test_plain_question_gets_documents_snippets_links_and_people(slack, demo_guild):
    question = "how do we handle cold start for new members?"
    resp, key = slack.command(question)
    assert resp.status_code == 200
    reply = slack.reply(key)
    kit.validate(reply["blocks"])
    expected = demo_guild.search(question, limit=5)
    docs = [b for b in reply["blocks"] if b.get("block_id", "").startswith("doc:")]
    assert len(docs) == len(expected) > 0
    for b, h in zip(docs, expected):
        assert f"<{h.url}|{kit.escape(h.title)}>" in b["text"]["text"]
        assert "\n> " in b["text"]["text"]  # a snippet
    people = demo_guild.experts(question, limit=3)
    assert "*People to ask*" in section_text(reply["blocks"])
    for e in people:
        assert f"<@{e.slack_id}>" in section_text(reply["blocks"])
    assert buttons(reply["blocks"]) == [kit.HELPFUL, kit.NOT_HELPFUL] * len(docs) + [kit.SHARE, kit.ASK_THEM]
    same, key2 = slack.command(f"ask {question}")
    assert section_text(slack.reply(key2)["blocks"]) == section_text(reply["blocks"])


@pytest.mark.parametrize("text", ["", "help", "frobnicate"])
def test_help_and_unknown_subcommands_get_the_help_text(slack, text):
    _, key = slack.command(text)
    reply = slack.reply(key)
    body = section_text(reply["blocks"])
    assert "/guild who" in body and "/guild projects" in body and "/guild person" in body
    assert ("I don't know the command `frobnicate`" in body) == (text == "frobnicate")


def test_projects_by_team_and_for_one_team(slack, demo_guild):
    _, key = slack.command("projects")
    reply = slack.reply(key)
    kit.validate(reply["blocks"])
    body = section_text(reply["blocks"])
    for team in demo_guild.config.teams:
        assert f"*{team.name}*" in body and team.slack_channel in body
    for source in demo_guild.config.sources:
        assert source.name in body
    _, key = slack.command("projects Risk")
    body = section_text(slack.reply(key)["blocks"])
    risk = {s.name for s in demo_guild.config.sources if s.team == "Risk"}
    assert all(name in body for name in risk)
    assert not any(s.name in body for s in demo_guild.config.sources if s.team != "Risk" and s.name not in risk)


def test_projects_about_a_topic(slack, demo_guild):
    _, key = slack.command("projects drift monitoring")
    body = section_text(slack.reply(key)["blocks"])
    assert "drift monitoring" in body
    top = demo_guild.search("drift monitoring", limit=1)[0]
    assert top.source in body


def test_person_by_mention_name_and_unknown(slack, demo_guild):
    row = demo_guild.store.query("SELECT * FROM people WHERE slack_id IS NOT NULL ORDER BY name LIMIT 1")[0]
    _, key = slack.command(f"person <@{row['slack_id']}|someone>")
    body = section_text(slack.reply(key)["blocks"])
    assert f"<@{row['slack_id']}> ({row['name']})" in body and row["team"] in body
    docs = demo_guild.store.query(
        """SELECT DISTINCT d.url FROM contributions c JOIN identities i ON i.id = c.identity_id
           JOIN documents d ON d.id = c.doc_id WHERE i.person_id = ?""", [row["id"]])
    assert docs and any(f"<{d['url']}|" in body for d in docs)
    _, key = slack.command(f"person {row['name']}")
    assert f"<@{row['slack_id']}>" in section_text(slack.reply(key)["blocks"])
    _, key = slack.command(f"person {row['name']}x")
    body = section_text(slack.reply(key)["blocks"])
    assert "Nobody called" in body and f"Did you mean {row['name']}" in body


def test_person_mentioned_by_an_unknown_slack_id_is_found_through_users_info(slack, demo_guild):
    row = demo_guild.store.query("SELECT * FROM people WHERE in_directory = 1 ORDER BY name DESC LIMIT 1")[0]
    email = json.loads(row["emails"])[0]
    slack.fake.add_user(User("U7OTHER", "other", email, row["name"]))
    try:
        _, key = slack.command("person <@U7OTHER>")
        body = section_text(slack.reply(key)["blocks"])
        assert row["name"] in body and row["team"] in body
        assert any(c.args.get("user") == "U7OTHER" for c in slack.fake.calls_to("users.info"))
    finally:
        slack.fake.users.pop("U7OTHER", None)


def test_slack_ids_missing_from_the_directory_come_from_users_lookup_by_email_cached(slack, demo_guild):
    top = demo_guild.experts("who recommender", limit=1)[0]
    original = next(u for u in slack.fake.users.values() if u.email in top.emails)
    email = original.email
    demo_guild.store.conn.execute("UPDATE people SET slack_id = NULL WHERE id = ?", [top.person_id])
    slack.fake.users.pop(original.id)
    slack.fake.add_user(User("U9LOOKUP", original.name, email, original.real_name))
    try:
        for _ in range(2):
            _, key = slack.command("who recommender")
            assert f"<@U9LOOKUP> ({top.name})" in section_text(slack.reply(key)["blocks"])
        lookups = [c.args.get("email") for c in slack.fake.calls_to("users.lookupByEmail")]
        assert lookups.count(email) == 1 and len(lookups) == len(set(lookups))  # the second answer used the cache
    finally:
        demo_guild.store.conn.execute("UPDATE people SET slack_id = ? WHERE id = ?", [original.id, top.person_id])
        slack.fake.users.pop("U9LOOKUP")
        slack.fake.add_user(original)


# -- buttons ---------------------------------------------------------------------------------------------
def test_share_in_channel_posts_the_answer_for_everyone_and_removes_the_private_one(slack):
    _, key = slack.command("who drift monitoring")
    private = slack.reply(key)
    resp, click = slack.click(private["blocks"], kit.SHARE)
    assert resp.status_code == 200
    posts = slack.fake.wait_for(lambda c: c.method == RESPONSE_URL and c.key == click and c.ok, count=2)
    shared, delete = posts[0].args, posts[1].args
    assert shared["response_type"] == "in_channel" and shared["replace_original"] is False
    kit.validate(shared["blocks"])
    assert f"Shared by <@{ASKER}>" in shared["blocks"][0]["elements"][0]["text"]
    assert section_text(shared["blocks"]) == section_text(private["blocks"])
    assert kit.SHARE not in buttons(shared["blocks"])
    assert delete == {"delete_original": True}


# -- mentions and direct messages --------------------------------------------------------------------------
def test_mention_in_a_channel_is_answered_in_the_thread(slack, demo_guild):
    event = mention_event(f"<@{slack.fake.bot_user_id}> who has built a recommender?")
    resp, _ = slack.event(event)
    assert resp.status_code == 200
    post = slack.fake.wait_for("chat.postMessage")[0]
    assert post.args["channel"] == CHANNEL and post.args["thread_ts"] == event["ts"]
    kit.validate(post.blocks)
    top = demo_guild.experts("who has built a recommender?", limit=1)[0]
    assert f"<@{top.slack_id}>" in section_text(post.blocks)
    assert kit.SHARE not in buttons(post.blocks)  # already public


def test_mention_inside_a_thread_stays_in_that_thread(slack):
    parent = new_ts()
    event = mention_event(f"<@{slack.fake.bot_user_id}> drift monitoring", thread_ts=parent)
    slack.event(event)
    post = slack.fake.wait_for("chat.postMessage")[0]
    assert post.args["thread_ts"] == parent
    assert "Top documents for" in section_text(post.blocks)  # a single word is a question in a mention


def test_direct_message_is_answered_there(slack):
    event = dm_event("how is the population stability index computed?")
    slack.event(event)
    post = slack.fake.wait_for("chat.postMessage")[0]
    assert post.args["channel"] == event["channel"] and not post.args.get("thread_ts")
    assert "population stability index" in section_text(post.blocks).lower()


@pytest.mark.parametrize("kind", ["mention", "direct message"])
def test_slacks_escaping_is_undone_once_on_the_way_in_and_done_once_on_the_way_out(slack, demo_guild, kind):
    """Slack sends what a person typed, `drift & fraud <monitoring>`, escaped in events: the search
    gets the typed words, and the answer echoes them escaped once (`&amp;`, never `&amp;amp;`)."""
    typed, sent = "drift & fraud <monitoring>", "drift &amp; fraud &lt;monitoring&gt;"
    demo_guild.store.conn.execute("DELETE FROM query_log")
    event = mention_event(f"<@{slack.fake.bot_user_id}> {sent}") if kind == "mention" else dm_event(sent)
    slack.event(event)
    post = slack.fake.wait_for("chat.postMessage")[0]
    kit.validate(post.blocks)
    assert f"“{sent}”" in post.args["text"] and f"_{sent}_" in section_text(post.blocks)
    for twice in ("&amp;amp;", "&amp;lt;", "&amp;gt;"):
        assert twice not in post.args["text"] and twice not in json.dumps(post.blocks)
    _, helpful = find_button(post.blocks, kit.HELPFUL)
    assert json.loads(helpful["value"])["q"] == typed  # feedback is stored for the question searched
    assert [r["question"] for r in demo_guild.store.query("SELECT question FROM query_log")] == [typed]
    demo_guild.store.conn.execute("DELETE FROM query_log")


def test_edits_bot_messages_and_the_bots_own_messages_are_not_answered(slack):
    for event in (dm_event("edited text", subtype="message_changed"), dm_event("from a bot", bot_id="B0OTHER"),
                  dm_event("my own words", user=slack.fake.bot_user_id),
                  {**dm_event("a channel message"), "channel_type": "channel", "channel": CHANNEL}):
        resp, _ = slack.event(event)
        assert resp.status_code == 200
    slack.fake.quiet(1.0)
    assert slack.fake.calls_to("chat.postMessage", "chat.postEphemeral") == []


# -- exactly once ------------------------------------------------------------------------------------------
def test_retried_events_are_acknowledged_but_answered_once(slack, caplog):
    caplog.set_level(logging.INFO)
    event = mention_event(f"<@{slack.fake.bot_user_id}> who knows drift monitoring?")
    first, event_id = slack.event(event)
    retries = [slack.event(event, event_id, **{"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"})[0]
               for n in (1, 2, 3)]
    assert first.status_code == 200 and all(r.status_code == 200 for r in retries)
    slack.fake.wait_for("chat.postMessage")
    slack.fake.quiet(1.0)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    # recognised by event_id before any listener ran, with the retry number Slack sent
    dropped = [r.getMessage() for r in caplog.records if event_id in r.getMessage() and "delivered again" in r.getMessage()]
    assert [m.split("x-slack-retry-num ")[1][0] for m in dropped] == ["1", "2", "3"]


def test_a_retry_whose_first_delivery_never_arrived_is_answered(slack):
    event = mention_event(f"<@{slack.fake.bot_user_id}> feature store")
    resp, _ = slack.event(event, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
    assert resp.status_code == 200
    slack.fake.wait_for("chat.postMessage")
    slack.fake.quiet(0.5)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


def test_the_same_message_delivered_as_two_events_is_answered_once(slack):
    event = mention_event(f"<@{slack.fake.bot_user_id}> gpu pool")
    slack.event(event)
    slack.event(dict(event))  # same channel and ts, new event_id
    slack.fake.wait_for("chat.postMessage")
    slack.fake.quiet(1.0)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


# -- rate limits and fallbacks -------------------------------------------------------------------------------
def test_chat_post_message_429_is_retried_after_retry_after(slack):
    slack.fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    slack.event(mention_event(f"<@{slack.fake.bot_user_id}> ranker experiments"))
    ok = slack.fake.wait_for("chat.postMessage")[0]
    limited = [c for c in slack.fake.calls_to("chat.postMessage") if c.status == 429]
    assert len(limited) == 1 and ok.at - limited[0].at >= 1.0
    slack.fake.quiet(0.5)
    assert len(slack.fake.calls_to("chat.postMessage", ok=True)) == 1


def test_response_url_429_is_retried_and_delivered_once(slack):
    slack.fake.rate_limit(RESPONSE_URL, times=2, retry_after=1)
    t0 = time.monotonic()
    _, key = slack.command("who feature store")
    slack.reply(key)
    calls = [c for c in slack.fake.calls_to(RESPONSE_URL) if c.key == key]
    assert [c.status for c in calls] == [429, 429, 200] and calls[-1].at - t0 >= 2.0
    slack.fake.quiet(0.5)
    assert slack.fake.calls_to("chat.postEphemeral", "chat.postMessage") == []


def test_expired_response_url_falls_back_to_an_ephemeral_message(slack):
    key = "expired-1"
    slack.fake.expire(key)
    slack.command("who drift monitoring", key=key)
    post = slack.fake.wait_for("chat.postEphemeral")[0]
    assert post.args["channel"] == CHANNEL and post.args["user"] == ASKER
    assert "People who know about" in section_text(post.blocks)
    slack.fake.quiet(0.5)
    assert slack.fake.calls_to("chat.postMessage") == []


def test_channel_the_bot_cannot_post_in_falls_back_to_a_direct_message(slack):
    key = "expired-2"
    slack.fake.expire(key)
    slack.fake.fail("chat.postEphemeral", "channel_not_found")
    slack.command("who drift monitoring", key=key)
    post = slack.fake.wait_for("chat.postMessage")[0]
    opened = slack.fake.calls_to("conversations.open", ok=True)
    assert len(opened) == 1 and opened[0].args["users"] == ASKER
    assert post.args["channel"] == opened[0].result["channel"]["id"]
    assert "People who know about" in section_text(post.blocks)
    slack.fake.quiet(0.5)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


# -- request verification ------------------------------------------------------------------------------------
def _post(slack, body: str, headers: dict):
    return slack.http.post(slack.url, content=body, headers=headers)


def test_bad_signature_gets_401_and_no_slack_call(slack):
    body = urlencode(slash_command("who recommender", slack.fake.response_url("forged")))
    for headers in (signed_headers(body, secret="not-the-secret"),
                    {**signed_headers(body), "X-Slack-Signature": "v0=" + "0" * 64},
                    {"Content-Type": "application/x-www-form-urlencoded"}):
        assert _post(slack, body, headers).status_code == 401
    tampered = body.replace("recommender", "anything")
    assert _post(slack, tampered, signed_headers(body)).status_code == 401
    slack.fake.quiet(1.0)
    assert slack.fake.calls == []


def test_timestamp_older_than_five_minutes_gets_401_and_no_slack_call(slack):
    body = urlencode(slash_command("who recommender", slack.fake.response_url("replayed")))
    stale = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    assert _post(slack, body, stale).status_code == 401
    event = json.dumps({"type": "event_callback", "event_id": "EvStale", "event": mention_event("<@U0GUILDBOT> hi")})
    assert _post(slack, event, signed_headers(event, timestamp=int(time.time()) - 301,
                                              content_type="application/json")).status_code == 401
    slack.fake.quiet(1.0)
    assert slack.fake.calls == []
    fresh = signed_headers(body, timestamp=int(time.time()) - 60)  # within five minutes: accepted
    assert _post(slack, body, fresh).status_code == 200
    slack.reply("replayed")


def test_url_verification_and_healthz(slack):
    body = json.dumps({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    resp = _post(slack, body, signed_headers(body, content_type="application/json"))
    assert resp.status_code == 200 and resp.json()["challenge"].startswith("3eZbrw")
    health = slack.http.get(slack.url.replace("/slack/events", "/healthz"))
    assert health.status_code == 200 and health.json() == {"ok": True, "guild": "Acme", "slack": True}


def test_a_subcommand_is_one_entry_in_the_table(slack, demo_dir):
    from guildbot.slack import commands as slack_commands
    from guildbot.config.loader import load_config

    def echo(ask):
        return kit.text_message(f"echo: {ask.arg} (viewer sees {len(ask.viewer.sources)} sources)")

    slack_commands.COMMANDS["echo"] = slack_commands.Command(echo, "echo <words>", "say it back", ("say",))
    try:
        public = sum(1 for s in load_config(demo_dir / "guild.toml").sources if s.visibility == "public")
        for text in ("echo hello there", "say hello there"):
            _, key = slack.command(text)
            assert section_text(slack.reply(key)["blocks"]).startswith(f"echo: hello there (viewer sees {public} sources)")
        _, key = slack.command("help")
        assert "say it back" in section_text(slack.reply(key)["blocks"])
        _, key = slack.command("echo")
        assert "`/guild echo` needs something to look for" in section_text(slack.reply(key)["blocks"])
    finally:
        del slack_commands.COMMANDS["echo"]


def test_answers_pick_up_a_crawl_finished_by_another_process(demo_guild, demo_dir):
    from guildbot import Guild

    demo_guild.refresh()
    assert not demo_guild.refresh()
    other = Guild.from_config(demo_dir / "guild.toml")
    try:
        with other.store.transaction():  # what the end of a crawl in another process leaves behind
            other.vectors.write_next_generation(force=True)
    finally:
        other.close()
    assert demo_guild.refresh() and not demo_guild.refresh()
    assert demo_guild.search("drift monitoring", limit=1)
