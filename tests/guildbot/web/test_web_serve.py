"""Acceptance: `guildbot --config examples/guild.toml serve --port P` as its own process with no Slack
variables serves the web app alone, says so in one line, and answers the search page and the API."""
from __future__ import annotations

import os

import httpx
from bs4 import BeautifulSoup

from support.serve import serve_process
from support.slack import recommender_authors


def test_serve_without_slack_starts_the_web_app_alone(demo_dir, demo_guild, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")} | {"HF_HUB_OFFLINE": "1"}
    log = tmp_path / "serve.log"
    with serve_process(demo_dir / "guild.toml", env, log) as url:
        port = url.rsplit(":", 1)[1]
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
