"""A small org for consent and load (issue 26), crawled with the real model.

Two people in two teams wrote nearly the same guide to avalanche forecasting (so their scores for it are
nearly equal); a third wrote about snowpack sensors too, less of it; a fourth only about payroll.
Everyone is in the directory with a Slack id and a time zone.
"""
from __future__ import annotations

import pytest

from support.guilds import open_guild, shared_embedder  # noqa: F401

DIRECTORY = """name,email,team,slack_id,tz
Ines Alm,ines@snow.example,Slopes,U0INES,Europe/Oslo
Jon Berg,jon@snow.example,Valleys,U0JON,Europe/Oslo
Kai Dahl,kai@snow.example,Valleys,U0KAI,Europe/Oslo
Lea Fors,lea@snow.example,Payroll,U0LEA,Europe/Oslo
"""
GUIDES = {  # each of the two writes all three, about their own region: their votes interleave
    "docs/forecasting.md": "# Avalanche forecasting\n\nHow we forecast avalanche danger in {where}: snowpack layers, "
                           "wind loading and the danger scale from one to five.\n",
    "docs/bulletin.md": "# The avalanche bulletin\n\nThe morning avalanche bulletin for {where}: danger level, "
                        "problem types and the slopes to avoid.\n",
    "docs/observations.md": "# Avalanche observations\n\nField observations of avalanches in {where}: "
                            "size, trigger and the weak layer that failed.\n",
}


def build_org(root, embedder, people: str = ""):
    """The org crawled in `root`; `people` are more lines of [people] (weekly_budget = 5)."""
    from conftest import ScriptedRepo, write_config

    slopes = ScriptedRepo(root / "repos" / "slopes")
    slopes.commit("Ines Alm", "ines@snow.example", {k: v.format(where="the slopes") for k, v in GUIDES.items()})
    valleys = ScriptedRepo(root / "repos" / "valleys")
    valleys.commit("Jon Berg", "jon@snow.example", {k: v.format(where="the valleys") for k, v in GUIDES.items()})
    valleys.commit("Kai Dahl", "kai@snow.example", {"docs/sensors.md": "# Snow sensors\n\nThe snowpack sensors "
                                                    "report depth and temperature every hour.\n"})
    payroll = ScriptedRepo(root / "repos" / "payroll")
    payroll.commit("Lea Fors", "lea@snow.example", {"README.md": "# Payroll\n\nSalaries are paid on the 25th; "
                                                    "expenses are reimbursed with the next salary.\n"})
    (root / "directory.csv").write_text(DIRECTORY)
    config = write_config(root, [
        {"kind": "git", "name": "slopes", "team": "Slopes", "url": str(slopes.path)},
        {"kind": "git", "name": "valleys", "team": "Valleys", "url": str(valleys.path)},
        {"kind": "git", "name": "payroll", "team": "Payroll", "url": str(payroll.path)},
    ], teams=["Slopes", "Valleys", "Payroll"], directory="directory.csv")
    config.write_text(config.read_text().replace("[people]\n", f"[people]\n{people}\n", 1))
    guild = open_guild(config, embedder)
    report = guild.crawl()
    assert not report.failed, [s.error for s in report.failed]
    return guild


@pytest.fixture(scope="module")
def snow_org(tmp_path_factory, shared_embedder):  # noqa: F811
    guild = build_org(tmp_path_factory.mktemp("snow"), shared_embedder, people="weekly_budget = 5\ntie_band = 0.4")
    yield guild
    guild.close()


def clear_consent(guild) -> None:
    """Forget every consent, suggestion and sync opt-out (between tests on a shared org)."""
    for table in ("consent", "suggestions", "sync_optouts", "asks", "slack_threads"):
        guild.store.conn.execute(f"DELETE FROM {table}")
