"""The web app over real HTTP (uvicorn on loopback) on the crawled demo org: the JSON API against
the CLI's --json, the pages' content and links, hostile query strings, security headers."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup

from support.browser import web_site  # noqa: F401 - fixture
from guildbot.cli.main import main as cli
from support.slack import recommender_authors

QUESTION = "who has built a recommender"


@pytest.fixture(scope="module")
def http(web_site):
    with httpx.Client(base_url=web_site.url, timeout=120) as client:
        yield client


def page(http, url: str) -> BeautifulSoup:
    resp = http.get(url)
    assert resp.status_code == 200, (url, resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("text/html")
    return BeautifulSoup(resp.text, "html.parser")


def cli_json(demo_dir, capsys, *args: str):
    capsys.readouterr()
    assert cli(["--config", str(demo_dir / "guild.toml"), *args]) == 0
    return json.loads(capsys.readouterr().out)


# -- one contract: the API answers what the CLI's --json prints ----------------------------------------------
def test_api_answers_are_the_cli_json(http, demo_dir, demo_guild, capsys):
    priya = demo_guild.person("priya.raman@acme.example").person_id
    pairs = [
        (["search", QUESTION, "--json"], "/api/search?q=" + quote(QUESTION)),
        (["search", "drift", "--json", "--team", "Risk", "--limit", "3"], "/api/search?q=drift&team=Risk&limit=3"),
        (["who", QUESTION, "--json"], "/api/who?q=" + quote(QUESTION)),
        (["who", "drift monitoring", "--json", "--limit", "2"], "/api/who?q=drift+monitoring&limit=2"),
        (["projects", "--json"], "/api/projects"),
        (["projects", "--json", "--team", "Marketplace"], "/api/projects?team=Marketplace"),
        (["project", "feed-ranker", "--json"], "/api/projects/feed-ranker"),
        (["people", "--json"], "/api/people"),
        (["person", priya, "--json"], "/api/people/" + priya),
        (["overlaps", "--json"], "/api/overlaps"),
        (["sources", "--json"], "/api/sources"),
    ]
    for args, url in pairs:
        resp = http.get(url)
        assert resp.status_code == 200, (url, resp.text)
        assert resp.json() == cli_json(demo_dir, capsys, *args), url
    assert {e["team"] for e in http.get("/api/who?q=" + quote(QUESTION)).json()[:3]} >= {"Home Feed", "Marketplace"}


def test_api_errors_are_json_with_the_cause(http):
    missing = http.get("/api/projects/no-such-project")
    assert missing.status_code == 404 and "no project named 'no-such-project'" in missing.json()["detail"]
    assert http.get("/api/people/nobody@nowhere.example").status_code == 404
    ambiguous = http.get("/api/people/Mei Lin")  # two people of that name, in two teams
    assert ambiguous.status_code == 409 and "matches 2 people" in ambiguous.json()["detail"]
    for url in ("/api/search", "/api/search?q=", "/api/who?q=%20", "/api/search?q=x&limit=0", "/api/search?q=x&limit=abc",
                "/api/overlaps?limit=100000"):
        resp = http.get(url)
        assert resp.status_code == 422 and resp.headers["content-type"] == "application/json", url
        assert resp.json()["detail"]


def test_openapi_schema_and_its_page(http):
    schema = http.get("/api/openapi.json").json()
    assert set(schema["paths"]) == {"/api/search", "/api/who", "/api/people", "/api/people/{person_id}", "/api/projects",
                                    "/api/projects/{project_id}", "/api/overlaps", "/api/sources", "/api/insights"}
    assert {"SearchHit", "ExpertOut", "ProjectOut", "ProfileOut", "OverlapOut", "SourceOut"} <= set(schema["components"]["schemas"])
    docs = page(http, "/api/docs")
    assert [h.get_text() for h in docs.select("section.endpoint h2")] == [f"GET {p}" for p in schema["paths"]]
    assert docs.find(string=re.compile("max|≤ 100"))


# -- the search page --------------------------------------------------------------------------------------
def hits(soup: BeautifulSoup) -> list[dict]:
    return [{"title": li.h3.get_text(" ", strip=True), "url": li.h3.a["href"],
             "team": li.select_one(".meta a").get_text(strip=True)} for li in soup.select("ol.hits li.hit")]


def people_beside(soup: BeautifulSoup) -> list[dict]:
    out = []
    for li in soup.select(".people-to-ask li.expert"):
        link = li.select_one(".who a")
        out.append({"name": link.get_text(strip=True), "href": link["href"], "text": li.get_text(" ", strip=True),
                    "evidence": [a["href"] for a in li.select(".evidence a")]})
    return out


def test_search_page_shows_documents_people_facets_and_highlights(http, demo_guild):
    soup = page(http, "/search?q=" + quote(QUESTION))
    found = hits(soup)
    docs = {r["url"]: r for r in demo_guild.store.query("SELECT url, team, title, text FROM documents")}
    top = [docs[h["url"]] for h in found[:5]]
    assert all("recommend" in (d["text"] + d["title"]).casefold() for d in top[:3]), [d["title"] for d in top]
    assert {d["team"] for d in top} >= {"Home Feed", "Marketplace"}
    assert soup.select("ol.hits mark") and all(m.get_text().casefold().startswith("recommend") for m in soup.select("ol.hits mark"))

    authors = recommender_authors(demo_guild)
    people = people_beside(soup)
    people_ids = {p["href"].removeprefix("/people/") for p in people}
    teams = {demo_guild.person(pid).team for pid in people_ids & set(authors)}
    assert teams >= {"Home Feed", "Marketplace"}
    for p in people[:3]:
        assert re.search(r"score (\d\.\d\d|< 0\.01)", p["text"]) and p["evidence"]
        assert page(http, p["href"]).h1.get_text(strip=True) == p["name"]

    team_options = {o["value"]: o.get_text(strip=True) for o in soup.select("select#f-team option") if o["value"]}
    pool = demo_guild.search_page(QUESTION)
    for value, n in pool.facets["team"]:
        assert team_options[value] == f"{value} ({n})"
    assert soup.select_one("p.count").get_text(strip=True).startswith(f"{pool.total} documents")
    assert soup.select_one("#site-q")["value"] == QUESTION  # the query stays in the box (and in the URL)


def test_search_results_link_the_catalog_project_they_belong_to(http, demo_guild):
    projects = demo_guild.projects()
    member_of = {d["url"]: p for p in projects for d in demo_guild.project_documents(p.id, limit=10_000)}
    href_of = {p.id: f"/projects/{quote(p.id, safe=':@')}" for p in projects}
    soup = page(http, "/search?q=" + quote(QUESTION))
    results = soup.select("ol.hits li.hit")
    assert results and all(li.h3.a["href"] in member_of for li in results), "every demo result is in a project"
    for li in results:
        project = member_of[li.h3.a["href"]]
        links = [(a["href"], a.get_text(strip=True)) for a in li.select(".meta a[href^='/projects/']")]
        assert links == [(href_of[project.id], project.name)], li.h3.get_text(" ", strip=True)
    linked = {member_of[li.h3.a["href"]].id: member_of[li.h3.a["href"]].name for li in results}
    assert len(linked) >= 2  # the recommender documents come from several projects
    for project_id, name in linked.items():
        assert page(http, href_of[project_id]).h1.get_text(" ", strip=True).startswith(name)


def test_pagination_walks_the_whole_pool(http, demo_guild):
    total = demo_guild.search_page(QUESTION).total
    assert total > 10, "the demo org should give more than one page"
    seen, url = [], "/search?q=" + quote(QUESTION)
    while url:
        soup = page(http, url)
        seen += [h["url"] for h in hits(soup)]
        nxt = soup.select_one('nav.pages a[rel="next"]')
        url = nxt["href"] if nxt else None
        if url:
            assert parse_qs(urlsplit(url).query)["q"] == [QUESTION]
    assert len(seen) == total == len(set(seen))


def test_a_team_filter_changes_the_results_and_the_people(http):
    everything = hits(page(http, "/search?q=" + quote(QUESTION)))
    soup = page(http, "/search?q=" + quote(QUESTION) + "&team=Home+Feed")
    only = hits(soup)
    assert only and {h["team"] for h in only} == {"Home Feed"} and only != everything
    assert soup.select_one("select#f-team option[selected]")["value"] == "Home Feed"
    assert all("Home Feed" in p["text"] for p in people_beside(soup))
    clear = soup.select_one("a.clear")["href"]
    assert "team=" not in clear and "q=" in clear


def test_no_result_page_suggests_what_to_try(http):
    soup = page(http, "/search?q=recommender&kind=no-such-kind")
    box = soup.select_one(".no-results")
    assert "Nothing matched" in box.get_text() and "with these filters" in box.get_text()
    assert box.find("a", string="Search all teams, sources and dates")["href"] == "/search?q=recommender"
    assert box.select(".chips a") and box.find("a", href="/sources")
    assert http.get("/search?q=", follow_redirects=False).headers["location"] == "/"


def test_a_bad_since_is_explained_and_ignored(http):
    soup = page(http, "/search?q=drift&since=last+tuesday")
    assert "use a date like 2024-01-31 or 30d, 6m, 2y" in soup.select_one(".note").get_text()
    assert hits(soup)


# -- the catalog pages ----------------------------------------------------------------------------------------
def test_person_page(http, demo_guild):
    p = demo_guild.person("priya.raman@acme.example")
    soup = page(http, f"/people/{p.person_id}")
    assert soup.h1.get_text(strip=True) == "Priya Raman"
    projects = [a.get_text(strip=True) for a in soup.select("#projects-h + table a[href^='/projects/']")]
    assert projects == [x["name"] for x in p.projects] and "feed-ranker" in projects
    text = soup.get_text(" ", strip=True)
    assert "Home Feed" in text and "priya.r.dev@gmail.com" in text and "Europe/London" in text
    assert soup.find("a", string="Message on Slack")["href"].endswith("U01PRIYA")
    similar = [a["href"] for a in soup.select("ul.similar > li > a")]
    assert similar and all(demo_guild.person(h.removeprefix("/people/")).team != "Home Feed" for h in similar)
    for a in soup.select("main a[href^='/projects/']"):
        assert http.get(a["href"]).status_code == 200


def test_project_page_shows_owners_provenance_people_documents_overlaps(http, demo_guild):
    p = demo_guild.project("feed-ranker")
    soup = page(http, "/projects/feed-ranker")
    about = soup.select_one("section.about").get_text(" ", strip=True)
    for owner in p.owners:
        assert owner in about
    assert f"from {p.provenance['owners']}" in about
    assert [a.get_text(strip=True) for a in soup.select("#people-h + table a[href^='/people/']")] == \
        [c["name"] for c in p.contributors]
    assert len(soup.select("ul.documents li")) == p.documents
    other = {a.get_text(strip=True) for a in soup.select("article.overlap h3 a")} - {"feed-ranker"}
    assert "similar-items" in other


def test_list_pages_filter(http, demo_guild):
    risk = page(http, "/people?team=Risk")
    names = [a.get_text(strip=True) for a in risk.select("table.list a[href^='/people/']")]
    assert sorted(names) == sorted(r["name"] for r in demo_guild.people() if r["team"] == "Risk")
    assert [a.get_text(strip=True) for a in page(http, "/people?q=omar").select("table.list a[href^='/people/']")] == ["Omar Haddad"]
    projects = page(http, "/projects?team=Marketplace&sort=name")
    assert [a.get_text(strip=True) for a in projects.select("li.card h2 a")] == \
        sorted(p.name for p in demo_guild.projects(team="Marketplace"))
    assert page(http, "/projects?status=no-such-status").find(string=re.compile("No projects match"))
    teams = page(http, "/teams")
    assert [a.get_text(strip=True) for a in teams.select("li.card h2 a")] == [t.name for t in demo_guild.config.teams]
    team = page(http, "/teams/Home%20Feed")
    assert {a.get_text(strip=True) for a in team.select("#projects-h + ul a")} == {p.name for p in demo_guild.projects(team="Home Feed")}
    assert team.select("article.overlap")
    overlaps = page(http, "/overlaps")
    assert len(overlaps.select("article.overlap")) == len(demo_guild.overlaps(limit=20))
    sources = page(http, "/sources")
    assert [tr.td.get_text(strip=True) for tr in sources.select("tbody tr")] == [s.name for s in demo_guild.config.sources]


def test_unknown_ids_get_a_404_page_that_says_where_to_look(http):
    for url, words in (("/people/nobody", "the People page lists everyone"), ("/projects/nope", "the Projects page"),
                       ("/teams/Nope", "the Teams page"), ("/no/such/page", "Not Found")):
        resp = http.get(url)
        assert resp.status_code == 404 and words in resp.text, url
        assert "<title>" in resp.text


def test_an_ambiguous_name_lists_the_people_it_could_mean(http):
    soup = page(http, "/people/Mei%20Lin")
    assert "names 2 people" in soup.get_text() and len(soup.select("table.list a[href^='/people/']")) == 2


# -- hostile input ------------------------------------------------------------------------------------------
HOSTILE = ["x" * 5000, "recommender" + " word" * 1000, "%00", "a%00b", "<script>alert(1)</script>",
           '"><img src=x onerror=alert(1)>', 'NEAR("a" "b") OR title:x* AND -y ^z', '" OR 1=1 --', "%ff%fe%fd",
           "%C0%AF", "%ED%A0%80", "%", "%%", "%zz", "\u202e\u0000", "🦄" * 300, "'", "*", "(", ")"]
PAGES = ["/search?q={}", "/search?q=drift&team={}", "/search?q=drift&source={}&kind={}", "/search?q=drift&since={}",
         "/search?q=drift&page={}", "/people?q={}&team={}", "/projects?team={}&topic={}&status={}&sort={}",
         "/api/search?q={}", "/api/who?q={}", "/api/search?q=x&team={}", "/api/projects?team={}&topic={}",
         "/people/{}", "/projects/{}", "/teams/{}", "/api/people/{}", "/api/projects/{}"]


def encode(value: str) -> str:
    """Percent-encode a value unless it is already a (maybe broken) percent-encoding to send as is."""
    return value if value.startswith("%") or value.startswith("a%") else quote(value, safe="")


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:20]))
def test_hostile_query_strings_never_give_a_500_and_come_back_escaped(http, value):
    for template in PAGES:
        url = template.replace("{}", encode(value))
        resp = http.get(url)
        assert resp.status_code in (200, 303, 404, 409, 422), (url[:120], resp.status_code, resp.text[:300])
        if resp.headers.get("content-type", "").startswith("application/json"):
            continue  # JSON is data: a client that puts it in a page escapes it (and nosniff keeps browsers from guessing)
        assert "<script>alert" not in resp.text and "<img src=x" not in resp.text, url[:120]
        if resp.status_code == 200 and "<script>" in value and template.startswith("/search?q={}"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in resp.text


def test_a_very_long_query_is_cut_and_the_page_says_so(http):
    soup = page(http, "/search?q=" + "recommender%20" * 400)
    assert "cut to its first 500 characters" in soup.select_one(".note").get_text() and hits(soup)


# -- headers, scripts, static files -------------------------------------------------------------------------
def test_every_page_has_security_headers_and_no_inline_script_or_cdn(http, demo_guild):
    pid = demo_guild.person("omar.haddad@acme.example").person_id
    for url in ("/", "/search?q=drift", f"/people/{pid}", "/people", "/projects", "/projects/drift-watch", "/teams",
                "/teams/Risk", "/overlaps", "/sources", "/api/docs", "/people/nobody", "/api/search?q=drift"):
        resp = http.get(url)
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, url
        assert resp.headers["x-content-type-options"] == "nosniff"
        if not resp.headers["content-type"].startswith("text/html"):
            continue
        soup = BeautifulSoup(resp.text, "html.parser")
        assert all(s.get("src", "").startswith("/static/") for s in soup.find_all("script")), url
        assert all(link["href"].startswith("/static/") for link in soup.find_all("link")), url
        assert not soup.select("[style]") and not any(a.startswith("on") for t in soup.find_all(True) for a in t.attrs), url
        assert soup.select_one("a.skip-link")["href"] == "#main" and soup.select_one("main#main")
        assert soup.select_one("nav[aria-label=Main]") and soup.html["lang"] == "en"
        for control in soup.select("input:not([type=hidden]), select"):
            assert soup.select_one(f"label[for='{control['id']}']"), (url, control)
    htmx = http.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "javascript" in htmx.headers["content-type"] and "htmx" in htmx.text[:200]
    assert http.get("/static/style.css").headers["x-content-type-options"] == "nosniff"


def test_health_and_no_slack_endpoint_without_slack(http):
    assert http.get("/healthz").json()["slack"] is False
    assert http.post("/slack/events", content="x").status_code in (404, 405)


@pytest.mark.parametrize("raw", [b"%", b"&&&", b"q", b"=x", b"q=%E0%A4%A", b"q=a&q=%3Cscript%3E", b"q=x&page=-1&page=1e9",
                                 b"q=x&since=9999y", b"q=x&team=%00&source=%FF", b"q=" + b"%20" * 3000, b"q=%2B%2B%2B%26%3D"])
def test_raw_query_strings_of_any_shape_never_give_a_500(http, web_site, raw):
    for path in ("/search", "/people", "/projects", "/api/search", "/api/who", "/api/projects", "/api/overlaps"):
        resp = http.get(httpx.URL(web_site.url + path, query=raw))
        assert resp.status_code in (200, 303, 422), (path, raw[:40], resp.status_code, resp.text[:200])
        if resp.headers.get("content-type", "").startswith("text/html"):
            assert "<script>" not in resp.text.split("</head>")[1].replace('<script src="/static/htmx.min.js" defer></script>', "")


@pytest.fixture
def planned(demo_guild):
    """The syncs a test plans on the shared demo are forgotten after it: they would be news in other
    tests' digests."""
    yield
    for t in ("syncs", "sync_members", "sync_rsvps", "sync_checkins", "sync_optouts"):
        demo_guild.store.conn.execute(f"DELETE FROM {t}")


