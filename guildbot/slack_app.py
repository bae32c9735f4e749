"""The Slack bot on slack-bolt: `/guild` commands, mentions, direct messages and buttons.

Every listener acknowledges at once and does its work as a lazy listener on a separate thread
pool, so Slack gets its acknowledgement well inside three seconds however long an answer takes:

- `/guild ...` answers privately through the command's `response_url` (falling back to
  chat.postEphemeral, then to a direct message, only when the one before definitely failed);
- a mention in a channel is answered in the thread; a direct message is answered there;
- "Share in channel" posts the answer for everyone; "Helpful" / "Not helpful" store feedback
  (index/feedback.py) that reorders documents in later answers.

Events Slack delivers again (`x-slack-retry-num`) are recognised by their `event_id` and only
acknowledged; a message is never answered twice even if it arrives as two events. Web API calls
and response_url posts are retried after Slack's Retry-After on HTTP 429.

The same App serves HTTP mode (guildbot/web.py) and Socket Mode (`socket_mode_handler`).
"""
from __future__ import annotations

import functools
import logging
import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from slack_bolt import App, BoltResponse
from slack_bolt.lazy_listener.thread_runner import ThreadLazyListenerRunner
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from . import slack_blocks as kit
from . import slack_lookups

log = logging.getLogger("guildbot.slack")

DEFAULT_API_URL = "https://slack.com/api/"
COMMAND = kit.COMMAND
RATE_LIMIT_RETRIES = 3
DOCS = 5          # documents in an `ask` answer
ASK_PEOPLE = 3    # people in an `ask` answer
WHO_PEOPLE = 5    # people in a `who` answer
SEEN_TTL = 3600.0  # seconds an event id / message is remembered for de-duplication

ENV_HELP = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-...): api.slack.com/apps -> your app -> OAuth & Permissions "
                       "(install the app into the workspace first; see docs/slack.md)",
    "SLACK_SIGNING_SECRET": "api.slack.com/apps -> your app -> Basic Information -> App Credentials -> Signing Secret",
    "SLACK_APP_TOKEN": "an app-level token (xapp-...) with the connections:write scope: api.slack.com/apps -> your app "
                       "-> Basic Information -> App-Level Tokens (Socket Mode must be enabled)",
}


class SlackConfigError(Exception):
    """Missing or malformed Slack settings; the message says which and where to find them."""


@dataclass
class SlackSettings:
    bot_token: str
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_env(cls, socket_mode: bool = False, environ: Mapping[str, str] | None = None) -> "SlackSettings":
        """Tokens and secret from the environment: SLACK_BOT_TOKEN always, SLACK_SIGNING_SECRET for
        HTTP mode, SLACK_APP_TOKEN for Socket Mode; SLACK_API_URL optionally (default Slack's own)."""
        env = os.environ if environ is None else environ
        need = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET"]
        missing = [n for n in need if not (env.get(n) or "").strip()]
        problems = [f"{n} is not set; it is {ENV_HELP[n]}" for n in missing]
        bot, app_token = (env.get("SLACK_BOT_TOKEN") or "").strip(), (env.get("SLACK_APP_TOKEN") or "").strip()
        if bot.startswith("xapp-"):
            problems.append("SLACK_BOT_TOKEN holds an app-level token (xapp-...); it must be " + ENV_HELP["SLACK_BOT_TOKEN"])
        if socket_mode and app_token and not app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-; it is " + ENV_HELP["SLACK_APP_TOKEN"])
        api_url = (env.get("SLACK_API_URL") or "").strip() or DEFAULT_API_URL
        if not re.match(r"^https?://[^/\s]+", api_url):
            problems.append(f"SLACK_API_URL={api_url!r} is not an http(s) URL; leave it unset for {DEFAULT_API_URL}")
        if problems:
            mode = "Socket Mode" if socket_mode else "HTTP mode"
            raise SlackConfigError(f"cannot start the Slack bot in {mode}:\n" + "\n".join(f"  - {p}" for p in problems))
        return cls(bot, (env.get("SLACK_SIGNING_SECRET") or "").strip(), app_token,
                   api_url if api_url.endswith("/") else api_url + "/")


