"""Test support for the Slack bot: requests shaped and signed as Slack sends them, the real FastAPI
app on a real uvicorn server on a free loopback port, and fixtures tying them to the fake Slack.

Test modules import the fixtures they use from here (`from slack_support import ...`).
"""
from __future__ import annotations

import csv
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from support.fake_slack import FakeSlack, User

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0GUILD"
APP_ID = "A0GUILDBOT"
ASKER = "U0ASKER"
CHANNEL = "C0GENERAL"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_ids = itertools.count(1)


# -- requests as Slack sends them --------------------------------------------------------------------
def signed_headers(body: str, secret: str = SECRET, timestamp: int | None = None,
                   content_type: str = "application/x-www-form-urlencoded", **extra: str) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type, **extra}


def slash_command(text: str, response_url: str, user_id: str = ASKER, channel_id: str = CHANNEL,
                  command: str = "/guild") -> dict[str, str]:
    return {"token": "legacy-verification-token", "team_id": TEAM, "team_domain": "acme", "channel_id": channel_id,
            "channel_name": "general", "user_id": user_id, "user_name": "asker", "command": command, "text": text,
            "api_app_id": APP_ID, "is_enterprise_install": "false", "response_url": response_url,
            "trigger_id": f"{next(_ids)}.42.abcdef"}


def event_callback(event: dict[str, Any], event_id: str | None = None, bot_user_id: str = "U0GUILDBOT") -> dict[str, Any]:
    return {"token": "legacy-verification-token", "team_id": TEAM, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": bot_user_id, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False, "event_context": f"4-{next(_ids)}"}


def new_ts() -> str:
    return f"{int(time.time())}.{next(_ids):06d}"


def mention_event(text: str, channel: str = CHANNEL, user: str = ASKER, ts: str | None = None,
                  thread_ts: str | None = None) -> dict[str, Any]:
    e = {"type": "app_mention", "user": user, "text": text, "ts": ts or new_ts(), "channel": channel,
         "event_ts": ts or new_ts(), "client_msg_id": f"m{next(_ids)}"}
    if thread_ts:
        e["thread_ts"] = thread_ts
    return e


def dm_event(text: str, channel: str = "D0ASKER", user: str = ASKER, ts: str | None = None, **extra) -> dict[str, Any]:
    ts = ts or new_ts()
    return {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts,
            "channel_type": "im", "client_msg_id": f"m{next(_ids)}", **extra}


def find_button(blocks: list[dict], action_id: str, nth: int = 0) -> tuple[dict, dict]:
    """(block, button) of the nth button with `action_id` in recorded blocks."""
    found = [(b, e) for b in blocks if b.get("type") == "actions" for e in b["elements"] if e.get("action_id") == action_id]
    assert len(found) > nth, f"no button {action_id} #{nth} in {[b.get('block_id') for b in blocks]}"
    return found[nth]


def block_action(block: dict, button: dict, response_url: str, user: str = ASKER, channel: str = CHANNEL,
                 ephemeral: bool = True, message: dict | None = None) -> dict[str, Any]:
    """The block_actions payload Slack sends when `user` clicks `button`."""
    container = {"type": "message", "message_ts": (message or {}).get("ts", new_ts()), "channel_id": channel,
                 "is_ephemeral": ephemeral}
    if message and message.get("thread_ts"):
        container["thread_ts"] = message["thread_ts"]
    payload = {"type": "block_actions", "user": {"id": user, "username": "asker", "name": "asker", "team_id": TEAM},
               "api_app_id": APP_ID, "token": "legacy-verification-token", "container": container,
               "trigger_id": f"{next(_ids)}.42.abcdef", "team": {"id": TEAM, "domain": "acme"},
               "enterprise": None, "is_enterprise_install": False, "channel": {"id": channel, "name": "general"},
               "response_url": response_url, "state": {"values": {}},
               "actions": [{"action_id": button["action_id"], "block_id": block["block_id"], "text": button["text"],
                            "value": button.get("value", ""), "style": button.get("style"), "type": "button",
                            "action_ts": new_ts()}]}
    if message and not ephemeral:
        payload["message"] = {"type": "message", "user": "U0GUILDBOT", "ts": message["ts"], "text": message["text"],
                              "blocks": message["blocks"], **({"thread_ts": message["thread_ts"]} if message.get("thread_ts") else {})}
    return payload


def home_action(block: dict, button: dict, user: str = ASKER) -> dict[str, Any]:
    """The block_actions payload of a button pressed in the App Home (no channel, no response_url)."""
    return {"type": "block_actions", "user": {"id": user, "username": "u", "name": "u", "team_id": TEAM},
            "api_app_id": APP_ID, "token": "legacy-verification-token", "trigger_id": f"{next(_ids)}.42.abcdef",
            "team": {"id": TEAM, "domain": "acme"}, "enterprise": None, "is_enterprise_install": False,
            "container": {"type": "view", "view_id": "V0HOME"},
            "view": {"id": "V0HOME", "type": "home", "team_id": TEAM, "blocks": [], "private_metadata": "",
                     "callback_id": "", "state": {"values": {}}, "hash": "h", "app_id": APP_ID, "bot_id": "B0GUILDBOT"},
            "actions": [{"action_id": button["action_id"], "block_id": block["block_id"], "text": button["text"],
                         "value": button.get("value", ""), "type": "button", "action_ts": new_ts()}]}


def view_submission(view: dict[str, Any], values: dict[str, dict[str, str]], user: str = ASKER) -> dict[str, Any]:
    """The view_submission payload of a modal `view` (as views.open received it) sent with `values`:
    {block_id: {action_id: text}}."""
    state = {b: {a: {"type": "plain_text_input", "value": v} for a, v in acts.items()} for b, acts in values.items()}
    return {"type": "view_submission", "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": user, "username": "u", "name": "u", "team_id": TEAM}, "api_app_id": APP_ID,
            "token": "legacy-verification-token", "trigger_id": f"{next(_ids)}.42.abcdef",
            "view": {"id": "V0MODAL", "team_id": TEAM, "type": "modal", "blocks": view.get("blocks", []),
                     "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
                     "state": {"values": state}, "hash": "h", "title": view.get("title"), "app_id": APP_ID,
                     "bot_id": "B0GUILDBOT"},
            "response_urls": [], "is_enterprise_install": False, "enterprise": None}


