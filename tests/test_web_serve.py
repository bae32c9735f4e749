"""Acceptance: `guildbot --config examples/guild.toml serve --port P` as its own process with no Slack
variables serves the web app alone, says so in one line, and answers the search page and the API."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
from bs4 import BeautifulSoup

from slack_support import recommender_authors

GUILDBOT = [sys.executable, "-m", "guildbot"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_without_slack_starts_the_web_app_alone(demo_dir, demo_guild, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")} | {"HF_HUB_OFFLINE": "1"}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*GUILDBOT, "--config", str(demo_dir / "guild.toml"), "serve", "--port", str(port),
                                 "--log-level", "warning"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, f"guildbot serve exited {proc.returncode}:\n{log.read_text()}"
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        said = log.read_text().splitlines()
        assert [line for line in said if "Slack" in line] == [
            "guildbot serve: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set, so Slack is off: serving the web app alone"]
        assert f"guildbot serve: web app at http://127.0.0.1:{port}/  (JSON API at /api/docs)" in said
        assert httpx.get(url + "/healthz").json() == {"ok": True, "guild": "Acme", "slack": False}

        page = httpx.get(url + "/search?q=who+has+built+a+recommender", timeout=60)
        assert page.status_code == 200
        soup = BeautifulSoup(page.text, "html.parser")
        people = [a["href"].removeprefix("/people/") for a in soup.select(".people-to-ask .who a")]
        authors = recommender_authors(demo_guild)
        assert {demo_guild.person(p).team for p in people if p in authors} >= {"Home Feed", "Marketplace"}
        for a in soup.select(".people-to-ask .who a")[:3] + soup.select("a[href^='/projects/']")[:3]:
            assert httpx.get(url + a["href"], timeout=60).status_code == 200, a["href"]

        who = httpx.get(url + "/api/who", params={"q": "who has built a recommender"}, timeout=60).json()
        assert who and set(who[0]) == {"name", "emails", "aliases", "team", "score", "evidence"}
        hits = httpx.get(url + "/api/search", params={"q": "recommender"}, timeout=60).json()
        assert hits and set(hits[0]) == {"title", "url", "source", "team", "path", "snippet", "score"}
        assert httpx.post(url + "/slack/events", content="x").status_code in (404, 405)  # no Slack endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
