"""The bus factor (Guild.at_risk) on real git repositories: a project where one person made most of the
last year's commits and has left (not in the directory) or been quiet for 180 days is at risk, with the next
most knowledgeable people; it shows on the project's web page and in `guildbot projects`."""
from __future__ import annotations

import json

import pytest
from axe_playwright_python.sync_playwright import Axe

from guildbot.cli.main import main
from guildbot.web.app import create_app
from support.guilds import open_guild, shared_embedder  # noqa: F401 - a fixture
from support.slack import ServerThread

DAY = 86_400
T = 1_700_000_000  # the newest commit in the org: the index's "today"
DIRECTORY = """name,email,team,slack_id,tz
Ines Alm,ines@snow.example,Slopes,U0INES,Europe/Oslo
Jon Berg,jon@snow.example,Valleys,U0JON,Europe/Oslo
Kai Dahl,kai@snow.example,Valleys,U0KAI,Europe/Oslo
"""


@pytest.fixture(scope="module")
def org(tmp_path_factory, shared_embedder):  # noqa: F811
    from conftest import ScriptedRepo, write_config

    root = tmp_path_factory.mktemp("bus")
    glacier = ScriptedRepo(root / "repos" / "glacier")  # Olaf, who left, wrote most of it this year
    for n in range(4):
        glacier.commit("Olaf Old", "olaf@snow.example", {f"melt/model{n}.py": f"# glacier melt model part {n}\n"},
                       when=T - (100 - n) * DAY)
    glacier.commit("Ines Alm", "ines@snow.example", {"README.md": "# Glacier\n\nMelt models for glaciers.\n"}, when=T - 90 * DAY)
    lift = ScriptedRepo(root / "repos" / "lift")  # Kai wrote most of it, and nothing for 300 days
    for n in range(4):
        lift.commit("Kai Dahl", "kai@snow.example", {f"lift/queue{n}.py": f"# ski lift queue part {n}\n"},
                    when=T - (300 - n) * DAY)
    lift.commit("Jon Berg", "jon@snow.example", {"README.md": "# Lift\n\nQueues at the ski lifts.\n"}, when=T - 295 * DAY)
    active = ScriptedRepo(root / "repos" / "active")  # Jon wrote most of it and is still at it
    for n in range(4):
        active.commit("Jon Berg", "jon@snow.example", {f"snow/depth{n}.py": f"# snow depth part {n}\n"},
                      when=T - (10 - n) * DAY)
    active.commit("Ines Alm", "ines@snow.example", {"README.md": "# Active\n\nSnow depth.\n"}, when=T)
    (root / "directory.csv").write_text(DIRECTORY)
    config = write_config(root, [{"kind": "git", "name": n, "team": t, "url": str(root / "repos" / n)}
                                 for n, t in (("glacier", "Slopes"), ("lift", "Valleys"), ("active", "Valleys"))],
                          teams=["Slopes", "Valleys"], directory="directory.csv")
    guild = open_guild(config, shared_embedder)
    assert not guild.crawl().failed
    yield guild
    guild.store.conn.execute("DELETE FROM consent")
    guild.close()


def test_projects_at_risk_name_who_and_why_with_the_next_people(org):
    risks = {r["project"]: r for r in org.at_risk()}
    assert set(risks) == {"glacier", "lift"}
    glacier, lift = risks["glacier"], risks["lift"]
    assert glacier["person"]["name"] == "Olaf Old" and glacier["reason"].startswith("has left")
    assert glacier["share"] > 0.5 and [p["name"] for p in glacier["next"]] == ["Ines Alm"]
    assert lift["person"]["name"] == "Kai Dahl" and lift["reason"].startswith("has been inactive since")
    assert [p["name"] for p in lift["next"]] == ["Jon Berg"]
    assert [r["project"] for r in org.at_risk(team="Slopes")] == ["glacier"]


def test_the_next_people_never_include_someone_who_opted_out(org):
    org.set_consent("p:ines@snow.example", opted_out=True)
    try:
        assert next(r for r in org.at_risk() if r["project"] == "glacier")["next"] == []
    finally:
        org.set_consent("p:ines@snow.example", opted_out=False)


def test_at_risk_on_the_project_page_and_in_the_cli(org, capsys, browser):
    server = ServerThread(create_app(org)).start()
    try:
        tab = browser.page(viewport={"width": 1280, "height": 900})
        for url in ("/projects/glacier", "/projects"):
            assert tab.goto(server.url + url).status == 200
            violations = Axe().run(tab).response["violations"]
            assert not violations, [(v["id"], [n["html"][:200] for n in v["nodes"]]) for v in violations]
        tab.context.close()
        import httpx
        with httpx.Client(base_url=server.url, timeout=60) as http:
            page = http.get("/projects/glacier").text
            assert "At risk" in page and "Olaf Old" in page and "Ines Alm" in page
            assert "At risk" not in http.get("/projects/active").text
            listing = http.get("/projects").text
            assert listing.count("At risk") == 2
    finally:
        server.stop()
    assert main(["--config", str(org.config.path), "projects"]) == 0
    out = capsys.readouterr().out
    assert "AT RISK: Olaf Old made" in out and "AT RISK: Kai Dahl made" in out
    assert main(["--config", str(org.config.path), "projects", "--json"]) == 0
    shown = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert shown["glacier"]["at_risk"]["person"]["name"] == "Olaf Old" and shown["active"]["at_risk"] is None


def test_at_risk_in_the_slack_projects_answer(org):
    from guildbot import blockkit as kit
    from guildbot.slack.commands import Ask, answer
    from guildbot.slack.users import SlackIds

    text = kit.to_text(answer("projects", Ask(org, "", org.viewer_for(), SlackIds(None))).blocks)
    share = next(r["share"] for r in org.at_risk() if r["project"] == "glacier")
    assert f"At risk: Olaf Old made {share:.0%} of the last year's commits and has left" in text
    assert "next most knowledgeable: Ines Alm" in text and text.count("At risk") == 2


def test_a_teams_digest_names_its_own_projects_at_risk_and_the_guilds_does_not(org):
    from guildbot.digest.service import digest_for, sections

    service = digest_for(org)
    slopes = service.build(team="Slopes")
    assert [r["project"] for r in slopes.at_risk] == ["glacier"]  # lift is Valleys' risk, not theirs
    section = next(s for s in sections(slopes) if s.key == "at_risk")
    line = json.dumps(section.lines[0])
    assert "glacier" in line and "Olaf Old" in line and "has left" in line and "Ines Alm" in line
    assert [r["project"] for r in service.build(team="Valleys").at_risk] == ["lift"]
    assert service.build().at_risk == []  # the guild-wide digest leaves it to the teams
