"""A person in headless Chromium, keyboard only: asks "who has built a recommender", finds the
recommender documents and the Home Feed and Marketplace people, opens a person and their project,
filters by team. Then the same without JavaScript, on a phone, the page's accessibility basics, and
axe-core on every page the app serves to a browser."""
from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi.responses import HTMLResponse
from playwright.sync_api import expect

from support.browser import focused, lowest_contrast, tab_to, web_site  # noqa: F401 - fixtures (`browser` is in conftest.py)
from support.digest import demo_week  # noqa: F401 - a fixture
from guildbot.web.app import create_app
from support.slack import recommender_authors
from guildbot.syncs.service import syncs_for

QUESTION = "who has built a recommender"
SEARCH_URL = re.compile(r"/search\?q=who\+has\+built\+a\+recommender$")


def documents(page) -> list[dict]:
    return page.eval_on_selector_all("ol.hits li.hit", """items => items.map(li => ({
        url: li.querySelector('h3 a').getAttribute('href'), team: li.querySelector('.meta a').textContent.trim()}))""")


def people(page) -> list[str]:
    return [href.removeprefix("/people/") for href in
            page.eval_on_selector_all(".people-to-ask .who a", "links => links.map(a => a.getAttribute('href'))")]


def assert_recommender_answer(page, guild) -> None:
    """The top documents are about recommenders and come from both teams that built one; the people
    beside them include recommender authors of both teams."""
    texts = {r["url"]: r for r in guild.store.query("SELECT url, team, title, text FROM documents")}
    top = [texts[d["url"]] for d in documents(page)[:5]]
    assert all("recommend" in (t["text"] + t["title"]).casefold() for t in top[:3]), [t["title"] for t in top]
    assert {t["team"] for t in top} >= {"Home Feed", "Marketplace"}
    authors = recommender_authors(guild)
    assert {guild.person(p).team for p in people(page) if p in authors} >= {"Home Feed", "Marketplace"}


@pytest.fixture
def page(browser):
    p = browser.page(viewport={"width": 1280, "height": 900})
    p.problems = []  # console errors (a CSP violation is one) and uncaught exceptions
    p.on("console", lambda m: p.problems.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.problems.append(str(e)))
    yield p
    p.context.close()


def test_keyboard_only_search_person_project_and_team_filter(page, web_site, demo_guild):
    page.goto(web_site.url + "/")
    assert focused(page)["id"] == "q"  # the search box has the focus on arrival
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_url(SEARCH_URL)
    assert_recommender_answer(page, demo_guild)
    before = documents(page)

    with_projects = next(p for p in people(page) if demo_guild.person(p).projects)  # the first person to ask with projects
    person = tab_to(page, lambda f: f["href"] == "/people/" + with_projects)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/people/"))
    pid = person["href"].removeprefix("/people/")
    profile = demo_guild.person(pid)
    expect(page.locator("h1")).to_have_text(profile.name)
    assert page.locator("#projects-h + table a[href^='/projects/']").all_inner_texts() == [x["name"] for x in profile.projects]

    project = tab_to(page, lambda f: f["href"].startswith("/projects/"), limit=400)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/projects/"))
    found = demo_guild.project(project["href"].removeprefix("/projects/"))
    expect(page.locator("h1")).to_contain_text(found.name)
    owners = page.locator("section.about dd").nth(1).inner_text()
    assert found.owners and all(o in owners for o in found.owners)

    tab_to(page, lambda f: f["id"] == "site-q", limit=600, key="Shift+Tab")  # back up to the header search box
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_url(SEARCH_URL)
    tab_to(page, lambda f: f["id"] == "f-team")
    for _ in range(10):  # arrow through the team options until Home Feed is chosen
        if focused(page)["value"] == "Home Feed":
            break
        page.keyboard.press("ArrowDown")
    assert focused(page)["value"] == "Home Feed"
    tab_to(page, lambda f: f["text"] == "Apply filters")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"team=Home(\+|%20)Feed"))
    expect(page.locator("select#f-team")).to_have_value("Home Feed")
    after = documents(page)
    assert after and {d["team"] for d in after} == {"Home Feed"} and after != before
    assert {demo_guild.person(p).team for p in people(page)} == {"Home Feed"}
    assert focused(page)["id"] == "apply-filters"  # results swapped in place, the keyboard stays where it was
    assert page.problems == []


