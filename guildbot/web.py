"""The FastAPI application: Slack's HTTP endpoint and a health check (a search page comes later).

    POST /slack/events   slash commands, events and interactivity (one Request URL for all three);
                         Bolt verifies the request signature and timestamp, answering 401 otherwise
    GET  /healthz        liveness: {"ok": true, "guild": ..., "slack": true|false}

Bolt's dispatch blocks until the listener acknowledges, so it runs on the thread pool, never on
the event loop: concurrent requests are acknowledged side by side.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from slack_bolt import App
from slack_bolt.adapter.fastapi import SlackRequestHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

SLACK_PATH = "/slack/events"


class ThreadedSlackRequestHandler(SlackRequestHandler):
    """Bolt's FastAPI adapter with `App.dispatch` moved off the event loop."""

    async def handle(self, req: Request, addition_context_properties: dict[str, Any] | None = None) -> Response:
        if req.method != "POST":
            return await super().handle(req, addition_context_properties)
        body = await req.body()
        bolt_resp = await run_in_threadpool(self.app.dispatch, to_bolt_request(req, body, addition_context_properties))
        return to_starlette_response(bolt_resp)


def create_app(guild: Any = None, slack_app: App | None = None) -> FastAPI:
    api = FastAPI(title="guildbot", docs_url=None, redoc_url=None, openapi_url=None)
    api.state.guild = guild
    api.state.slack_app = slack_app

    @api.get("/healthz")
    def healthz() -> JSONResponse:
        name = guild.config.name if guild is not None else None
        return JSONResponse({"ok": True, "guild": name, "slack": slack_app is not None})

    if slack_app is not None:
        handler = ThreadedSlackRequestHandler(slack_app)

        @api.post(SLACK_PATH)
        async def slack_events(req: Request) -> Response:
            return await handler.handle(req)

    return api
