"""FastAPI dependencies the routes share (kept apart from app.py so routes never import the app)."""
from __future__ import annotations

from fastapi import Request

from guildbot.web.auth import ANONYMOUS, ViewerGuild


def viewer_guild(request: Request) -> ViewerGuild:
    """The dependency every page and API route uses: the Guild as the signed-in viewer sees it."""
    return ViewerGuild(request.app.state.guild, getattr(request.state, "viewer", ANONYMOUS))
