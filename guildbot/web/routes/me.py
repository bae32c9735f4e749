"""`/me`: how guildbot suggests the signed-in person, and the form that changes it (issue 26): hide a
topic, stop being suggested, pause for a period. The same choices as `/guild me` in Slack.

Only a signed-in person the directory knows has a page ([web] auth = "proxy"); anyone else is told how
to get one. A change is a POST from this site's own form (a POST whose Origin is another site is refused:
no other page can change someone's consent), answered with a redirect back to /me.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from guildbot.web.auth import ViewerGuild
from guildbot.web.deps import viewer_guild
from guildbot.web.render import render

router = APIRouter(include_in_schema=False)
ACTIONS = ("stop", "start", "pause", "resume", "hide", "show")
PAUSES = {7: "a week", 14: "two weeks", 28: "four weeks", 90: "three months"}


def _same_origin(request: Request) -> bool:
    """A POST from this site: its Origin names this host, or (a client that sends no Origin) no browser
    says it came from elsewhere."""
    origin = request.headers.get("origin")
    if origin:
        return origin != "null" and urlsplit(origin).netloc == request.headers.get("host", "")
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


@router.get("/me", response_class=HTMLResponse)
def me(request: Request, done: str | None = None, guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    found = guild.me()
    if found is None:
        return render(request, "me.html", p=None, signed_in=guild.signed_in.signed_in)
    consent = guild.my_consent()
    hidden = {t.casefold() for t in consent["hidden_topics"]}
    return render(request, "me.html", p=found, consent=consent, suggested=guild.my_suggestions(),
                  budget=guild.config.weekly_budget, topics=[t for t in found.topics if t.casefold() not in hidden],
                  pauses=PAUSES, done=(done or "")[:200], signed_in=True)


@router.post("/me", response_class=HTMLResponse)
def change(request: Request, action: str = Form(...), topic: str = Form(""), days: str = Form("7"),
           guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    if not _same_origin(request):
        raise HTTPException(403, "This form may only be sent from guildbot's own /me page.")
    if guild.me() is None:
        raise HTTPException(403, "Sign in as someone the people directory knows to change how you are suggested.")
    if action not in ACTIONS:
        raise HTTPException(422, f"Unknown change {action!r}; use the buttons on the /me page.")
    topic = " ".join(topic.split())[:200]
    if action in ("hide", "show") and not topic:
        raise HTTPException(422, "Name the topic to hide or show.")
    try:
        change = {"stop": {"opted_out": True}, "start": {"opted_out": False}, "resume": {"resume": True},
                  "hide": {"hide": topic}, "show": {"show": topic},
                  "pause": {"pause_days": int(days) if days.strip().isdigit() else -1}}[action]
        guild.set_my_consent(**change)
    except ValueError as e:
        raise HTTPException(422, str(e))
    return RedirectResponse(f"/me?done={action}", status_code=303)
