"""One dead source and one broken source never stop the others: the real CLI, end to end.

guild.toml holds a GitHub source at a port nothing listens on, a healthy local git repository,
and a GitLab source whose (loopback) API answers HTTP 500. `guildbot crawl` must index the
healthy one, name both failures with their cause, and exit 1 only under --strict.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import drift_repo, write_config
from support.fake_forge import FakeForge, dead_port

GUILDBOT = str(Path(sys.executable).with_name("guildbot"))


@pytest.fixture
def broken_org(tmp_path, make_repo):
    healthy = drift_repo(make_repo, "healthy")
    fake = FakeForge("gitlab", "northwind")
    fake.mode = "500"
    port = dead_port()
    config = write_config(tmp_path, [
        {"kind": "github", "name": "gh-dead", "team": "ML", "org": "northwind", "api_url": f"http://127.0.0.1:{port}"},
        {"kind": "git", "name": "healthy", "team": "ML", "url": str(healthy.path)},
        {"kind": "gitlab", "name": "gl-broken", "team": "ML", "group": "northwind", "api_url": fake.api_url},
    ], teams=["ML"])
    env = {**os.environ, "GITHUB_TOKEN": "any-token", "GITLAB_TOKEN": fake.token, "HF_HUB_OFFLINE": "1"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([GUILDBOT, "--config", str(config), *args], env=env, capture_output=True,
                              text=True, timeout=600)

    yield run, port, fake
    fake.stop()


def rows(stdout: str) -> dict[str, list[str]]:
    """The crawl report table: source name -> its columns."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("source "))
    table = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        cols = line.split()
        table[cols[0]] = cols[1:]
    return table


def test_failures_are_named_and_the_healthy_source_is_indexed(broken_org):
    run, port, fake = broken_org
    crawl = run("crawl")
    assert crawl.returncode == 0, crawl.stderr
    table = rows(crawl.stdout)
    assert table["healthy"][0] == "3" and int(table["healthy"][4]) >= 2 and table["healthy"][-1] == "ok"  # added (two files, one commit), chunks
    assert table["gh-dead"][-1] == "FAILED" and table["gl-broken"][-1] == "FAILED"
    errors = [line for line in crawl.stderr.splitlines() if line.startswith("error:")]
    dead = next(line for line in errors if "'gh-dead'" in line)
    assert f"127.0.0.1:{port}" in dead and "connection refused" in dead
    broken = next(line for line in errors if "'gl-broken'" in line)
    assert "HTTP 500" in broken and fake.api_url in broken
    assert "2 of 3 sources failed (gh-dead, gl-broken)" in crawl.stderr
    assert any(r["status"] == 500 for r in fake.log)  # the 500 came from the fake, not from a refused port

    sources = run("sources", "--json")
    by_name = {s["name"]: s for s in json.loads(sources.stdout)}
    assert "connection refused" in by_name["gh-dead"]["last_error"]
    assert "HTTP 500" in by_name["gl-broken"]["last_error"]
    assert by_name["healthy"]["last_error"] is None and by_name["healthy"]["documents"] == 3
    plain = run("sources").stdout
    assert "ERROR: source 'gh-dead'" in plain and "ERROR: source 'gl-broken'" in plain


def test_strict_exits_1_and_still_crawls_the_rest(broken_org):
    run, port, fake = broken_org
    crawl = run("crawl", "--strict", "--json")
    assert crawl.returncode == 1, crawl.stderr
    report = {s["name"]: s for s in json.loads(crawl.stdout)["sources"]}
    assert report["healthy"]["error"] == "" and report["healthy"]["added"] == 3
    assert "connection refused" in report["gh-dead"]["error"] and "HTTP 500" in report["gl-broken"]["error"]
    assert "exit status 1 (--strict)" in crawl.stderr

    fake.mode = "ok"  # the GitLab server recovers (an empty group); the dead port stays dead
    again = run("crawl", "--strict")
    assert again.returncode == 1 and "1 of 3 sources failed (gh-dead)" in again.stderr
    assert rows(again.stdout)["gl-broken"][-1] == "ok"
