"""The digest pages on the real FastAPI app served by uvicorn on loopback."""
from __future__ import annotations

import httpx
import pytest

from guildbot.web.app import create_app

from support.digest import demo_week  # noqa: F401 - a fixture
from support.slack import ServerThread


@pytest.fixture(scope="module")
def site(demo_guild):
    api = create_app(demo_guild)
    server = ServerThread(api).start()
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http
    server.stop()


def test_the_week_page_shows_the_same_content_as_the_message(site, demo_guild, demo_week):
    page = site.get(f"/digest/{demo_week}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    body = page.text
    assert f'data-week="{demo_week}"' in body and "Possible duplicate effort" in body
    overlap = body[body.index('class="overlaps"'):body.index('class="gaps"')]
    assert "feed-ranker" in overlap and "similar-items" in overlap and "Priya Raman" in overlap and "Omar Haddad" in overlap
    assert "The model registry" in body  # a new page of the week
    data = site.get(f"/api/digest/{demo_week}").json()
    assert data["week"] == demo_week and data["overlaps"][0]["pair"] == "feed-ranker|similar-items"


def test_a_team_view_and_bad_input(site, demo_week):
    risk = site.get(f"/digest/{demo_week}", params={"team": "Risk"})
    assert risk.status_code == 200 and "weekly digest · " + demo_week + " · Risk" in risk.text
    assert "Marketplace recommendations roadmap" not in risk.text
    bad = site.get("/digest/2026-49")
    assert bad.status_code == 400 and "write it like 2026-W49" in bad.text
    assert site.get(f"/api/digest/{demo_week}", params={"team": "Nope"}).status_code == 404
    assert "<script>" not in site.get("/digest/<script>").text


def test_the_archive_links_the_ended_weeks(site, demo_week):
    page = site.get("/digest")
    assert page.status_code == 200 and f'href="/digest/{demo_week}"' in page.text
