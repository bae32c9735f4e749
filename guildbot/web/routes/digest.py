"""The digest on the web: `/digest` (the archive), `/digest/{week}` (one week, every item) and
`/api/digest/{week}` (the same data as `guildbot digest --json`). `?team=T` gives a team's view,
to that team's members (and to the data_dir's owner under `[web] auth = "none"`).

Pages are rendered by guildbot/digest/service.py from the same data as the Slack message, so the two
never disagree; the web app includes this router like its other pages.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup

from guildbot.digest import service as dg
from guildbot.web.deps import digest_service, viewer_guild
from guildbot.web.auth import ViewerGuild
from guildbot.web.render import render

router = APIRouter(include_in_schema=False)


def _build(digest: dg.DigestService, guild: ViewerGuild, week: str, team: str | None):
    """The digest of `week` in the view the signed-in person may read; HTTPException otherwise."""
    me = guild.signed_in
    if team and me.access is not None and me.team.casefold() != team.casefold():
        raise HTTPException(404, f"no digest of team {team!r} for you: a team's digest is for its members")
    try:
        return digest.build(week, team or None)
    except ValueError as e:
        raise HTTPException(400, str(e))
    except LookupError as e:
        raise HTTPException(404, str(e))


@router.get("/digest", response_class=HTMLResponse)
def archive(request: Request, guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    cfg = guild.config
    body = dg.render_archive_html(dg.archive_weeks(tz=cfg.digest.tz), cfg.name)
    return render(request, "digest.html", title="Weekly digests", body=Markup(body))


@router.get("/digest/{week}", response_class=HTMLResponse)
def week_page(request: Request, week: str, team: str | None = None, guild: ViewerGuild = Depends(viewer_guild),
              digest: dg.DigestService = Depends(digest_service)) -> Response:
    data = _build(digest, guild, week, team)
    return render(request, "digest.html", title=f"Digest {data.week}", body=Markup(dg.render_html(data, guild.config.name)))


@router.get("/api/digest/{week}")
def week_data(week: str, team: str | None = None, guild: ViewerGuild = Depends(viewer_guild),
              digest: dg.DigestService = Depends(digest_service)) -> JSONResponse:
    return JSONResponse(_build(digest, guild, week, team).public())