def test_everything_works_without_javascript(browser, web_site, demo_guild):
    page = browser.page(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page.goto(web_site.url + "/")
    page.fill("#q", QUESTION)
    page.press("#q", "Enter")
    page.wait_for_url(SEARCH_URL)
    assert_recommender_answer(page, demo_guild)
    page.select_option("#f-team", "Marketplace")
    page.click("text=Apply filters")
    page.wait_for_url(re.compile(r"team=Marketplace"))
    assert {d["team"] for d in documents(page)} == {"Marketplace"}
    if page.locator("nav.pages").count():
        page.click("nav.pages >> text=Next page")
        page.wait_for_url(re.compile(r"page=2"))
        assert {d["team"] for d in documents(page)} == {"Marketplace"}
    page.goto(web_site.url + "/projects?team=Risk")
    page.click("li.card h2 a >> nth=0")
    page.wait_for_url(re.compile("/projects/"))
    expect(page.locator("section.about")).to_contain_text("Owners")
    page.context.close()


def test_htmx_swaps_results_in_place_and_keeps_the_url_shareable(page, web_site):
    page.goto(web_site.url + "/search?q=drift+monitoring")
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.sameDocument = true; }")  # lost on a full page load
    page.select_option("#f-team", "Risk")
    page.click("text=Apply filters")
    page.wait_for_url(re.compile(r"team=Risk"))
    expect(page.locator("select#f-team")).to_have_value("Risk")
    assert page.evaluate("() => window.sameDocument === true")
    assert {d["team"] for d in documents(page)} == {"Risk"}
    assert page.problems == []
    page.reload()  # the pushed URL renders the same results on its own
    assert {d["team"] for d in documents(page)} == {"Risk"}


def test_a_question_nothing_answers_shows_the_no_result_page(page, web_site):
    """The relevance floor (index/retrieval/floor.py): no guessed documents, the no-result page with
    its suggestions instead; a question the index answers still gets its documents."""
    page.goto(web_site.url + "/")
    page.fill("#q", "where can I buy sourdough bread and croissants near the office")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=where\+can"))
    box = page.locator(".no-results")
    expect(box).to_be_visible()
    expect(box).to_contain_text("Nothing matched")
    assert page.locator("ol.hits li.hit").count() == 0
    expect(page.locator("p.count")).to_have_text("0 documents")
    assert box.locator(".chips a").count() > 0  # topics of the catalog to try instead
    box.locator(".chips a").first.click()
    page.wait_for_url(re.compile(r"/search\?q="))
    assert documents(page)  # a suggested topic has answers
    assert page.problems == []


@pytest.mark.parametrize("path", ["/", "/search?q=who+has+built+a+recommender", "/people", "/projects",
                                  "/projects/feed-ranker", "/teams", "/overlaps", "/sources", "/api/docs"])
def test_phone_sized_pages_fit_and_text_has_contrast(browser, web_site, path):
    page = browser.page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(web_site.url + path)
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{path} scrolls sideways on a phone: {width}"
    worst = lowest_contrast(page)
    assert worst[0][0] >= 4.5, worst
    page.context.close()


def test_skip_link_landmarks_and_visible_focus(page, web_site):
    page.goto(web_site.url + "/people")
    first = tab_to(page, lambda f: True, limit=1)
    assert first["text"] == "Skip to main content"
    assert page.evaluate("() => document.activeElement.getBoundingClientRect().top >= 0")  # shown when focused
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    tab_to(page, lambda f: f["id"] == "people-q")  # the first control inside main comes next in order
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    roles = page.evaluate("""() => ['header', 'nav', 'main', 'footer'].map(t => document.querySelectorAll(t).length)""")
    assert roles == [1, 1, 1, 1]


