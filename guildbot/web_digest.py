"""The digest on the web: `/digest` (the archive), `/digest/{week}` (one week, every item) and
`/api/digest/{week}` (the same data as `guildbot digest --json`). `?team=T` gives a team's view.

`add_routes(api, guild)` is the one call the web app makes. Pages are rendered by
guildbot/digest.py from the same data as the Slack message, so the two never disagree.
"""
from __future__ import annotations

import html
import threading
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse

from . import digest as dg

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><nav><a href="/digest">All weeks</a></nav>
{body}
</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), body=body), status_code=status)


def add_routes(api: FastAPI, guild: Any, lock: threading.Lock | None = None) -> None:
    """Register the digest pages on `api`; `lock` serialises use of the guild with other handlers."""
    lock = lock or threading.Lock()

    def build(week: str, team: str | None):
        with lock:
            return guild.digest(week, team or None)

    def problem(e: Exception, status: int, as_json: bool):
        if as_json:
            return JSONResponse({"error": str(e)}, status_code=status)
        return _page("Digest", f"<p class=\"error\">{html.escape(str(e))}</p>", status)

    @api.get("/digest", response_class=HTMLResponse)
    def archive() -> HTMLResponse:
        cfg = guild.config
        return _page(f"{cfg.name} weekly digests", dg.render_archive_html(dg.archive_weeks(tz=cfg.digest.tz), cfg.name))

    @api.get("/digest/{week}", response_class=HTMLResponse)
    def week_page(week: str, team: str | None = None):
        try:
            data = build(week, team)
        except ValueError as e:
            return problem(e, 400, False)
        except LookupError as e:
            return problem(e, 404, False)
        return _page(f"{guild.config.name} digest {data.week}", dg.render_html(data, guild.config.name))

    @api.get("/api/digest/{week}")
    def week_data(week: str, team: str | None = None):
        try:
            return JSONResponse(build(week, team).public())
        except ValueError as e:
            return problem(e, 400, True)
        except LookupError as e:
            return problem(e, 404, True)