def block_buttons(blocks: list[dict]) -> list[tuple[dict, dict]]:
    """(block, button) of every button, in actions blocks and as section accessories."""
    out = [(b, e) for b in blocks if b.get("type") == "actions" for e in b["elements"] if e.get("type") == "button"]
    out += [(b, b["accessory"]) for b in blocks if (b.get("accessory") or {}).get("type") == "button"]
    return out


def interactive_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


# -- the real server ------------------------------------------------------------------------------
class ServerThread:
    """A real uvicorn server for an ASGI app on a free loopback port, in a thread."""

    def __init__(self, asgi_app: Any):
        import uvicorn
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(asgi_app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


@dataclass
class Bot:
    """The running bot as Slack sees it: where to send requests, and the fake Web API it answers on."""

    url: str
    fake: FakeSlack
    app: Any
    http: httpx.Client

    def command(self, text: str, key: str | None = None, **kw) -> tuple[httpx.Response, str]:
        key = key or f"cmd{next(_ids)}"
        body = urlencode(slash_command(text, self.fake.response_url(key), **kw))
        return self.http.post(self.url, content=body, headers=signed_headers(body)), key

    def event(self, event: dict[str, Any], event_id: str | None = None, **headers: str) -> tuple[httpx.Response, str]:
        envelope = event_callback(event, event_id, self.fake.bot_user_id)
        body = json.dumps(envelope)
        return (self.http.post(self.url, content=body, headers=signed_headers(body, content_type="application/json", **headers)),
                envelope["event_id"])

    def click(self, blocks: list[dict], action_id: str, nth: int = 0, key: str | None = None, **kw) -> tuple[httpx.Response, str]:
        key = key or f"act{next(_ids)}"
        block, button = find_button(blocks, action_id, nth)
        body = interactive_form(block_action(block, button, self.fake.response_url(key), **kw))
        return self.http.post(self.url, content=body, headers=signed_headers(body)), key

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        """Send an interactivity payload (a home button, a modal submission) signed as Slack does."""
        body = interactive_form(payload)
        return self.http.post(self.url, content=body, headers=signed_headers(body))

    def reply(self, key: str, timeout: float = 30) -> dict[str, Any]:
        """The (first successful) response_url post for `key`."""
        return self.fake.wait_for(lambda c: c.method == "response_url" and c.key == key and c.ok, timeout=timeout)[0].args


def directory_users() -> list[User]:
    """Fake workspace members: the demo directory's people under their Slack ids, plus the asker."""
    with open(EXAMPLES / "directory.csv", newline="", encoding="utf-8") as f:
        users = [User(r["slack_id"], r["email"].split("@")[0], r["email"], r["name"], r["tz"])
                 for r in csv.DictReader(f) if r.get("slack_id")]
    return users + [User(ASKER, "asker", "asker@acme.example", "Asker")]


def recommender_authors(guild) -> dict[str, set[str]]:
    """person id -> the recommender documents (text says so) they wrote: ground truth from the index."""
    rows = guild.store.query(
        """SELECT i.person_id, d.url FROM documents d JOIN contributions c ON c.doc_id = d.id
           JOIN identities i ON i.id = c.identity_id
           WHERE i.person_id IS NOT NULL AND c.role IN ('author', 'committer')
             AND (lower(d.text) LIKE '%recommender%' OR lower(d.title) LIKE '%recommend%')""")
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["person_id"], set()).add(r["url"])
    return out