def test_syncs_page_lists_the_planned_syncs_with_their_people(http, demo_dir, demo_guild, capsys, planned):
    before = page(http, "/syncs")
    assert before.find("nav").find("a", href="/syncs") and before.find("nav").find("a", href="/digest")
    assert cli(["--config", str(demo_dir / "guild.toml"), "syncs", "propose", "--json"]) == 0
    proposals = json.loads(capsys.readouterr().out)
    assert proposals
    soup = page(http, "/syncs")
    rows = [r.get_text(" ", strip=True) for r in soup.select("main table tbody tr")]
    for p in proposals:  # every planned sync is listed with its topic and people
        row = next(r for r in rows if p["topic"] in r)
        assert all(m["name"] in row for m in p["members"])


def test_syncs_page_says_why_for_every_strong_overlap(http, demo_dir, demo_guild, capsys, planned):
    config = str(demo_dir / "guild.toml")
    assert cli(["--config", config, "syncs", "propose", "--json"]) == 0 and capsys.readouterr()  # the cycle is planned
    assert cli(["--config", config, "syncs", "propose", "--explain", "--json"]) == 0
    explained = json.loads(capsys.readouterr().out)
    strong = [o for o in explained["overlaps"] if o["strong"]]
    assert strong and all(o["reason"] for o in strong)
    stored = demo_guild.store.count("syncs")
    soup = page(http, "/syncs")
    assert demo_guild.store.count("syncs") == stored  # the page plans nothing
    rows = [r.get_text(" ", strip=True) for r in soup.select("main table.why tbody tr")]
    assert len(rows) == len(strong)
    for o, row in zip(strong, rows):  # the same overlaps, outcomes and reasons as the CLI's
        assert o["a"] in row and o["b"] in row and o["reason"] in row, (o, row)
        assert o["status"].replace("_", " ") in row


def test_a_tail_score_reads_as_small_not_as_zero():
    from guildbot.web.render import score

    assert [score(1.0), score(0.151), score(0.005), score(0.003), score(0.0)] == ["1.00", "0.15", "0.01", "< 0.01", "0.00"]
