"""`/syncs`: the cross-team syncs guildbot planned, upcoming first, then the past ones.

Syncs are read by several people at once, so their evidence is the public view already
(guildbot/syncs/service.py); the page lists them as stored, and says for every strong cross-team
overlap why it became a sync or did not (the reasons of `syncs propose --explain`).
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
    _, why = service.explain(save=False)  # the reasons of `syncs propose --explain`; stores nothing
    strong = [o for o in why.get("overlaps", []) if o["strong"]]
    weak = [o for o in why.get("overlaps", []) if not o["strong"]]
    return render(request, "syncs.html", upcoming=upcoming, past=past, strong=strong, weak=weak,
                  note=why.get("note", ""), cycle=why.get("cycle", ""))