def retry_handlers() -> list:
    return [ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)]


def make_client(settings: SlackSettings) -> WebClient:
    """The Web API client: SLACK_API_URL as base, retried on connection errors and after 429."""
    return WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=15, retry_handlers=retry_handlers())


# -- commands ----------------------------------------------------------------------------------------
SUBCOMMANDS = ("ask", "who", "projects", "person", "help")
ALIASES = {"search": "ask", "q": "ask", "experts": "who", "project": "projects", "people": "person", "?": "help"}


def parse_command(text: str, free_text: bool = False) -> tuple[str, str]:
    """(subcommand, argument) of `/guild` text. A single word that is not a subcommand is an unknown
    subcommand ("unknown", word) unless `free_text` (mentions, DMs), where it is a question."""
    text = kit.one_line(text)
    if not text:
        return "help", ""
    first, _, rest = text.partition(" ")
    key = first.casefold()
    if key in SUBCOMMANDS or key in ALIASES:
        return ALIASES.get(key, key), rest.strip()
    if not free_text and " " not in text and not text.endswith("?"):
        return "unknown", text
    return "ask", text


def strip_mentions(text: str, bot_user_id: str | None) -> str:
    """The text of a mention without the mention of the bot itself."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text or "")
    return kit.one_line(text)


class Seen:
    """Keys seen in the last `ttl` seconds (thread-safe): event ids and (channel, ts) of messages."""

    def __init__(self, ttl: float = SEEN_TTL, limit: int = 100_000):
        self.ttl, self.limit = ttl, limit
        self._at: dict[str, float] = {}
        self._lock = threading.Lock()

    def first(self, key: str) -> bool:
        """True the first time `key` is offered within the ttl."""
        now = time.monotonic()
        with self._lock:
            if len(self._at) > self.limit:
                self._at = {k: t for k, t in self._at.items() if now - t < self.ttl}
            at = self._at.get(key)
            if at is not None and now - at < self.ttl:
                return False
            self._at[key] = now
            return True


class SlackIds:
    """Slack user ids of people: from the directory, else users.lookupByEmail, cached."""

    def __init__(self, client: WebClient, ttl: float = SEEN_TTL):
        self.client, self.ttl = client, ttl
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def by_email(self, email: str) -> str:
        email = (email or "").strip().casefold()
        if not email:
            return ""
        with self._lock:
            hit = self._cache.get(email)
            if hit and time.monotonic() - hit[1] < self.ttl:
                return hit[0]
        try:
            user = self.client.users_lookupByEmail(email=email)["user"]
            found = "" if user.get("deleted") or user.get("is_bot") else user.get("id", "")
        except SlackApiError as e:
            if e.response.get("error") not in ("users_not_found", "user_not_found"):
                log.warning("users.lookupByEmail failed for %s: %s", email, e.response.get("error"))
                return ""  # not cached: a missing scope or an outage is not an answer
            found = ""
        except Exception as e:  # noqa: BLE001 - the answer goes out without mentions rather than not at all
            log.warning("users.lookupByEmail failed for %s: %s", email, e)
            return ""
        with self._lock:
            self._cache[email] = (found, time.monotonic())
        return found

    def resolve(self, people: Iterable[Any]) -> dict[str, str]:
        """person_id -> Slack id for people with `person_id`, `slack_id` and `emails`."""
        out = {}
        for p in people:
            sid = p.slack_id or next((s for s in (self.by_email(e) for e in p.emails) if s), "")
            if sid:
                out[p.person_id] = sid
        return out


class Answers:
    """Answers as Block Kit messages. Guild access is serialised (one SQLite connection, one
    FAISS index, one model); Slack look-ups happen outside the lock."""

    def __init__(self, guild: Any, ids: SlackIds):
        self.guild, self.ids = guild, ids
        self.lock = threading.Lock()
        self._generation: str | None = None

    def _fresh(self) -> None:
        """Pick up a crawl that ran in another process since the last answer: SQLite is shared,
        but the FAISS index is held in memory, so reload it when its generation moved on."""
        from index.vectors import GENERATION_KEY
        store = getattr(self.guild, "store", None)
        if store is None or "vectors" not in getattr(self.guild, "__dict__", {}):
            return
        generation = store.get_meta(GENERATION_KEY)
        if self._generation is not None and generation != self._generation:
            log.info("the index changed (vectors generation %s -> %s): reloading", self._generation, generation)
            self.guild.vectors.reload()
        self._generation = generation

    def message(self, sub: str, arg: str, *, share: bool, feedback: bool = True, shared_by: str | None = None,
                client: WebClient | None = None) -> kit.Message:
        if sub == "ask" and arg:
            with self.lock:
                self._fresh()
                hits = self.guild.search(arg, limit=DOCS)
                experts = self.guild.experts(arg, limit=ASK_PEOPLE)
            return kit.ask_message(arg, hits, experts, self.ids.resolve(experts), share=share, feedback=feedback,
                                   shared_by=shared_by)
        if sub == "who" and arg:
            from index.experts import topic_of
            question = arg if arg.casefold().startswith("who") else f"who {arg}"
            with self.lock:
                self._fresh()
                experts = self.guild.experts(question, limit=WHO_PEOPLE)
            return kit.who_message(topic_of(question), experts, self.ids.resolve(experts), share=share, shared_by=shared_by)
        if sub == "projects":
            with self.lock:
                self._fresh()
                title, groups = slack_lookups.projects(self.guild, arg)
            return kit.projects_message(title, groups, share=share, arg=arg, shared_by=shared_by)
        if sub == "person" and arg:
            profile = self._slack_profile(arg, client)
            with self.lock:
                self._fresh()
                people, suggestions = slack_lookups.person(self.guild, arg, profile)
            for p in people:
                p.slack_id = p.slack_id or next((s for s in (self.ids.by_email(e) for e in p.emails) if s), "")
            return kit.person_message(people, arg, suggestions=suggestions, share=share, shared_by=shared_by)
        if sub in ("ask", "who", "person"):
            return kit.help_message(missing=sub)
        return kit.help_message(unknown=arg if sub == "unknown" else None)

    def _slack_profile(self, arg: str, client: WebClient | None) -> dict | None:
        kind, value = slack_lookups.parse_person_query(arg)
        if kind != "slack" or client is None:
            return None
        try:
            user = client.users_info(user=value)["user"]
        except SlackApiError as e:
            log.info("users.info %s: %s", value, e.response.get("error"))
            return None
        profile = user.get("profile") or {}
        return {"email": profile.get("email", ""), "real_name": profile.get("real_name") or user.get("real_name", ""),
                "display_name": profile.get("display_name", "")}

    def feedback(self, doc_id: str, query: str, value: int, user: str) -> str:
        """Record a vote; returns the document's title."""
        from index.feedback import record_feedback
        with self.lock:
            record_feedback(self.guild.store, doc_id, query, value, user)
            row = self.guild.store.documents([doc_id]).get(doc_id)
        return row["title"] if row else doc_id


