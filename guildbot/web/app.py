"""The FastAPI application: the web pages, the JSON API and, when configured, Slack's endpoint.

    GET  /, /search, /people, /projects, /teams, /overlaps, /sources ...   pages (web_pages.py)
    GET  /api/...                 JSON in the CLI's --json shapes; /api/docs, /api/openapi.json (web_api.py)
    POST /slack/events            slash commands, events and interactivity (one Request URL for all three);
                                  signature and timestamp checked (401), then the body (400), in slack_events.py
    GET  /insights, /api/insights questions per week, unanswered topics, syncs, the team map (web_insights.py)
    GET  /me, POST /me            the signed-in person's consent: hide topics, stop being suggested, pause (web_me.py)
    GET  /healthz                 liveness: {"ok": true, "guild": ..., "slack": true|false}
    GET  /static/...              the stylesheet and the vendored htmx; every page works without it

Every response carries a Content-Security-Policy without inline script, nosniff and
frame-ancestors 'none'. Who is signed in is resolved once per request (web_auth.py).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from slack_bolt import App
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from guildbot.config.loader import WebConfig
from guildbot.digest.service import digest_for
from guildbot.insights import insights_for
from guildbot.syncs.service import syncs_for
from guildbot.web.slack_events import ThreadedSlackRequestHandler  # signature 401, malformed 400, dispatch off the event loop
from guildbot.web.auth import ANONYMOUS, Unauthorized, ViewerGuild, WebAuth
from guildbot.web.render import render
from guildbot.web.routes import api as web_api
from guildbot.web.routes import digest as web_digest
from guildbot.web.routes import pages as web_pages
from guildbot.web.routes import insights as web_insights
from guildbot.web.routes import me as web_me
from guildbot.web.routes import syncs as web_syncs

SLACK_PATH = "/slack/events"
STATIC = Path(__file__).parents[1] / "static"  # guildbot/static
OPEN_PATHS = ("/healthz", SLACK_PATH, "/static/")  # need no sign-in: Slack signs its own requests
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
log = logging.getLogger("guildbot.web.app")


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _error(request: Request, status: int, title: str, detail: str) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=SECURITY_HEADERS)
    response = render(request, "error.html", status_code=status, title=title, detail=detail)
    response.headers.update(SECURITY_HEADERS)
    return response


def create_app(guild: Any = None, slack_app: App | None = None, web: WebConfig | None = None) -> FastAPI:

    api = FastAPI(title="guildbot", description="Search, people to ask, the project catalog and cross-team overlaps.",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    web = web or (guild.config.web if guild is not None else WebConfig())
    api.state.guild = guild
    api.state.guild_name = guild.config.name if guild is not None else "guildbot"
    api.state.slack_app = slack_app
    api.state.auth = WebAuth(web, guild)
    if guild is not None:  # the services beside the Guild, built once (web/deps.py hands them to the routes)
        api.state.digest, api.state.syncs = digest_for(guild), syncs_for(guild)
        api.state.insights = insights_for(guild)

    @api.middleware("http")
    async def sign_in_and_secure(request: Request, call_next) -> Response:
        path = request.url.path
        request.state.viewer = ANONYMOUS
        if not path.startswith(OPEN_PATHS):
            try:
                client = request.client.host if request.client else None
                request.state.viewer = await run_in_threadpool(api.state.auth.viewer, client, request.headers)
            except Unauthorized as e:
                return _error(request, 401, "Sign-in required", str(e))
        try:
            response = await call_next(request)
        except Exception:  # a bug must not show a traceback; the log keeps it
            log.exception("error answering %s", path)
            return _error(request, 500, "Something went wrong",
                          "guildbot could not answer this page; the server log has the details")
        response.headers.update(SECURITY_HEADERS)
        return response

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed"}
        return _error(request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        if wants_json(request):
            return JSONResponse({"detail": problems}, status_code=422, headers=SECURITY_HEADERS)
        return _error(request, 422, "Cannot read this address", problems)

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        name = guild.config.name if guild is not None else None
        return JSONResponse({"ok": True, "guild": name, "slack": slack_app is not None})

    if slack_app is not None:
        handler = ThreadedSlackRequestHandler(slack_app)

        @api.post(SLACK_PATH, include_in_schema=False)
        async def slack_events(req: Request) -> Response:
            return await handler.handle(req)

    if guild is not None:
        api.include_router(web_api.router)
        api.include_router(web_pages.router)
        api.include_router(web_digest.router)
        api.include_router(web_syncs.router)
        api.include_router(web_me.router)
        api.include_router(web_insights.router)
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    return api
