"""The web `/me` page (issue 26) on the real app behind a trusted sign-in proxy: a person hides a topic,
stops being suggested and pauses; an opted-out person is absent from the web's people to ask; another
site cannot post the form."""
from __future__ import annotations

import dataclasses

import httpx
import pytest
from bs4 import BeautifulSoup

from guildbot.config.loader import WebConfig
from guildbot.web.app import create_app
from axe_playwright_python.sync_playwright import Axe

from support.consent_org import clear_consent, snow_org  # noqa: F401 - a fixture
from support.guilds import shared_embedder  # noqa: F401 - a fixture
from support.slack import ServerThread

INES = {"X-Forwarded-Email": "ines@snow.example"}
QUESTION = "who knows avalanche forecasting"


@pytest.fixture(scope="module")
def site(snow_org):  # noqa: F811
    config = dataclasses.replace(snow_org.config, web=WebConfig(auth="proxy", trusted_proxies=["127.0.0.1"]))
    guild = type(snow_org).__new__(type(snow_org))
    guild.__dict__.update(snow_org.__dict__, config=config)  # the same store and model, signed in by a proxy
    server = ServerThread(create_app(guild)).start()
    yield server
    server.stop()


@pytest.fixture
def http(site, snow_org):  # noqa: F811
    clear_consent(snow_org)
    with httpx.Client(base_url=site.url, timeout=60) as client:
        yield client
    clear_consent(snow_org)


def page(resp: httpx.Response) -> BeautifulSoup:
    assert resp.status_code == 200, resp.text[:500]
    return BeautifulSoup(resp.text, "html.parser")


def post(http: httpx.Client, headers: dict, **form: str) -> httpx.Response:
    return http.post("/me", data=form, headers={**headers, "Origin": str(http.base_url).rstrip("/")})


def people_to_ask(http: httpx.Client) -> list[str]:
    return [e["name"] for e in http.get("/api/who", params={"q": QUESTION}, headers=INES).json()]


def web_people(http: httpx.Client) -> str:
    """The search page's people to ask, as text."""
    soup = page(http.get("/search", params={"q": QUESTION}, headers=INES))
    return " ".join(x.get_text(" ") for x in soup.select(".people-to-ask"))


def test_an_opted_out_person_is_absent_from_who_on_the_web(http):
    assert "Ines Alm" in people_to_ask(http)
    assert "Ines Alm" in web_people(http)
    resp = post(http, INES, action="stop")
    assert resp.status_code == 303 and resp.headers["location"] == "/me?done=stop"
    assert "Ines Alm" not in people_to_ask(http) and "Jon Berg" in people_to_ask(http)
    assert "Ines Alm" not in web_people(http) and "Jon Berg" in web_people(http)
    assert "You are not suggested" in page(http.get("/me", headers=INES)).get_text(" ")
    post(http, INES, action="start")
    assert "Ines Alm" in people_to_ask(http)


def test_me_hides_a_topic_and_pauses(http, snow_org):  # noqa: F811
    soup = page(http.get("/me", headers=INES))
    topics = [i["value"] for i in soup.select("ul.consent-topics input[name=topic]")]
    assert topics and topics == snow_org.person("ines@snow.example").topics[:len(topics)]
    assert post(http, INES, action="hide", topic=topics[0]).status_code == 303
    soup = page(http.get("/me?done=hide", headers=INES))
    assert soup.select_one("[role=status]") is not None
    assert topics[0] in [i["value"] for i in soup.select("button[value=show]")[0].find_parent("form").select("input")]
    assert snow_org.consent("p:ines@snow.example")["hidden_topics"] == [topics[0]]
    assert post(http, INES, action="pause", days="14").status_code == 303
    assert "You are paused" in page(http.get("/me", headers=INES)).get_text(" ")
    assert "Ines Alm" not in people_to_ask(http)
    bad = post(http, INES, action="pause", days="9999")
    assert bad.status_code == 422 and "1 to 365 days" in bad.text


def test_another_site_cannot_change_someones_consent(http, snow_org):  # noqa: F811
    resp = http.post("/me", data={"action": "stop"}, headers={**INES, "Origin": "https://evil.example"})
    assert resp.status_code == 403 and "own /me page" in resp.text
    assert not snow_org.consent("p:ines@snow.example")["opted_out"]


def test_someone_the_directory_does_not_know(http):
    headers = {"X-Forwarded-Email": "visitor@elsewhere.example"}
    assert "does not know the address you signed in with" in page(http.get("/me", headers=headers)).get_text(" ")
    assert post(http, headers, action="stop").status_code == 403


def test_the_signed_in_page_passes_axe_in_chromium(site, snow_org, browser):  # noqa: F811
    clear_consent(snow_org)
    snow_org.set_consent("p:ines@snow.example", hide="avalanche danger")
    tab = browser.page(viewport={"width": 1280, "height": 900}, extra_http_headers=INES)
    try:
        for url in ("/me", "/me?done=hide"):
            assert tab.goto(site.url + url).status == 200
            violations = Axe().run(tab).response["violations"]
            assert not violations, [(v["id"], [n["html"][:200] for n in v["nodes"]]) for v in violations]
        tab.click("button[value=stop]")  # the form works in a real browser (same origin)
        assert "You are not suggested" in tab.inner_text("main")
    finally:
        tab.context.close()
        clear_consent(snow_org)
