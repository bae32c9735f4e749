"""The JSON API under /api/: the CLI's --json shapes, produced by the same `.public()` functions.

The pydantic models describe those shapes for the OpenAPI schema (/api/openapi.json) and its
server-rendered reference (/api/docs). They allow extra fields, so a field added to a `.public()`
reaches API clients as it reaches the CLI, never silently dropped.
"""
from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from index.expertise.profiles import AmbiguousPerson

from guildbot.web.deps import viewer_guild
from guildbot.web.auth import ViewerGuild
from guildbot.web.render import render

router = APIRouter(prefix="/api")
MAX_QUERY = 2000
Limit = Query(10, ge=1, le=100, description="how many answers")
TeamFilter = Query(None, max_length=200, description="only answers from this team")


class Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class SearchHit(Shape):
    title: str
    url: str
    source: str
    team: str
    path: str
    snippet: str
    score: float


class EvidenceOut(Shape):
    title: str
    url: str
    what: str = ""


class ExpertOut(Shape):
    name: str
    emails: list[str]
    aliases: list[str]
    team: str
    score: float
    evidence: list[EvidenceOut]


class PersonRow(Shape):
    id: str
    name: str
    team: str
    emails: list[str]
    aliases: list[str]
    in_directory: bool


class ProfileOut(Shape):
    id: str
    name: str
    team: str
    emails: list[str]
    aliases: list[str]
    slack_id: str
    tz: str
    in_directory: bool
    identities: list[dict[str, str]]
    topics: list[str]
    projects: list[dict[str, Any]]
    recent: list[dict[str, Any]]


class ContributorOut(Shape):
    name: str
    team: str
    count: int


class RiskPerson(Shape):
    id: str
    name: Optional[str]
    team: Optional[str]


class RiskOut(Shape):
    """The bus factor: one person made most of the last year's commits and left or went quiet (Guild.at_risk)."""
    person: RiskPerson
    share: float
    commits: int
    reason: str
    next: list[RiskPerson]


class ProjectOut(Shape):
    id: str
    name: str
    kind: str
    source: str
    team: str
    summary: str
    topics: list[str]
    owners: list[str]
    owner_people: list[str]
    contributors: list[ContributorOut]
    links: list[dict[str, str]]
    first_activity: Optional[str]
    last_activity: Optional[str]
    status: str
    documents: int
    provenance: dict[str, str]
    at_risk: Optional[RiskOut] = None


class OverlapSide(Shape):
    project: str
    id: str
    team: str
    summary: str
    status: str
    people: list[dict[str, str]]


class OverlapOut(Shape):
    score: float
    similarity: float
    shared_topics: list[str]
    a: OverlapSide
    b: OverlapSide
    evidence: list[dict[str, Any]]


class SourceOut(Shape):
    name: str
    kind: str
    team: str
    documents: int
    last_crawl_at: Optional[str]
    last_success_at: Optional[str]
    last_error: Optional[str]


def _query(q: str) -> str:
    q = q.replace("\x00", " ").strip()
    if not q:
        raise HTTPException(422, "q is empty; give the words to search for")
    return q


@router.get("/search", response_model=list[SearchHit], summary="Documents for a query (`guildbot search --json`)")
def api_search(q: str = Query(..., max_length=MAX_QUERY, description="what to search for"), limit: int = Limit,
               team: Optional[str] = TeamFilter, guild: ViewerGuild = Depends(viewer_guild)) -> list[dict[str, Any]]:
    return [h.public() for h in guild.search(_query(q), limit=limit, team=team or None)]


@router.get("/who", response_model=list[ExpertOut], summary="People to ask, with evidence (`guildbot who --json`)")
def api_who(q: str = Query(..., max_length=MAX_QUERY, description="the question or topic"), limit: int = Limit,
            team: Optional[str] = TeamFilter, guild: ViewerGuild = Depends(viewer_guild)) -> list[dict[str, Any]]:
    return [e.public() for e in guild.experts(_query(q), limit=limit, team=team or None)]


@router.get("/people", response_model=list[PersonRow], summary="Everyone (`guildbot people --json`)")
def api_people(guild: ViewerGuild = Depends(viewer_guild)) -> list[dict[str, Any]]:
    return guild.people()


@router.get("/people/{person_id:path}", response_model=ProfileOut,
            summary="One person by id, email, name or Slack id (`guildbot person --json`)",
            responses={404: {"description": "nobody matches"}, 409: {"description": "several people match"}})
def api_person(person_id: str, guild: ViewerGuild = Depends(viewer_guild)) -> dict[str, Any]:
    try:
        found = guild.person(person_id)
    except AmbiguousPerson as e:
        raise HTTPException(409, str(e))
    if found is None:
        raise HTTPException(404, f"nobody matches {person_id!r}; /api/people lists everyone")
    return found.public()


@router.get("/projects", response_model=list[ProjectOut], summary="The project catalog (`guildbot projects --json`)")
def api_projects(team: Optional[str] = TeamFilter,
                 topic: Optional[str] = Query(None, max_length=200, description="only projects with a topic containing this"),
                 guild: ViewerGuild = Depends(viewer_guild)) -> list[dict[str, Any]]:
    risks = {r["project_id"]: r for r in guild.at_risk()}
    return [{**p.public(), "at_risk": risks.get(p.id)} for p in guild.projects(team=team or None, topic=topic or None)]


@router.get("/projects/{project_id:path}", response_model=ProjectOut,
            summary="One project by id or name (`guildbot project --json`)", responses={404: {"description": "no such project"}})
def api_project(project_id: str, guild: ViewerGuild = Depends(viewer_guild)) -> dict[str, Any]:
    found = guild.project(project_id)
    if found is None:
        raise HTTPException(404, f"no project named {project_id!r}; /api/projects lists them")
    return {**found.public(), "at_risk": next((r for r in guild.at_risk() if r["project_id"] == found.id), None)}


@router.get("/overlaps", response_model=list[OverlapOut],
            summary="Projects in different teams working on the same thing (`guildbot overlaps --json`)")
def api_overlaps(limit: int = Limit, guild: ViewerGuild = Depends(viewer_guild)) -> list[dict[str, Any]]:
    return [o.public() for o in guild.overlaps(limit=limit)]


@router.get("/sources", response_model=list[SourceOut], summary="Last crawl, documents and last error per source "
            "(`guildbot sources --json`)")
def api_sources(guild: ViewerGuild = Depends(viewer_guild)) -> list[dict[str, Any]]:
    return guild.sources()


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def api_docs(request: Request) -> Response:
    """The OpenAPI schema as a page: no script, no CDN (Swagger UI would need both)."""
    schema = request.app.openapi()
    return render(request, "api_docs.html", schema=schema, operations=[
        (path, method.upper(), op) for path, ops in schema.get("paths", {}).items() for method, op in ops.items()])
