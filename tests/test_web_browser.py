"""A person in headless Chromium, keyboard only: asks "who has built a recommender", finds the
recommender documents and the Home Feed and Marketplace people, opens a person and their project,
filters by team. Then the same without JavaScript, on a phone, and the page's accessibility basics."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser import browser, focused, lowest_contrast, tab_to, web_site  # noqa: F401 - fixtures
from slack_support import recommender_authors

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
