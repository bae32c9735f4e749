"""The Slack bot on slack-bolt: `/guild` commands, mentions, direct messages and buttons.

Every listener acknowledges at once and does its work as a lazy listener on a separate thread
pool, so Slack gets its acknowledgement well inside three seconds however long an answer takes:

- `/guild ...` answers privately through the command's `response_url` (falling back to
  chat.postEphemeral, then to a direct message, only when the one before definitely failed);
- a mention in a channel is answered in the thread; a direct message is answered there;
- "Share in channel" posts the answer for everyone; "Helpful" / "Not helpful" store feedback
  (index/retrieval/feedback.py) that reorders documents in later answers.

Events Slack delivers again (`x-slack-retry-num`) are recognised by their `event_id` and only
acknowledged; a message is never answered twice even if it arrives as two events, nor by two bot
processes on one data_dir (the store remembers deliveries, slack_limits.py). Each person may ask
10 questions a minute (GUILDBOT_SLACK_RATE_LIMIT) and gets a polite reply beyond that (a command every
time; mentions and direct messages once, privately, until the person may ask again). Web API calls and
response_url posts are retried after Slack's Retry-After on HTTP 429.

Event text arrives HTML-escaped (`&amp;` `&lt;` `&gt;`): it is unescaped once on the way in
(`question_text`) and every answer escapes once on the way out (slack_blocks.py). Slash command text
arrives unescaped and is taken as it is.

Who asks decides what the answer may show (index/people/visibility.py): a private answer (a command, a
direct message) shows what the asker's directory team may see; an answer posted in a channel (a
mention, "Share in channel") shows public sources only, since anyone in the channel reads it.
Subcommands and their handlers are one table in slack_commands.py.

The same App serves HTTP mode (guildbot/web/app.py) and Socket Mode (`socket_mode_handler`).
"""
from __future__ import annotations

import functools
import logging
import os
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Mapping

from slack_bolt import App, BoltResponse
from slack_bolt.lazy_listener.thread_runner import ThreadLazyListenerRunner
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from connectors.common.redact import register_secret
from index.people.visibility import Viewer

from guildbot import blockkit as kit
from guildbot.guild import Guild
from guildbot.slack.commands import Ask, answer, parse_command
from guildbot.settings import (DEFAULT_API_URL, ENV_HELP, RATE_LIMIT_RETRIES, SlackConfigError, SlackSettings,  # noqa: F401
                               make_client, retry_handlers)
from guildbot.slack.limits import RATE_LIMIT, Deliveries, RateLimit, slow_down_text
from guildbot.slack.users import SlackIds
from guildbot.slack import asks as slack_asks, home  # noqa: E402 - each adds its subcommand to the table

log = logging.getLogger("guildbot.slack")

COMMAND = kit.COMMAND


# -- commands ----------------------------------------------------------------------------------------
def strip_mentions(text: str, bot_user_id: str | None) -> str:
    """The text of a mention without the mention of the bot itself."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text or "")
    return kit.one_line(text)


def question_text(event_text: str, bot_user_id: str | None) -> str:
    """What a person typed in a mention or direct message: Slack's escaping (`&amp;` `&lt;` `&gt;`)
    undone once, after the bot's own mention is removed, since answers escape it again on the way out."""
    return kit.unescape(strip_mentions(event_text, bot_user_id))


