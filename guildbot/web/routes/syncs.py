"""`/syncs`: the cross-team syncs guildbot planned, upcoming first, then the past ones.

Syncs are read by several people at once, so their evidence is the public view already
(guildbot/syncs/service.py); the page lists them as stored.
"""
from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from guildbot.syncs.service import SyncService
from guildbot.web.deps import sync_service
from guildbot.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/syncs", response_class=HTMLResponse)
def syncs(request: Request, service: SyncService = Depends(sync_service)) -> Response:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    stored = service.stored()
    upcoming = [s for s in stored if (s.get("start") or "") >= now and s.get("status") != "cancelled"]
    past = [s for s in stored if s not in upcoming][::-1]
    return render(request, "syncs.html", upcoming=upcoming, past=past)
