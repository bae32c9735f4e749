"""The HTML pages. Each route reads its query leniently (a bad value is explained on the page, never
a 500), calls the Guild as the signed-in viewer sees it, and renders one template."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from index.catalog.build import Project
from index.expertise.profiles import AmbiguousPerson
from index.retrieval.search import Hit

from guildbot.web.deps import viewer_guild
from guildbot.web.auth import ViewerGuild
from guildbot.web.render import render

router = APIRouter(include_in_schema=False)
MAX_QUERY = 500  # characters of a query that are searched; a longer one is cut, and the page says so
PER_PAGE = 10
PEOPLE_BESIDE = 5
PROJECT_SORTS = {"team": "team", "name": "name", "activity": "last activity", "documents": "documents"}


def clean(value: str | None, limit: int = 200) -> str:
    """A query parameter without control characters, trimmed and capped."""
    text = "".join(ch for ch in (value or "") if ch >= " " or ch in "\t")
    return text.strip()[:limit]


def page_number(value: str | None) -> int:
    text = (value or "").strip()
    return min(int(text), 10_000) if text.isdigit() and len(text) < 7 else 1


def _topics(guild: ViewerGuild, n: int = 8) -> list[str]:
    """Topics from the catalog to suggest on the home and no-result pages."""
    seen: dict[str, None] = {}
    for p in guild.projects():
        for t in p.topics[:2]:
            seen.setdefault(t, None)
    return list(seen)[:n]


def _projects_of(guild: ViewerGuild, hits: list[Hit]) -> dict[str, Project]:
    """doc id -> the catalog project each hit belongs to, for the projects the viewer may see."""
    return guild.projects_of([h.doc_id for h in hits])


@router.get("/", response_class=HTMLResponse)
def home(request: Request, guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    sources = guild.sources()
    return render(request, "home.html", q="", topics=_topics(guild), teams=[t.name for t in guild.config.teams],
                  documents=sum(s["documents"] for s in sources), sources=len(sources))


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: str | None = None, team: str | None = None, source: str | None = None,
           kind: str | None = None, since: str | None = None, page: str | None = None,
           guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    raw = clean(q, limit=10 * MAX_QUERY)
    query = raw[:MAX_QUERY]
    if len(raw) > MAX_QUERY and not raw[MAX_QUERY].isspace() and " " in query:
        query = query.rsplit(" ", 1)[0]  # cut between words: a broken last word would be one the index never saw
    if not query:
        return RedirectResponse("/", status_code=303)
    notes = [f"Your query was cut to its first {MAX_QUERY} characters."] if len(raw) > MAX_QUERY else []
    team, source, kind, since = clean(team), clean(source), clean(kind), clean(since, 20)
    asker = guild.signed_in.email or None  # for the query log
    try:
        result = guild.search_page(query, team=team, source=source, kind=kind, since=since,
                                   page=page_number(page), per_page=PER_PAGE, asker=asker)
    except ValueError as e:  # an unreadable `since`: say so and search without it
        notes.append(str(e))
        since = ""
        result = guild.search_page(query, team=team, source=source, kind=kind, page=page_number(page), per_page=PER_PAGE,
                                   asker=asker)
    people = [e for e in guild.experts(query, limit=PEOPLE_BESIDE, team=team or None, surface="web", asker=asker)
              if e.score > 0]
    return render(request, "search.html", q=query, result=result, people=people, notes=notes,
                  projects=_projects_of(guild, result.hits), topics=_topics(guild) if not result.total else [])


@router.get("/people", response_class=HTMLResponse)
def people(request: Request, q: str | None = None, team: str | None = None,
           guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    q, team = clean(q), clean(team)
    everyone = guild.people()
    words = q.casefold().split()
    shown = [p for p in everyone if (not team or p["team"].casefold() == team.casefold())
             and all(w in (p["name"] + " " + " ".join(p["emails"])).casefold() for w in words)]
    teams = sorted({p["team"] for p in everyone if p["team"]}, key=str.casefold)
    return render(request, "people.html", people=shown, total=len(everyone), q=q, team=team, teams=teams)


@router.get("/people/{person_id:path}", response_class=HTMLResponse)
def person(request: Request, person_id: str, guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    try:
        found = guild.person(person_id)
    except AmbiguousPerson as e:
        return render(request, "people.html", people=[
            {"id": c["id"], "name": c["name"], "team": c["team"] or "", "emails": []} for c in e.candidates],
            total=len(e.candidates), q=person_id, team="", teams=[], ambiguous=True)
    if found is None:
        raise HTTPException(404, f"Nobody is known as {person_id!r}; the People page lists everyone.")
    try:
        similar = guild.similar(found.person_id)
    except LookupError:
        similar = []
    return render(request, "person.html", p=found, similar=similar)


def _sort(projects: list, by: str) -> list:
    if by == "name":
        return sorted(projects, key=lambda p: p.name.casefold())
    if by == "activity":
        return sorted(projects, key=lambda p: p.last_activity or "", reverse=True)
    if by == "documents":
        return sorted(projects, key=lambda p: (-p.documents, p.name.casefold()))
    return projects  # by team, then name: the catalog's own order


@router.get("/projects", response_class=HTMLResponse)
def projects(request: Request, team: str | None = None, topic: str | None = None, status: str | None = None,
             sort: str | None = None, guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    team, topic, status, sort = clean(team), clean(topic), clean(status), clean(sort)
    everything = guild.projects()
    shown = guild.projects(team=team or None, topic=topic or None)
    if status:
        shown = [p for p in shown if p.status == status]
    sort = sort if sort in PROJECT_SORTS else "team"
    return render(request, "projects.html", projects=_sort(shown, sort), total=len(everything), team=team,
                  risks={r["project_id"]: r for r in guild.at_risk()},
                  topic=topic, status=status, sort=sort, sorts=PROJECT_SORTS,
                  teams=sorted({p.team for p in everything if p.team}, key=str.casefold),
                  statuses=sorted({p.status for p in everything}))


@router.get("/projects/{project_id:path}", response_class=HTMLResponse)
def project(request: Request, project_id: str, guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    found = guild.project(project_id)
    if found is None:
        raise HTTPException(404, f"No project is called {project_id!r}; the Projects page lists them all.")
    return render(request, "project.html", p=found, documents=guild.project_documents(found.id),
                  overlaps=guild.project_overlaps(found.id),
                  risk=next((r for r in guild.at_risk() if r["project_id"] == found.id), None))


@router.get("/teams", response_class=HTMLResponse)
def teams(request: Request, guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    return render(request, "teams.html", teams=guild.teams())


@router.get("/teams/{name:path}", response_class=HTMLResponse)
def team(request: Request, name: str, guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    found = guild.team(name)
    if found is None:
        raise HTTPException(404, f"No team is called {name!r}; the Teams page lists them all.")
    return render(request, "team.html", t=found)


@router.get("/overlaps", response_class=HTMLResponse)
def overlaps(request: Request, guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    return render(request, "overlaps.html", overlaps=guild.overlaps(limit=20))


@router.get("/sources", response_class=HTMLResponse)
def sources(request: Request, guild: ViewerGuild = Depends(viewer_guild)) -> Response:
    return render(request, "sources.html", sources=guild.sources())
