"""`guildbot insights [--weeks N] [--json]`: the /insights page's numbers in the terminal (guildbot/insights.py)."""
from __future__ import annotations

import argparse
import json
import sys

from guildbot.guild import Guild
from guildbot.insights import insights_for


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("insights", help="questions per week, unanswered topics, syncs, which teams learn from which",
                       description="What the guild asked week by week (by surface, and the share answered well), the "
                                   "most asked questions without a good answer, syncs proposed and held, and the "
                                   "pairs of teams that never learned from each other.")
    p.add_argument("--weeks", type=int, default=8, help="ISO weeks up to this one (1-104, default 8)")
    p.add_argument("--json", action="store_true", help="the same data as /api/insights")


def cmd_insights(guild: Guild, args: argparse.Namespace) -> int:
    if not 1 <= args.weeks <= 104:
        print(f"guildbot: --weeks {args.weeks}: use 1 to 104 weeks", file=sys.stderr)
        return 2
    data = insights_for(guild).build(args.weeks)
    if args.json:
        print(json.dumps(data, indent=1, ensure_ascii=False))
        return 0
    print(f"{data['total_questions']} questions in {len(data['weeks'])} weeks ({data['from'][:10]} to {data['to'][:10]})")
    head = "".join(f"{s:>7}" for s in data["surfaces"])
    print(f"\n{'week':<10}{head}{'all':>7}  answered well")
    for w in data["questions"]:
        share = "-" if w["share_answered"] is None else f"{w['answered_well']} ({w['share_answered']:.0%})"
        print(f"{w['week']:<10}" + "".join(f"{w['by_surface'][s]:>7}" for s in data["surfaces"]) + f"{w['questions']:>7}  {share}")
    print("\nMost asked, with no good answer:")
    for g in data["unanswered"] or [{"question": "(none)", "asked": 0, "teams": []}]:
        print(f"  {g['asked']:>3}× {g['question']}" + (f"  [{', '.join(g['teams'])}]" if g["teams"] else ""))
    held = ", ".join(f"{w['week']} {w['proposed']}/{w['held']}" for w in data["syncs"] if w["proposed"])
    print("\nSyncs proposed / held: " + (held or "none"))
    never = data["teams"]["never"]
    print("\nTeams that never learned from each other: " + ("; ".join(f"{a} and {b}" for a, b in never) if never else "none"))
    return 0


COMMANDS = {"insights": cmd_insights}