# -- delivery ------------------------------------------------------------------------------------------
class DeliveryError(Exception):
    pass


def post_response_url(url: str, payload: dict) -> None:
    """POST to a response_url, retried after 429. Raises DeliveryError when Slack refused it
    (the caller may then deliver another way); a timeout is not retried elsewhere, because the
    message may have arrived."""
    hook = WebhookClient(url=url, timeout=10, retry_handlers=retry_handlers())
    try:
        resp = hook.send_dict(payload)
    except (socket.timeout, TimeoutError):
        raise
    except Exception as e:  # noqa: BLE001 - connection refused etc.: nothing was delivered
        raise DeliveryError(f"response_url unreachable: {e}") from e
    if resp.status_code != 200:
        raise DeliveryError(f"response_url answered HTTP {resp.status_code}: {resp.body[:200]}")


def deliver_private(client: WebClient, message: kit.Message, *, user: str, channel: str | None,
                    response_url: str | None, thread_ts: str | None = None) -> str:
    """Show `message` to `user` only; returns how it went out. Each fallback runs only when the
    previous way definitely failed, so the user gets the answer exactly once."""
    if response_url:
        try:
            post_response_url(response_url, {"response_type": "ephemeral", "replace_original": False, **message.payload()})
            return "response_url"
        except DeliveryError as e:
            log.warning("%s; trying chat.postEphemeral", e)
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **message.payload())
            return "chat.postEphemeral"
        except SlackApiError as e:
            log.warning("chat.postEphemeral in %s failed (%s); sending a direct message", channel, e.response.get("error"))
    dm = client.conversations_open(users=user)["channel"]["id"]
    client.chat_postMessage(channel=dm, unfurl_links=False, **message.payload())
    return "direct message"


