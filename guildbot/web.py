"""The FastAPI application: Slack's HTTP endpoint and a health check (a search page comes later).

    POST /slack/events   slash commands, events and interactivity (one Request URL for all three);
                         signature and timestamp checked (401), then the body (400), in slack_http.py
    GET  /healthz        liveness: {"ok": true, "guild": ..., "slack": true|false}
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from slack_bolt import App
from starlette.responses import Response

from .slack_http import ThreadedSlackRequestHandler  # signature 401, malformed 400, dispatch off the event loop

SLACK_PATH = "/slack/events"


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
