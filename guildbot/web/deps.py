"""FastAPI dependencies the routes share (kept apart from app.py so routes never import the app)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from guildbot.web.auth import ANONYMOUS, ViewerGuild

if TYPE_CHECKING:
    from guildbot.digest.service import DigestService
    from guildbot.insights import InsightsService
    from guildbot.syncs.service import SyncService


def viewer_guild(request: Request) -> ViewerGuild:
    """The dependency every page and API route uses: the Guild as the signed-in viewer sees it."""
    return ViewerGuild(request.app.state.guild, getattr(request.state, "viewer", ANONYMOUS))


def digest_service(request: Request) -> "DigestService":
    """The app's digest service (built once by create_app). A digest is shown whole: each view is
    already the public one or a team's, and the route checks who may read a team's."""
    return request.app.state.digest


def sync_service(request: Request) -> "SyncService":
    """The app's syncs service (built once by create_app); syncs show the public view already."""
    return request.app.state.syncs


def insights_service(request: Request) -> "InsightsService":
    """The app's insights service (built once by create_app)."""
    return request.app.state.insights
