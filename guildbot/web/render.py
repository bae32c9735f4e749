"""Server-rendered pages: the Jinja2 environment (autoescape on), its filters and the navigation.

Adding a page takes a template under guildbot/templates/, a route declared with
`response_class=HTMLResponse` that calls `render`, and one entry in NAV (helpers F and G add the
digest archive and the syncs this way). The browser tests run axe-core on every route declared so,
and fail on a page route they have no URL for.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from index.retrieval.search import query_terms

# (path, label): the site's navigation, in order; a page is "current" when its path starts the URL's
NAV: list[tuple[str, str]] = [
    ("/", "Search"),
    ("/people", "People"),
    ("/projects", "Projects"),
    ("/teams", "Teams"),
    ("/overlaps", "Overlaps"),
    ("/digest", "Digest"),
    ("/syncs", "Syncs"),
    ("/insights", "Insights"),
    ("/sources", "Sources"),
    ("/me", "Me"),
]
SLACK_USER_URL = "https://slack.com/app_redirect?channel={id}"


SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ed", "es", "s")


def stem(term: str) -> str:
    """A crude stem, so that 'recommender' marks 'recommendations' as full-text search matched it."""
    for suffix in SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 4:
            return term[:-len(suffix)]
    return term


def highlight(text: str | None, query: str) -> Markup:
    """The text, escaped, with every word that starts with a query term's stem wrapped in <mark>."""
    text = text or ""
    terms = sorted({stem(t) for t in query_terms(query or "")}, key=len, reverse=True)
    if not terms:
        return escape(text)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")\w*", re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last:m.start()]))
        out.append(Markup("<mark>") + escape(m.group(0)) + Markup("</mark>"))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def day(ts: str | None) -> str:
    """'2024-05-06T09:00:00+00:00' -> '2024-05-06'; '' when unknown."""
    if not ts:
        return ""
    try:
        return datetime.fromisoformat(str(ts).replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return str(ts)[:10]


def score(value: float) -> str:
    """A score in [0, 1] as two decimals, and "< 0.01" for one that would read "0.00" yet is not nothing
    (the people after the first few are scored against the best one)."""
    return f"{value:.2f}" if value >= 0.005 or value <= 0 else "< 0.01"


def path_part(value: Any) -> str:
    """A value quoted as one URL path segment (ids hold ':' and '@', maybe '/')."""
    return quote(str(value), safe=":@")


def slack_user_url(slack_id: str) -> str:
    return SLACK_USER_URL.format(id=quote(slack_id, safe="")) if slack_id else ""


def url_with(request: Request, path: str | None = None, **changes: Any) -> str:
    """This page's URL with some query parameters changed; None or '' removes one. Any change but
    `page` itself starts again from page 1."""
    params = {k: v for k, v in request.query_params.items() if v}
    if "page" not in changes:
        params.pop("page", None)
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return (path or request.url.path) + ("?" + query if query else "")


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("guildbot", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(highlight=highlight, day=day, pp=path_part, slack_user_url=slack_user_url, score=score)
    return env


ENV = _environment()


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page from its template, with the navigation, the guild's name and the signed-in viewer."""
    path = request.url.path
    current = "/" if path in ("/", "/search") else \
        next((p for p, _ in NAV if p != "/" and (path == p or path.startswith(p + "/"))), "")
    state = request.app.state
    html = ENV.get_template(template).render(
        request=request, nav=NAV, current=current, guild_name=state.guild_name, viewer=getattr(request.state, "viewer", None),
        url_with=lambda **kw: url_with(request, **kw), **context)
    return HTMLResponse(html, status_code=status_code)
