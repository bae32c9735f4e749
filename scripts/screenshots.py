#!/usr/bin/env python3
"""Screenshots of every page of the demo org's web app, into docs/img (make screenshots).

Uses the crawled demo (examples/guild.toml; crawls it first when the index is empty), serves the
real app on loopback and photographs each page with headless Debian Chromium, on a laptop-sized
window, plus the search page on a phone-sized one.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the checkout first: tests/guildbot must not shadow guildbot
from support.browser import Browser  # noqa: E402
from support.slack import ServerThread  # noqa: E402

from guildbot import Guild  # noqa: E402
from guildbot.web.app import create_app  # noqa: E402

QUERY = "who has built a recommender"


def pages(guild: Guild) -> list[tuple[str, str]]:
    """(file name, path) of each page, with real ids from the demo's catalog."""
    person = guild.experts(QUERY, limit=1)[0].person_id
    project = guild.projects()[0].id
    team = guild.config.teams[0].name
    return [("home", "/"), ("search", "/search?q=" + QUERY.replace(" ", "+")), ("people", "/people"),
            ("person", f"/people/{person}"), ("projects", "/projects"), ("project", f"/projects/{project}"),
            ("teams", "/teams"), ("team", f"/teams/{team}"), ("overlaps", "/overlaps"), ("sources", "/sources"),
            ("syncs", "/syncs"), ("insights", "/insights"), ("search-nothing", "/search?q=unicorn+stables+ledger"),
            ("api-docs", "/api/docs")]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(ROOT / "examples" / "guild.toml"))
    p.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    guild = Guild.from_config(args.config)
    if not guild.store.count("documents"):
        print("the demo index is empty: crawling it first", file=sys.stderr)
        guild.crawl()
    server = ServerThread(create_app(guild)).start()
    browser = Browser()
    try:
        shots = [(name, path, {"width": 1280, "height": 1000}) for name, path in pages(guild)]
        shots.append(("search-phone", pages(guild)[1][1], {"width": 390, "height": 844}))
        for name, path, viewport in shots:
            page = browser.page(viewport=viewport, device_scale_factor=1)
            page.goto(server.url + path, wait_until="networkidle")
            target = out / f"{name}.png"
            page.screenshot(path=str(target))  # the first screenful: what a person sees on arrival
            page.context.close()
            print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}  {path}")
    finally:
        browser.close()
        server.stop()
        guild.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
