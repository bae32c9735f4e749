"""Insights (guildbot/insights.py) on a real crawled org: its numbers equal the query log's (counted here
with SQL of our own), the team map follows who asked whom, `/insights` renders in Chromium with zero axe
violations and charts readable without colour, and `guildbot insights --json` prints the same data."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from axe_playwright_python.sync_playwright import Axe
from bs4 import BeautifulSoup

from guildbot.cli.main import main
from guildbot.insights import insights_for
from guildbot.web.app import create_app
from index.retrieval import querylog
from support.consent_org import clear_consent, snow_org  # noqa: F401 - a fixture
from support.guilds import shared_embedder  # noqa: F401 - a fixture
from support.slack import ServerThread

NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def logged(snow_org):  # noqa: F811
    """Questions on several surfaces over three weeks, some answered well and some not, and suggestions
    across teams (a Payroll person asking about avalanches is told of Slopes and Valleys people)."""
    clear_consent(snow_org)
    snow_org.store.conn.execute("DELETE FROM query_log")
    plan = [(0, "slack", "how do we forecast avalanche danger", 0.8, 3), (0, "web", "payroll dates", 0.7, 2),
            (0, "cli", "who runs the quantum ledger", 0.1, 0), (7, "slack", "who runs the quantum ledger", 0.2, 1),
            (7, "slack", "snow sensors depth", 0.9, 4), (14, "web", "avalanche bulletin time", 0.6, 2),
            (14, "web", "unicorn stables", 0.05, 0), (40, "slack", "long ago, outside the window", 0.9, 1)]
    for days, surface, question, strength, results in plan:
        querylog.record(snow_org.store, question, surface, "search", strength, results, asker=f"U{days}{surface}",
                        now=NOW - timedelta(days=days), retention_days=365)
    first = snow_org.experts("who knows avalanche forecasting on the slopes", surface="slack", asker="U0LEA")[0]
    assert first.team == "Slopes"  # Payroll asks about Slopes' work
    snow_org.experts("who knows snow sensors", surface="web", asker="lea@snow.example")   # and about Valleys'
    yield snow_org
    clear_consent(snow_org)
    snow_org.store.conn.execute("DELETE FROM query_log")


def week(dt: datetime) -> str:
    y, w, _ = dt.isocalendar()
    return f"{y}-W{w:02d}"


def test_numbers_equal_the_query_log(logged):
    data = insights_for(logged).build(weeks=4)
    first = datetime.fromisoformat(data["from"])
    rows = logged.store.query("SELECT at, surface, strength, results FROM query_log WHERE at >= ?", [data["from"]])
    expected, good = Counter(), Counter()
    for r in rows:
        w = week(datetime.fromisoformat(r["at"]))
        expected[(w, r["surface"])] += 1
        good[w] += int(r["results"] > 0 and r["strength"] >= logged.config.query_log.weak_below)
    assert first.weekday() == 0 and len(data["weeks"]) == 4 and data["weeks"][-1] == week(NOW)
    for w in data["questions"]:
        assert w["by_surface"] == {s: expected[(w["week"], s)] for s in data["surfaces"]}
        assert w["answered_well"] == good[w["week"]]
    assert data["total_questions"] == len(rows) == sum(expected.values()) > 0
    assert set(data["surfaces"]) == {s for _, s in expected}
    top = data["unanswered"][0]
    assert top["question"] == "who runs the quantum ledger" and top["asked"] == 2  # asked twice, never answered well
    assert "long ago, outside the window" not in json.dumps(data)


def test_the_team_map_shows_who_asked_whom_and_who_never_did(logged):
    data = insights_for(logged).build(weeks=4)
    cells = data["teams"]["cells"]
    assert cells["Payroll"]["Slopes"]["asked_about"] == 1 and cells["Payroll"]["Valleys"]["asked_about"] == 1
    assert cells["Slopes"]["Payroll"]["asked_about"] == 0
    assert data["teams"]["never"] == [["Slopes", "Valleys"]]


def test_cli_insights_json_is_the_same_data(logged, capsys):
    assert main(["--config", str(logged.config.path), "insights", "--weeks", "4", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    built = insights_for(logged).build(weeks=4)
    assert printed["questions"] == built["questions"] and printed["teams"] == built["teams"]
    assert main(["--config", str(logged.config.path), "insights"]) == 0
    out = capsys.readouterr().out
    assert "who runs the quantum ledger" in out and "Slopes and Valleys" in out
    assert main(["--config", str(logged.config.path), "insights", "--weeks", "0"]) == 2
    assert "use 1 to 104 weeks" in capsys.readouterr().err


def test_insights_page_passes_axe_and_its_charts_need_no_colour(logged, browser):  # noqa: F811
    server = ServerThread(create_app(logged)).start()
    tab = browser.page(viewport={"width": 1280, "height": 900})
    try:
        for url in ("/insights", "/insights?weeks=4", "/insights?weeks=lots"):
            resp = tab.goto(server.url + url)
            assert resp.status == 200
            violations = Axe().run(tab).response["violations"]
            assert not violations, [(v["id"], [n["html"][:200] for n in v["nodes"]]) for v in violations]
        html = tab.content()
        assert "is not a number of weeks" in tab.inner_text("main")
        soup = BeautifulSoup(html, "html.parser")
        charts = soup.select("svg.chart")
        assert len(charts) == 3
        for svg in charts:
            assert svg["role"] == "img" and svg.find("title") and svg.find("desc")
            fills = {r.get("fill") for r in svg.select("rect[fill^='url(']")}
            assert fills and all(f.startswith("url(#") for f in fills)  # patterns, not colours, tell series apart
            assert svg.find("text")  # the numbers are written on the chart
        data = tab.goto(server.url + "/api/insights?weeks=8")
        logged_since = logged.store.query("SELECT count(*) AS n FROM query_log WHERE at >= ?",
                                          [insights_for(logged).build(weeks=8)["from"]])[0]["n"]
        assert data.status == 200 and json.loads(tab.inner_text("body"))["total_questions"] == logged_since > 0
    finally:
        tab.context.close()
        server.stop()