# -- axe-core on every page --------------------------------------------------------------------------------
# Every route that serves HTML (by its path as FastAPI formats it), with URLs that show its states:
# results, no results, a note, filters, an ambiguous name, the error page. {person} and {week} are
# filled in from the demo org.
AXE_PAGES: dict[str, list[str]] = {
    "/": ["/"],
    "/search": ["/search?q=who+has+built+a+recommender", "/search?q=who+has+built+a+recommender&team=Home+Feed&page=2",
                "/search?q=recommender&kind=no-such-kind", "/search?q=drift&since=last+tuesday"],
    "/people": ["/people", "/people?team=Risk", "/people?q=nobody+at+all"],
    "/people/{person_id}": ["/people/{person}", "/people/Mei%20Lin", "/people/nobody"],
    "/projects": ["/projects", "/projects?team=Marketplace&sort=activity", "/projects?status=no-such-status"],
    "/projects/{project_id}": ["/projects/feed-ranker", "/projects/drift-watch", "/projects/nope"],
    "/teams": ["/teams"],
    "/teams/{name}": ["/teams/Home%20Feed", "/teams/Nope"],
    "/overlaps": ["/overlaps"],
    "/sources": ["/sources"],
    "/digest": ["/digest"],
    "/digest/{week}": ["/digest/{week}", "/digest/{week}?team=Risk", "/digest/2026-49"],
    "/syncs": ["/syncs"],
    "/me": ["/me"],
    "/insights": ["/insights", "/insights?weeks=2", "/insights?weeks=never"],  # nobody signed in here; the signed-in page is checked in test_web_me.py
    "/api/docs": ["/api/docs"],
}
JSON_OUTSIDE_THE_SCHEMA = {"/healthz", "/api/openapi.json", "/api/digest/{week}"}  # the rest of the JSON is /api


def get_routes(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, response class) of every GET route, looking inside included routers (which newer FastAPI
    keeps as one route each rather than copying their routes into the app)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from get_routes(included.routes, prefix + route.include_context.prefix)
        elif "GET" in (getattr(route, "methods", None) or ()):
            yield prefix + route.path_format, getattr(route, "response_class", None)


def test_axe_pages_are_every_page_the_app_serves(demo_guild):
    app = create_app(demo_guild)
    routes = dict(get_routes(app.router.routes))
    pages = {path for path, response in routes.items() if response is HTMLResponse}
    assert pages == set(AXE_PAGES), "a page route without URLs to check (or URLs of no route)"
    assert set(routes) - pages == set(app.openapi()["paths"]) | JSON_OUTSIDE_THE_SCHEMA, \
        "a GET route that is neither a declared page (response_class=HTMLResponse) nor JSON"


def describe(violations: list[dict]) -> str:
    """axe-core's violations, each with its rule, what it asks for and every offending node."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        lines += [f"    {' '.join(map(str, n['target']))}: {n['html'][:300]}" for n in v["nodes"]]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def planned_syncs(demo_guild) -> list[dict]:
    """The next cycle's syncs, planned (once per cycle) so /syncs shows its table."""
    proposals = syncs_for(demo_guild).propose()
    assert proposals
    return proposals


@pytest.mark.parametrize("route", list(AXE_PAGES))
def test_axe_finds_no_violations(browser, web_site, demo_guild, demo_week, planned_syncs, route):
    person = demo_guild.person("priya.raman@acme.example").person_id
    page = browser.page(viewport={"width": 1280, "height": 900})
    found = []
    for url in (u.format(person=person, week=demo_week) for u in AXE_PAGES[route]):
        response = page.goto(web_site.url + url)
        assert response is not None and response.headers["content-type"].startswith("text/html"), url
        violations = Axe().run(page).response["violations"]
        if violations:
            found.append(f"{url} ({response.status}):\n{describe(violations)}")
    page.context.close()
    assert not found, "axe-core violations:\n" + "\n".join(found)
