"""`guildbot digest`: the weekly digest, one-shot (for cron; `guildbot serve` schedules the same).

    guildbot digest [--week 2026-W49] [--channel '#ml-guild' | --team T] [--dry-run] [--json]

Without --channel or --team it goes to [digest] channel and, with per_team = true, to each team's
slack_channel with that team's view. --dry-run prints the messages as readable text and posts
nothing; --json prints the digest data and posts nothing. Posting needs SLACK_BOT_TOKEN
(SLACK_API_URL points elsewhere, e.g. a test server). Exit 0 when every channel got its digest
or already had it, 1 when a channel failed, 2 on a usage or configuration problem.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from guildbot.config.loader import ConfigError
from guildbot.settings import environment

HELP = "build the weekly digest of an ISO week and post it to Slack (idempotent: once per channel and week)"


def add_parsers(sub: Any) -> None:
    d = sub.add_parser("digest", help=HELP, description=HELP + ". Default week: the one that just ended in "
                       "[digest] tz. A week with nothing to say posts nothing, or one line with "
                       '[digest] empty = "line".')
    d.add_argument("--week", help="ISO week, e.g. 2026-W49 (default: the week that just ended)")
    where = d.add_mutually_exclusive_group()
    where.add_argument("--channel", help="post the guild-wide digest to this channel only, e.g. '#ml-guild'")
    where.add_argument("--team", help="only this team's digest, to its slack_channel")
    d.add_argument("--dry-run", action="store_true", help="print the messages as text; post nothing")
    d.add_argument("--json", action="store_true", help="print the digest data as JSON; post nothing")


def asker(args: argparse.Namespace | None = None) -> str:
    """Who asks on the command line, for the query log's team: --as EMAIL, $GUILDBOT_USER, else the login name."""
    try:
        return getattr(args, "as_email", None) or environment().user or getpass.getuser()
    except (KeyError, OSError):
        return ""


def cmd_digest(guild: Any, args: argparse.Namespace) -> int:
    from guildbot.digest import service as dg

    cfg = guild.config
    try:
        targets = dg.targets(cfg, args.channel, args.team)
    except LookupError as e:
        print(f"guildbot digest: {e}", file=sys.stderr)
        return 2
    if not targets:
        if not (args.dry_run or args.json):
            raise ConfigError(cfg.path, "[digest]", "no channel to post the digest to",
                              'set channel = "#ml-guild" (and per_team = true for team channels), or pass --channel')
        targets = [dg.Target("", "")]
    digest = dg.digest_for(guild)
    try:
        views = [(t, digest.build(args.week, t.team or None)) for t in targets]
    except ValueError as e:
        print(f"guildbot digest: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{"channel": t.channel, **data.public()} for t, data in views], indent=1, ensure_ascii=False))
        return 0
    if args.dry_run:
        for t, data in views:
            where = t.channel or "(no channel)"
            print(f"── digest {data.week} for {where}{' · ' + t.team if t.team else ''} (dry run: not posted) ──")
            print(dg.render_text(digest.message(data)))
            print()
        return 0
    missing = [t.team for t in targets if not t.channel]
    if missing:
        print(f"guildbot digest: team {missing[0]} has no slack_channel; add one to its [[teams]] entry or pass --channel",
              file=sys.stderr)
        return 2
    try:
        delivery = digest.delivery(dg.make_client())
    except dg.DigestSetupError as e:
        print(f"guildbot digest: {e}", file=sys.stderr)
        return 2
    failed = 0
    for t, data in views:
        o = delivery.deliver(t, data, digest.message(data))
        note = {"posted": "", "updated": "edited the earlier message (content changed)",
                "reposted": "the earlier message was gone (deleted, or its channel renamed): posted it again",
                "unchanged": "already posted, unchanged", "adopted": "found the message an interrupted run posted",
                "nothing": "nothing to say this week: not posted", "busy": o.error, "failed": o.error}[o.status]
        print(f"{t.channel:<20} {data.week}  {o.status:<9} {note}".rstrip() + (f"  ts={o.ts}" if o.ts else ""),
              file=sys.stderr if o.status in ("failed", "busy") else sys.stdout)
        failed += o.status == "failed"
    return 1 if failed else 0


COMMANDS = {"digest": cmd_digest}
