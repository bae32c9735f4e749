"""A real org (git repositories crawled with the real model) whose whole history is five years old
still gets a cross-team sync: directory people are candidates however old their work, one of them
on a side is enough, and `syncs propose --explain` accounts for the overlap."""
from __future__ import annotations

import json
import time

import pytest

from conftest import write_config
from guildbot.cli import main as cli
from guildbot.syncs.service import syncs_for

from support.guilds import open_guild, shared_embedder  # noqa: F401 - shared_embedder is a fixture

FIVE_YEARS = 5 * 365 * 86_400

FORECAST = {
    "README.md": "# Seasonal forecasting\n\nForecast daily demand with seasonal decomposition, holiday effects and "
                 "changepoint detection. Backtesting with rolling origin cross-validation.\n",
    "docs/seasonality.md": "# Seasonality\n\nYearly and weekly seasonality are Fourier series; holiday effects are "
                           "added as regressors. Changepoints let the trend bend.\n",
    "docs/backtesting.md": "# Backtesting\n\nRolling origin cross-validation of the forecast horizon, with MAPE and "
                           "coverage of the prediction intervals.\n",
}
SERIES = {
    "README.md": "# Series toolkit\n\nTime series forecasting for sensor readings: seasonal decomposition, "
                 "holiday effects on load, changepoint detection and rolling origin backtesting.\n",
    "docs/decomposition.md": "# Decomposition\n\nSeasonal decomposition splits a series into trend, weekly and yearly "
                             "seasonality and a remainder; holidays are handled as regressors.\n",
    "docs/evaluation.md": "# Evaluation\n\nBacktesting with rolling origin cross-validation; MAPE and prediction "
                          "interval coverage over the forecast horizon.\n",
}
VISION = {
    "README.md": "# Image augmentations\n\nRandom crops, flips, colour jitter and cutout for training convolutional "
                 "networks on product photos.\n",
    "docs/pipelines.md": "# Pipelines\n\nCompose augmentations into a pipeline applied to images and their bounding "
                         "boxes and segmentation masks.\n",
}


@pytest.fixture
def old_org(tmp_path, make_repo, shared_embedder):
    start = int(time.time()) - FIVE_YEARS - 90 * 86_400
    clock = iter(range(start, start + FIVE_YEARS, 3_600))
    forecast, series, vision = make_repo("forecast"), make_repo("series"), make_repo("vision")
    for name, content in FORECAST.items():
        forecast.commit("Ana Demir", "ana@old.example", {name: content}, when=next(clock))
        forecast.commit("Bo Lind", "bo@old.example", {name: content + "\nEdited.\n"}, when=next(clock))
    # an outside contributor did most of the series toolkit; one directory member worked on it once
    for i in range(12):
        series.commit("Outside Helper", "helper@elsewhere.example",
                      {name: content + "\n" * i for name, content in SERIES.items()}, when=next(clock))
    series.commit("Cy Park", "cy@old.example", {"docs/evaluation.md": SERIES["docs/evaluation.md"] + "\nMore.\n"},
                  when=next(clock))
    for name, content in VISION.items():
        vision.commit("Di Vu", "di@old.example", {name: content}, when=next(clock))
    directory = tmp_path / "directory.csv"
    directory.write_text("name,email,team,slack_id,tz\n"
                         "Ana Demir,ana@old.example,Demand,UANA,Europe/Berlin\n"
                         "Bo Lind,bo@old.example,Demand,UBO,Europe/Berlin\n"
                         "Cy Park,cy@old.example,Sensors,UCY,Europe/Madrid\n"
                         "Di Vu,di@old.example,Vision,UDI,Europe/Berlin\n")
    config = write_config(tmp_path, [
        {"kind": "git", "name": "forecast", "team": "Demand", "url": str(forecast.path)},
        {"kind": "git", "name": "series", "team": "Sensors", "url": str(series.path)},
        {"kind": "git", "name": "vision", "team": "Vision", "url": str(vision.path)},
    ], teams=["Demand", "Sensors", "Vision"], directory=str(directory))
    guild = open_guild(config, shared_embedder)
    report = guild.crawl()
    assert not report.failed, [s.error for s in report.failed]
    yield guild, config
    guild.close()


def test_an_org_whose_history_is_five_years_old_still_gets_a_sync(old_org, capsys):
    guild, config = old_org
    overlaps = guild.overlaps(limit=5)
    assert overlaps and {overlaps[0].a.team, overlaps[0].b.team} == {"Demand", "Sensors"}, overlaps
    assert cli.main(["--config", str(config), "syncs", "propose", "--explain", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (proposal,) = [p for p in out["proposals"] if set(p["teams"]) == {"Demand", "Sensors"}]
    members = {m["name"] for m in proposal["members"]}
    assert members == {"Ana Demir", "Bo Lind", "Cy Park"}  # the one Sensors member is enough; the outsider is not staff
    strong = [o for o in out["overlaps"] if o["strong"]]
    assert strong and all(o["status"] and o["reason"] for o in strong)
    assert strong[0]["status"] == "proposed" and strong[0]["topic"] == proposal["topic"]
    # planned once: the stored cycle is what propose and explain show next time
    assert cli.main(["--config", str(config), "syncs", "propose", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == out["proposals"]
    assert cli.main(["--config", str(config), "syncs", "propose", "--explain"]) == 0
    text = capsys.readouterr().out
    assert proposal["id"] in text and "Why (" in text and "planned for this cycle as " + proposal["id"] in text


WITHOUT_SENSORS = ("name,email,team,slack_id,tz\n"  # Cy has left: Sensors has nobody in the directory
                   "Ana Demir,ana@old.example,Demand,UANA,Europe/Berlin\n"
                   "Bo Lind,bo@old.example,Demand,UBO,Europe/Berlin\n"
                   "Eva Holm,eva@old.example,Demand,UEVA,Europe/Berlin\n")


def test_a_side_with_nobody_in_the_directory_is_named_not_dropped(old_org, tmp_path):
    guild, config = old_org
    # Cy leaves: Sensors has nobody in the directory; its channel is named instead
    (tmp_path / "directory.csv").write_text(WITHOUT_SENSORS)
    text = config.read_text().replace('name = "Sensors"', 'name = "Sensors"\nslack_channel = "#sensors"')
    config.write_text(text)
    fresh = open_guild(config, guild.embedder)
    try:
        fresh.crawl()
        rows, why = syncs_for(fresh).explain()
    finally:
        fresh.close()
    (proposal,) = [p for p in rows if "Sensors" in p["teams"]]
    assert {m["team"] for m in proposal["members"]} == {"Demand"}
    assert proposal["contacts"] == [{"team": "Sensors", "contact": "#sensors"}]
    assert next(o for o in why["overlaps"] if o["strong"])["status"] == "proposed"


def test_without_a_channel_the_side_is_named_by_its_projects_owners(old_org, tmp_path):
    guild, config = old_org
    (tmp_path / "directory.csv").write_text(WITHOUT_SENSORS)
    fresh = open_guild(config, guild.embedder)
    try:
        fresh.crawl()
        rows, _ = syncs_for(fresh).explain()
    finally:
        fresh.close()
    (proposal,) = [p for p in rows if "Sensors" in p["teams"]]
    (contact,) = proposal["contacts"]
    assert contact["team"] == "Sensors" and "series" in contact["contact"] and "Outside Helper" in contact["contact"]
