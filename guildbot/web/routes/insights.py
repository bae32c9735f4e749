"""`/insights` (and its data as JSON at `/api/insights`): what the guild asks week by week, what goes
unanswered, the syncs, and which teams learn from which (guildbot/insights.py). Charts are SVG drawn on
the server, each number also in a table; nothing needs colour, script or a CDN."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from guildbot.insights import InsightsService, charts
from guildbot.web.deps import insights_service
from guildbot.web.render import render

router = APIRouter()
WEEKS = 8


def _weeks(value: str | None) -> tuple[int, str]:
    """The number of weeks asked for, leniently: (weeks, a note when the value could not be used)."""
    text = (value or "").strip()
    if not text:
        return WEEKS, ""
    if text.isdigit() and 1 <= int(text) <= 104:
        return int(text), ""
    return WEEKS, f"“{text[:20]}” is not a number of weeks from 1 to 104; showing the last {WEEKS}."


@router.get("/insights", response_class=HTMLResponse, include_in_schema=False)
def insights(request: Request, weeks: str | None = None, service: InsightsService = Depends(insights_service)) -> Response:
    n, note = _weeks(weeks)
    data = service.build(n)
    return render(request, "insights.html", data=data, charts=charts(data), note=note, weeks=n)


@router.get("/api/insights", summary="Insights: questions per week, unanswered topics, syncs, the team map "
                                     "(`guildbot insights --json`)")
def api_insights(weeks: int = Query(WEEKS, ge=1, le=104, description="ISO weeks up to this one"),
                 service: InsightsService = Depends(insights_service)) -> dict:
    try:
        return service.build(weeks)
    except ValueError as e:
        raise HTTPException(422, str(e))
