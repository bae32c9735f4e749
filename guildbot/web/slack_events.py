"""Slack's HTTP endpoint: requests checked before Bolt sees them, then dispatched off the event loop.

In order, and answered without a traceback:
1. the signature and timestamp (slack_sdk's SignatureVerifier, five minutes' tolerance; a body
   that is not UTF-8 cannot be verified): 401;
2. the body: not JSON where JSON is due, not an object, or missing a field the kind of
   request needs (a command's `user_id`, a click's `user.id` and `actions`, an event's `event`):
   400 with one line naming the problem, logged at info level;
3. Bolt's dispatch, on the thread pool (it blocks until the listener acknowledges), so concurrent
   requests are acknowledged side by side.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping
from urllib.parse import parse_qsl

from fastapi import Request
from slack_bolt import App
from slack_bolt.adapter.fastapi import SlackRequestHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

log = logging.getLogger("guildbot.slack")


class Malformed(ValueError):
    """A signed request whose body cannot be a Slack request."""


def parse(body: str, content_type: str) -> dict[str, Any]:
    """The request as Bolt will read it: JSON (events), a form (commands) or a form's `payload`
    (interactivity). Raises Malformed."""
    if not body:
        raise Malformed("empty body")
    try:
        if content_type.startswith("application/json") or body.startswith("{"):
            data = json.loads(body)
        else:
            form = dict(parse_qsl(body, keep_blank_values=True))
            data = json.loads(form["payload"]) if "payload" in form else form
    except ValueError as e:
        raise Malformed(f"not valid JSON ({e.__class__.__name__}: {str(e)[:80]})") from None
    if not isinstance(data, dict):
        raise Malformed(f"the payload is a JSON {type(data).__name__}, not an object")
    return data


def _text(data: Mapping[str, Any], key: str, where: str) -> None:
    if not isinstance(data.get(key), str) or not data[key]:
        raise Malformed(f"{where}`{key}` is missing or not a string")


def check(data: Mapping[str, Any]) -> None:
    """Raise Malformed unless `data` has what its kind of request needs."""
    if "command" in data:  # a slash command
        for key in ("command", "user_id"):
            _text(data, key, "")
        for key in ("text", "channel_id", "response_url"):
            if key in data and not isinstance(data[key], str):
                raise Malformed(f"`{key}` is not a string")
        return
    kind = data.get("type")
    if kind == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict):
            raise Malformed("`event` is missing or not an object")
        _text(event, "type", "event.")
        _text(data, "event_id", "")
        for key in ("text", "user", "channel", "ts", "thread_ts"):
            if key in event and not isinstance(event[key], str):
                raise Malformed(f"event.`{key}` is not a string")
    elif kind == "url_verification":
        _text(data, "challenge", "")
    elif kind == "block_actions":
        user = data.get("user")
        if not isinstance(user, dict):
            raise Malformed("`user` is missing or not an object")
        _text(user, "id", "user.")
        actions = data.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            raise Malformed("`actions` is missing or not a list of objects")
        for key in ("channel", "container"):
            if key in data and data[key] is not None and not isinstance(data[key], dict):
                raise Malformed(f"`{key}` is not an object")
    elif not isinstance(kind, str):
        raise Malformed("neither a slash command nor a payload with a `type`")


def refusal(body: bytes, headers: Mapping[str, str], signing_secret: str) -> Response | None:
    """A 401 or 400 response for a request that must not reach Bolt; None when it may."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:  # Slack signs UTF-8 text; these bytes cannot carry a signature to verify
        return PlainTextResponse("invalid request signature: the body is not UTF-8 text", status_code=401)
    if not text.lstrip().startswith("{") and dict(parse_qsl(text, keep_blank_values=True)).get("ssl_check") == "1":
        return None  # Slack's certificate check: Bolt answers it before verifying, as Slack expects
    if signing_secret:
        timestamp = headers.get("x-slack-request-timestamp", "").strip()
        if not timestamp.isdigit() or not SignatureVerifier(signing_secret).is_valid(
                body=text, timestamp=timestamp, signature=headers.get("x-slack-signature", "")):
            return PlainTextResponse("invalid request signature or timestamp", status_code=401)
    try:
        check(parse(text, headers.get("content-type", "")))
    except Malformed as e:
        log.info("signed Slack request refused with 400: %s", e)
        return PlainTextResponse(f"malformed Slack request: {e}", status_code=400)
    return None


class ThreadedSlackRequestHandler(SlackRequestHandler):
    """Bolt's FastAPI adapter with the checks above and `App.dispatch` moved off the event loop."""

    def __init__(self, app: App, signing_secret: str | None = None):
        super().__init__(app)
        # the secret the App verifies with (slack_app.build_app records it), unless given here
        self.signing_secret = signing_secret if signing_secret is not None else getattr(app, "guild_signing_secret", "")

    async def handle(self, req: Request, addition_context_properties: dict[str, Any] | None = None) -> Response:
        if req.method != "POST":
            return await super().handle(req, addition_context_properties)
        body = await req.body()
        refused = refusal(body, req.headers, self.signing_secret)
        if refused is not None:
            return refused
        bolt_resp = await run_in_threadpool(self.app.dispatch, to_bolt_request(req, body, addition_context_properties))
        return to_starlette_response(bolt_resp)