class Answers:
    """Answers as Block Kit messages, through the subcommand table (slack_commands.COMMANDS).
    Guild access is serialised by one lock; Slack look-ups happen outside it."""

    def __init__(self, guild: Guild, ids: SlackIds):
        self.guild, self.ids = guild, ids
        self.lock = threading.Lock()

    def viewer(self, user: str | None, in_channel: bool) -> Viewer:
        """Public sources for an answer everyone in a channel reads; else what `user` may see."""
        if in_channel or not user:
            return self.guild.viewer_for()
        return self.ids.viewer(self.guild, user)

    def message(self, sub: str, arg: str, *, user: str | None, in_channel: bool, share: bool, feedback: bool = True,
                shared_by: str | None = None) -> kit.Message:
        ask = Ask(self.guild, arg, self.viewer(user, in_channel), self.ids, self.lock, share=share, feedback=feedback,
                  shared_by=shared_by, asker=None if shared_by else user)
        return answer(sub, ask)

    def feedback(self, doc_id: str, query: str, value: int, user: str) -> str:
        """Record a vote; returns the document's title."""
        with self.lock:
            return self.guild.record_feedback(doc_id, query, value, user)


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
def build_app(guild: Guild, settings: SlackSettings | None = None, client: WebClient | None = None, *,
              ack_workers: int = 32, answer_workers: int = 4, token_verification: bool = True,
              logger: logging.Logger | None = None, rate_limit: RateLimit | None = None) -> App:
    """The slack-bolt App. `client` defaults to a WebClient made from `settings` (SLACK_API_URL)."""
    if client is None:
        if settings is None:
            raise ValueError("build_app needs settings or a client")
        client = make_client(settings)
    if not client.retry_handlers or not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers = [*(client.retry_handlers or []), RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)]
    secret = (settings.signing_secret if settings else None) or None
    app = App(client=client, signing_secret=secret,
              process_before_response=False, token_verification_enabled=token_verification, name="guildbot",
              logger=logger, listener_executor=ThreadPoolExecutor(ack_workers, thread_name_prefix="guild-ack"))
    app.guild_signing_secret = secret or ""  # for slack_http's checks before Bolt
    # Answers run on their own pool, so a burst of slow answers never delays an acknowledgement.
    app.listener_runner.lazy_listener_runner = ThreadLazyListenerRunner(
        logger=app.logger, executor=ThreadPoolExecutor(answer_workers, thread_name_prefix="guild-answer"))

    answers = Answers(guild, SlackIds(client))
    events, messages = Deliveries(guild.first_delivery), Deliveries(guild.first_delivery)
    limit = rate_limit or RateLimit(settings.rate_limit if settings else RATE_LIMIT)

    def slowed(user: str) -> kit.Message | None:
        """The polite reply when `user` asks too often; None when they may ask."""
        wait = limit.allow(user) if limit.limit else 0.0
        return kit.text_message(slow_down_text(wait, limit.limit, limit.window)) if wait else None

    @app.use
    def drop_redelivered_events(body, request, next):
        if isinstance(body, dict) and body.get("type") == "event_callback" and body.get("event_id"):
            if not events.first(f"event:{body['event_id']}"):
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
        if body.get("trigger_id") and not events.first(f"command:{body['trigger_id']}"):
            return  # the same invocation reached another replica (or came again): answered there
        sub, arg = parse_command(body.get("text", ""))
        user = body["user_id"]
        message = slowed(user) or answers.message(sub, arg, user=user, in_channel=False, share=True)
        deliver_private(client, message, user=user, channel=body.get("channel_id"),
                        response_url=body.get("response_url"))

    app.command(COMMAND)(ack=ack_now, lazy=[answer_command])
    from guildbot.slack import syncs as slack_syncs  # the sync buttons and check-in modal (`/guild sync` is in the subcommand table)
    slack_syncs.register(app, guild, answers.lock, deliver_private, _guard)
    home.register(app, guild, answers.lock, answers.ids, post_response_url, _guard)  # App Home, `/guild me` buttons
    slack_asks.register(app, guild, answers.lock, answers.ids, _guard)  # "Ask them"

    # @guildbot in a channel: answer in the thread; a direct message: answer there
    def answer_message(event: dict, client: WebClient, bot_user_id: str | None, in_thread: bool) -> None:
        if not messages.first(f"message:{event.get('channel')}:{event.get('ts')}"):
            return
        thread = (event.get("thread_ts") or event.get("ts")) if in_thread else event.get("thread_ts")
        user = event.get("user") or ""
        sorry = slowed(user)
        if sorry:
            if limit.tell_once(user):  # once; more mentions while refused stay silent, not a flood of replies
                deliver_private(client, sorry, user=user, channel=event.get("channel"), response_url=None,
                                thread_ts=thread)
            return
        sub, arg = parse_command(question_text(event.get("text", ""), bot_user_id), free_text=True)
        message = answers.message(sub, arg, user=event.get("user"), in_channel=in_thread, share=False)
        if in_thread and thread:  # a reply in this thread is a follow-up, answered without a mention; noted
            with answers.lock:    # before the answer goes out, so a quick reply to it is not missed
                guild.remember_thread(event["channel"], thread)
        client.chat_postMessage(channel=event["channel"], thread_ts=thread, unfurl_links=False, **message.payload())

    @_guard("your mention")
    def answer_mention(body, event, client, context):
        answer_message(event, client, context.bot_user_id, in_thread=True)

    @_guard("your message")
    def answer_direct_message(body, event, client, context):
        if is_reply(event):
            with answers.lock:
                known = guild.slack_thread(event["channel"], event["thread_ts"])
            if known and known["kind"] == "ask":  # an answer to "Ask them": told to the asker, not answered
                if messages.first(f"message:{event.get('channel')}:{event.get('ts')}"):
                    slack_asks.relay_answer(guild, answers.lock, client, event, known)
                return
        answer_message(event, client, context.bot_user_id, in_thread=False)

    @_guard("your follow-up")
    def answer_follow_up(body, event, client, context):
        with answers.lock:
            known = guild.slack_thread(event["channel"], event["thread_ts"])
        if not known or known["kind"] != "answer":
            return  # a thread guildbot did not answer in: never joined uninvited
        answer_message(event, client, context.bot_user_id, in_thread=True)

    def is_person_message(event) -> bool:
        """A person's new message with text: no edit or other subtype, no bot (nor guildbot itself)."""
        return (not event.get("subtype") and not event.get("bot_id") and bool(event.get("user"))
                and bool(kit.one_line(event.get("text", ""))))

    def is_reply(event) -> bool:
        return bool(event.get("thread_ts")) and event.get("thread_ts") != event.get("ts")

    def is_direct_message(event) -> bool:
        return event.get("channel_type") == "im" and is_person_message(event)

    def is_follow_up(event, context) -> bool:
        """A reply in a channel thread, not mentioning guildbot (app_mention answers those)."""
        bot = context.bot_user_id or ""
        return (event.get("channel_type") in ("channel", "group") and is_reply(event) and is_person_message(event)
                and event.get("user") != bot and not (bot and f"<@{bot}" in (event.get("text") or "")))

    app.event("app_mention")(ack=ack_now, lazy=[answer_mention])
    app.event("message", matchers=[is_direct_message])(ack=ack_now, lazy=[answer_direct_message])
    app.event("message", matchers=[is_follow_up])(ack=ack_now, lazy=[answer_follow_up])
    app.event("message")(ack_now)  # edits, bot messages, channel messages: acknowledged, not answered

    # buttons
    @_guard("sharing the answer")
    def share_answer(body, action, client):
        v, user = kit.decode_value(action.get("value")), body["user"]["id"]
        sub, arg = str(v.get("c", "ask")), str(v.get("a", ""))
        message = answers.message(sub, arg, user=user, in_channel=True, share=False, shared_by=user)
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
        title = answers.feedback(str(v["d"]), str(v.get("q", "")), value, user)
        thanks = kit.thanks_message(value, title, str(v.get("q", "")))
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


def warm_up(guild: Guild) -> int:
    """Load the model, vectors and store before the first question; returns the document count."""
    guild.search("warm up", limit=1, surface=None)
    guild.experts("who knows warm up", limit=1, surface=None)
    guild.refresh()
    return guild.document_count()


def socket_mode_handler(app: App, settings: SlackSettings):
    """The Socket Mode adapter (slack_sdk's built-in WebSocket client) for `guildbot slack --socket`."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    return SocketModeHandler(app, app_token=settings.app_token)
