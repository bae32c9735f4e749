#!/usr/bin/env python3
"""Ask the crawled demo org a few questions and print the answers with their evidence."""
import sys

from guildbot import Guild

QUESTIONS = ["who has built a recommender?", "anyone who knows drift monitoring?"]
SEARCHES = ["cold start for new users", "population stability index threshold"]


def main(config: str) -> None:
    guild = Guild.from_config(config)
    for q in QUESTIONS:
        print(f"\n>>> guildbot who {q!r}")
        for n, e in enumerate(guild.experts(q, limit=3), 1):
            print(f"{n}. {e.name} ({e.team})")
            for ev in e.evidence[:2]:
                print(f"     {ev.title} — {ev.what}\n       {ev.url}")
    for q in SEARCHES:
        print(f"\n>>> guildbot search {q!r}")
        for n, h in enumerate(guild.search(q, limit=3), 1):
            print(f"{n}. {h.title} [{h.team}]\n     {h.url}")
    guild.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "guild.toml")
