""""Ask them" (issue 26): under an answer that names people, a button opens a modal that sends the
question, with the asker's context and the best documents' links, to the first two or three people
suggested, each by direct message. The ask is recorded (Guild.record_ask: insights, and each person
sent it counts against their weekly budget). When one of them replies in the thread of that message,
guildbot tells the asker.

Nobody who opted out or paused is ever sent a question: the people are the Guild's experts (which
leave them out) when the modal opens, and consent is checked again when it is sent.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any, Callable

from index.expertise.experts import Expert

from guildbot import blockkit as kit
from guildbot.guild import Guild
from guildbot.slack.users import SlackIds

log = logging.getLogger("guildbot.slack")

SUBMIT = "guild_ask_submit"
ASK_PEOPLE = 3        # people a question is sent to
ASK_DOCS = 3          # document links sent with it
CONTEXT_CHARS = 1500


def modal(question: str, people: list[Expert], slack_ids: dict[str, str], channel: str) -> dict[str, Any]:
    names = [f"• {kit.mention(e.name, slack_ids.get(e.person_id, ''))} ({kit.escape(e.name)}) · {kit.escape(e.team)}"
             for e in people]
    meta = {"c": channel, "p": [{"id": e.person_id, "n": e.name, "t": e.team, "s": slack_ids.get(e.person_id, "")}
                                for e in people]}
    return {"type": "modal", "callback_id": SUBMIT, "title": {"type": "plain_text", "text": "Ask them"},
            "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
            "private_metadata": json.dumps(meta)[:3000],
            "blocks": [
                {"type": "input", "block_id": "ask_q", "label": {"type": "plain_text", "text": "Your question"},
                 "element": {"type": "plain_text_input", "action_id": "q", "multiline": True,
                             "initial_value": kit.clip(question, 2900), "max_length": 3000}},
                {"type": "input", "block_id": "ask_ctx", "optional": True,
                 "label": {"type": "plain_text", "text": "What you tried, and why it matters"},
                 "element": {"type": "plain_text_input", "action_id": "c", "multiline": True,
                             "max_length": CONTEXT_CHARS}},
                kit.section("guildbot sends it by direct message to:\n" + kit.join_lines(names), block_id="ask_people"),
                kit.context("They answer in the thread of that message; you are told when they do."),
            ]}


def register(app: Any, guild: Guild, lock: threading.Lock, ids: SlackIds, guard: Callable) -> None:
    def ack_now(ack):
        ack()

    @guard("opening “Ask them”")
    def open_modal(body, action, client):
        question = str(kit.decode_value(action.get("value")).get("q") or "").strip()
        user = body["user"]["id"]
        viewer = ids.viewer(guild, user)
        with lock:
            guild.refresh()
            people = [e for e in guild.experts(question, limit=ASK_PEOPLE, viewer=viewer, surface=None) if e.score > 0]
        people = [e for e in people if e.slack_id or ids.resolve([e]).get(e.person_id)]
        slack_ids = ids.resolve(people)
        people = [e for e in people if slack_ids.get(e.person_id) and slack_ids[e.person_id] != user][:ASK_PEOPLE]
        if not people:
            client.chat_postEphemeral(channel=(body.get("channel") or {}).get("id") or user, user=user,
                                      text="Nobody guildbot may suggest can be reached on Slack for this question.")
            return
        channel = (body.get("channel") or {}).get("id") or ""
        client.views_open(trigger_id=body["trigger_id"], view=modal(question, people, slack_ids, channel))

    def submitted(ack):
        ack()  # closes the modal; the sending happens in the lazy listener

    @guard("sending your question")
    def send(body, client):
        view, user = body["view"], body["user"]["id"]
        values = view.get("state", {}).get("values", {})
        question = kit.one_line(str((values.get("ask_q", {}).get("q") or {}).get("value") or ""))
        context = str((values.get("ask_ctx", {}).get("c") or {}).get("value") or "").strip()[:CONTEXT_CHARS]
        meta = json.loads(view.get("private_metadata") or "{}")
        if not question:
            return
        with lock:
            away = guild.unavailable_keys()  # consent may have changed since the modal opened
            hits = guild.search(question, limit=ASK_DOCS, viewer=guild.viewer_for(), surface=None)
        people = [p for p in meta.get("p", []) if p.get("s") and p["id"] not in away and p["s"] not in away]
        ask_id = uuid.uuid4().hex
        links = [f"• {kit.link(h.url, h.title)}" for h in hits]
        blocks = [kit.section(f"{kit.mention('someone', user)} asks you, through guildbot:\n*{kit.escape(kit.clip(question, 2000))}*",
                              block_id="ask:question")]
        if context:
            blocks.append(kit.section("> " + kit.escape(context).replace("\n", "\n> "), block_id="ask:context"))
        if links:
            blocks.append(kit.section("*What guildbot found*\n" + kit.join_lines(links), block_id="ask:docs"))
        blocks.append(kit.context("Reply in this thread: guildbot tells them you answered. "
                                  f"`{kit.COMMAND} me` changes how often you are asked."))
        sent: dict[str, dict[str, str]] = {}
        for p in people:
            dm = client.conversations_open(users=p["s"])["channel"]["id"]
            posted = client.chat_postMessage(channel=dm, text=f"A question for you: {kit.clip(question, 200)}",
                                             blocks=blocks, unfurl_links=False)
            sent[p["s"]] = {"channel": dm, "ts": posted["ts"]}
            with lock:
                guild.remember_thread(dm, posted["ts"], kind="ask", ref=ask_id)
        experts = [Expert(person_id=p["id"], name=p.get("n", ""), team=p.get("t", ""), score=0.0, slack_id=p["s"])
                   for p in people if p["s"] in sent]
        with lock:
            guild.record_ask(ask_id, asker=user, question=question, people=experts, sent=sent)
        to = ", ".join(kit.mention(p.get("n", ""), p["s"]) for p in people if p["s"] in sent)
        text = (f"Sent your question to {to}. You'll hear from me when one of them answers." if to else
                "Nobody could be asked: the people suggested have since asked not to be.")
        dm = client.conversations_open(users=user)["channel"]["id"]
        client.chat_postMessage(channel=dm, text=text, unfurl_links=False)

    app.action(kit.ASK_THEM)(ack=ack_now, lazy=[open_modal])
    app.view(SUBMIT)(ack=submitted, lazy=[send])


def relay_answer(guild: Guild, lock: threading.Lock, client: Any, event: dict[str, Any], thread: dict[str, Any]) -> bool:
    """A reply in an "Ask them" thread: tell the asker (every reply by someone asked). True when handled."""
    with lock:
        ask = guild.ask(thread["ref"])
    user = event.get("user") or ""
    if ask is None or user not in ask["sent"]:
        return ask is not None  # a reply by anyone else in that thread is not a question either
    with lock:
        guild.ask_answered(ask["id"], user)
    text = (f"{kit.mention('someone', user)} answered your question “{kit.escape(kit.clip(ask['question'], 300))}”:\n"
            + "> " + kit.escape(kit.clip(kit.unescape(event.get("text") or ""), 2500)).replace("\n", "\n> "))
    dm = client.conversations_open(users=ask["asker"])["channel"]["id"]
    client.chat_postMessage(channel=dm, text=text, unfurl_links=False)
    return True