def assert_names_recommender_authors(text: str, guild) -> None:
    """The answer to "who recommender" names first people who wrote recommender documents (by the
    index's own data), each with a link to such a document and their team; and the authors it names
    come from more than one team (two teams built one)."""
    authors = recommender_authors(guild)
    people = {r["id"]: r for r in guild.store.query("SELECT * FROM people")}
    named = [pid for pid, p in people.items() if p["slack_id"] and f"<@{p['slack_id']}>" in text]
    order = sorted(named, key=lambda pid: text.index(f"<@{people[pid]['slack_id']}>"))
    assert len(order) >= 2, text
    for pid in order[:2]:
        assert pid in authors, f"{people[pid]['name']} named first but wrote no recommender document"
        assert any(f"<{url}|" in text for url in authors[pid]), f"no evidence link for {people[pid]['name']}"
        assert f"({people[pid]['name']}) · {people[pid]['team']}" in text
    assert len({people[pid]["team"] for pid in order if pid in authors}) >= 2


# -- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake_slack():
    with FakeSlack(users=directory_users()) as fake:
        yield fake


def serve_bot(guild, fake: FakeSlack):
    """The real FastAPI app (`guildbot serve`'s) with the Slack app for `guild`, on uvicorn, talking to
    `fake`: a generator yielding the Bot, for fixtures (`yield from serve_bot(guild, fake)`)."""
    from guildbot.slack.app import SlackSettings, build_app, warm_up
    from guildbot.web.app import create_app

    warm_up(guild)
    settings = SlackSettings(bot_token=fake.token, signing_secret=SECRET, api_url=fake.api_url,
                             rate_limit=0)  # tests ask fast; test_slack_hardening checks the limit
    app = build_app(guild, settings)
    server = ServerThread(create_app(guild, app)).start()
    with httpx.Client(timeout=30) as http:
        yield Bot(server.url + "/slack/events", fake, app, http)
    server.stop()


@pytest.fixture(scope="module")
def bot(demo_guild, fake_slack):
    """The real FastAPI app (`guildbot serve`'s) with the Slack app, on uvicorn, talking to the fake."""
    yield from serve_bot(demo_guild, fake_slack)


@pytest.fixture
def slack(bot, demo_guild):
    """A clean slate per test: no recorded calls, no switches, no feedback left behind."""
    bot.fake.reset()
    demo_guild.store.conn.execute("DELETE FROM feedback")
    yield bot
    bot.fake.quiet(0.3)
    demo_guild.store.conn.execute("DELETE FROM feedback")