def _guard(what: str):
    """Log a lazy listener's failure and tell the user, instead of failing silently."""
    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(**kwargs):
            try:
                return func(**kwargs)
            except Exception as e:  # noqa: BLE001
                log.exception("%s failed", what)
                body, client = kwargs.get("body") or {}, kwargs.get("client")
                sorry = kit.text_message(f"Sorry, something went wrong with {what}: {type(e).__name__}. "
                                         "The details are in guildbot's log.")
                try:
                    user = body.get("user_id") or (body.get("user") or {}).get("id") or (body.get("event") or {}).get("user")
                    channel = body.get("channel_id") or (body.get("channel") or {}).get("id") or (body.get("event") or {}).get("channel")
                    if client and user:
                        deliver_private(client, sorry, user=user, channel=channel, response_url=body.get("response_url"))
                except Exception:  # noqa: BLE001
                    log.exception("could not tell the user about the failure")
        return run
    return wrap


# -- the app ---------------------------------------------------------------------------------------------
def build_app(guild: Any, settings: SlackSettings | None = None, client: WebClient | None = None, *,
              ack_workers: int = 32, answer_workers: int = 4, token_verification: bool = True,
              logger: logging.Logger | None = None) -> App:
    """The slack-bolt App. `client` defaults to a WebClient made from `settings` (SLACK_API_URL)."""
    if client is None:
        if settings is None:
            raise ValueError("build_app needs settings or a client")
        client = make_client(settings)
    if not client.retry_handlers or not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers = [*(client.retry_handlers or []), RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)]
    app = App(client=client, signing_secret=(settings.signing_secret if settings else None) or None,
              process_before_response=False, token_verification_enabled=token_verification, name="guildbot",
              logger=logger, listener_executor=ThreadPoolExecutor(ack_workers, thread_name_prefix="guild-ack"))
    # Answers run on their own pool, so a burst of slow answers never delays an acknowledgement.
    app.listener_runner.lazy_listener_runner = ThreadLazyListenerRunner(
        logger=app.logger, executor=ThreadPoolExecutor(answer_workers, thread_name_prefix="guild-answer"))

    answers = Answers(guild, SlackIds(client))
    events, messages = Seen(), Seen()

    @app.use
    def drop_redelivered_events(body, request, next):
        if isinstance(body, dict) and body.get("type") == "event_callback" and body.get("event_id"):
            if not events.first(body["event_id"]):
                retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
                log.info("event %s delivered again (x-slack-retry-num %s): acknowledged, not answered",
                            body["event_id"], retry)
                return BoltResponse(status=200, body="")
        return next()

    def ack_now(ack):
        ack()

    # /guild ...
    @_guard("your /guild command")
    def answer_command(body, client):
        sub, arg = parse_command(body.get("text", ""))
        message = answers.message(sub, arg, share=True, client=client)
        deliver_private(client, message, user=body["user_id"], channel=body.get("channel_id"),
                        response_url=body.get("response_url"))

    from . import slack_syncs  # `/guild sync ...` and the sync buttons; registered first, it matches only "sync ..."
    slack_syncs.register(app, guild, answers.lock, deliver_private, _guard)
    app.command(COMMAND)(ack=ack_now, lazy=[answer_command])

    # @guildbot in a channel: answer in the thread; a direct message: answer there
    def answer_message(event: dict, client: WebClient, bot_user_id: str | None, in_thread: bool) -> None:
        if not messages.first(f"{event.get('channel')}:{event.get('ts')}"):
            return
        sub, arg = parse_command(strip_mentions(event.get("text", ""), bot_user_id), free_text=True)
        message = answers.message(sub, arg, share=False, client=client)
        thread = (event.get("thread_ts") or event.get("ts")) if in_thread else event.get("thread_ts")
        client.chat_postMessage(channel=event["channel"], thread_ts=thread, unfurl_links=False, **message.payload())

    @_guard("your mention")
    def answer_mention(body, event, client, context):
        answer_message(event, client, context.bot_user_id, in_thread=True)

    @_guard("your message")
    def answer_direct_message(body, event, client, context):
        answer_message(event, client, context.bot_user_id, in_thread=False)

    def is_direct_message(event) -> bool:
        return (event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id")
                and bool(kit.one_line(event.get("text", ""))))

    app.event("app_mention")(ack=ack_now, lazy=[answer_mention])
    app.event("message", matchers=[is_direct_message])(ack=ack_now, lazy=[answer_direct_message])
    app.event("message")(ack_now)  # edits, bot messages, channel messages: acknowledged, not answered

    # buttons
    @_guard("sharing the answer")
    def share_answer(body, action, client):
        v, user = kit.decode_value(action.get("value")), body["user"]["id"]
        sub, arg = v.get("c", "ask"), v.get("a", "")
        message = answers.message(sub, arg, share=False, shared_by=user, client=client)
        url, channel = body.get("response_url"), (body.get("channel") or {}).get("id")
        if url:
            post_response_url(url, {"response_type": "in_channel", "replace_original": False, **message.payload()})
            try:
                post_response_url(url, {"delete_original": True})
            except DeliveryError as e:
                log.info("could not remove the private answer after sharing it: %s", e)
        else:
            client.chat_postMessage(channel=channel, unfurl_links=False, **message.payload())

    def vote(body: dict, action: dict, client: WebClient, value: int) -> None:
        v, user = kit.decode_value(action.get("value")), body["user"]["id"]
        if not v.get("d"):
            return
        title = answers.feedback(v["d"], v.get("q", ""), value, user)
        thanks = kit.thanks_message(value, title, v.get("q", ""))
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        if container.get("is_ephemeral"):
            deliver_private(client, thanks, user=user, channel=channel, response_url=body.get("response_url"))
        else:
            deliver_private(client, thanks, user=user, channel=channel, response_url=None,
                            thread_ts=container.get("thread_ts"))

    @_guard("recording your feedback")
    def record_helpful(body, action, client):
        vote(body, action, client, +1)

    @_guard("recording your feedback")
    def record_not_helpful(body, action, client):
        vote(body, action, client, -1)

    app.action(kit.SHARE)(ack=ack_now, lazy=[share_answer])
    app.action(kit.HELPFUL)(ack=ack_now, lazy=[record_helpful])
    app.action(kit.NOT_HELPFUL)(ack=ack_now, lazy=[record_not_helpful])
    return app


def warm_up(guild: Any) -> int:
    """Load the model, vectors and store before the first question; returns the document count."""
    guild.search("warm up", limit=1)
    guild.experts("who knows warm up", limit=1)
    return guild.store.count("documents")


def socket_mode_handler(app: App, settings: SlackSettings):
    """The Socket Mode adapter (slack_sdk's built-in WebSocket client) for `guildbot slack --socket`."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    return SocketModeHandler(app, app_token=settings.app_token)
