"""Shared fixtures: scripted git repositories, guild.toml writing, the crawled demo org."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from support.browser import browser  # noqa: F401  (one headless Chromium for the session: Playwright's sync API starts once per thread)
from support.postgres import new_pg_database, pg_demo, pg_server, pg_url  # noqa: F401  (a real Postgres for the Postgres backend tests)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# one ONNX export of the model for every guild the tests make (exporting takes seconds, once)
os.environ.setdefault("GUILDBOT_MODEL_CACHE", str(Path(tempfile.gettempdir()) / "guildbot-test-models"))
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


class ScriptedRepo:
    """A real git repository whose commits are scripted: author, email, date, co-authors."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.clock = 1_600_000_000

    def git(self, *args: str, env: dict | None = None) -> str:
        out = subprocess.run(["git", "-C", str(self.path), *args], check=True, capture_output=True, text=True,
                             env={**os.environ, **(env or {})})
        return out.stdout

    def commit(self, author: str, email: str, files: dict[str, str | None], message: str = "change",
               co_authors: list[tuple[str, str]] = (), when: int | None = None) -> str:
        for rel, content in files.items():
            target = self.path / rel
            if content is None:
                self.git("rm", "-q", rel)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            self.git("add", rel)
        self.clock = when or self.clock + 86_400
        trailers = "".join(f"\nCo-authored-by: {n} <{e}>" for n, e in co_authors)
        date = f"@{self.clock} +0000"
        env = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
               "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": date}
        self.git("-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m",
                 message + ("\n" + trailers if trailers else ""), env=env)
        return self.git("rev-parse", "HEAD").strip()


def drift_repo(make, name: str) -> ScriptedRepo:
    """A small real repository (README and one doc by Ada) made with the make_repo fixture."""
    repo = make(name)
    repo.commit("Ada Lovelace", "ada@northwind.test",
                {"README.md": f"# {name.title()}\n\nDrift monitoring with the population stability index.\n",
                 "docs/alerts.md": "# Alerts\n\nPaging thresholds for the churn model.\n"})
    return repo


@pytest.fixture
def make_repo(tmp_path):
    def make(name: str = "repo") -> ScriptedRepo:
        return ScriptedRepo(tmp_path / "repos" / name)
    return make


def write_config(folder: Path, sources: list[dict], teams: list[str] | None = None, directory: str | None = None,
                 extra: str = "") -> Path:
    """Write a guild.toml into `folder` and return its path."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    teams = teams or sorted({s.get("team", "Team") for s in sources}) or ["Team"]
    lines = ['[guild]', 'name = "Test"', f'data_dir = {value(str(folder / "data"))}', ""]
    if directory:
        lines += ["[people]", f"directory = {value(directory)}", ""]
    for t in teams:
        lines += ["[[teams]]", f"name = {value(t)}", ""]
    for s in sources:
        lines.append("[[sources]]")
        lines += [f"{k} = {value(v)}" for k, v in s.items()]
        lines.append("")
    path = folder / "guild.toml"
    path.write_text("\n".join(lines) + extra)
    return path


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A private copy of the demo org with its repositories built."""
    root = tmp_path_factory.mktemp("demo")
    for item in ("guild.toml", "directory.csv", "wiki", "make_demo.py", "ask.py"):
        src = EXAMPLES / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / item)
    subprocess.run([sys.executable, str(root / "make_demo.py"), "--out", str(root / "build" / "repos")],
                   check=True, capture_output=True)
    # the suite asks the same questions many times a day on every surface: no weekly budget here, so the CLI,
    # Slack and the web give one order whatever ran before (the budget has its own org: tests/guildbot/test_consent.py)
    toml = root / "guild.toml"
    text = toml.read_text()
    assert "weekly_budget = 10" in text
    toml.write_text(text.replace("weekly_budget = 10", "weekly_budget = 0", 1))
    return root


@pytest.fixture(scope="session")
def demo_guild(demo_dir):
    """The demo org, crawled once with the real embedding model."""
    from guildbot import Guild

    guild = Guild.from_config(demo_dir / "guild.toml")
    report = guild.crawl()
    assert not report.failed, [s.error for s in report.failed]
    yield guild
    guild.close()
