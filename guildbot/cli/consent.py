"""`guildbot consent`: what a person lets guildbot do, for whoever runs guildbot (a person asking by email,
someone without Slack or the web). The same choices as `/guild me` and the web's /me page.

    guildbot consent PERSON                      show (a name, email, handle or Slack id)
    guildbot consent PERSON --stop | --start     stop being suggested (and planned into syncs), or again
    guildbot consent PERSON --pause DAYS | --resume
    guildbot consent PERSON --hide TOPIC | --show TOPIC
    guildbot consent --list                      everyone who said something
"""
from __future__ import annotations

import argparse
import json
import sys

from index.expertise.profiles import AmbiguousPerson

from guildbot.guild import Guild


def add_parsers(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("consent", help="show or change whether a person is suggested (stop, pause, hidden topics)",
                       description="What a person lets guildbot do: be suggested or not, a pause, topics they are "
                                   "not suggested for. People change it themselves with /guild me or the web's /me.")
    c.add_argument("person", nargs="?", help="a name, email, handle or Slack id")
    c.add_argument("--list", action="store_true", help="everyone who stopped, paused or hid a topic")
    what = c.add_mutually_exclusive_group()
    what.add_argument("--stop", action="store_true", help="never suggest them (nor plan them into syncs)")
    what.add_argument("--start", action="store_true", help="suggest them again")
    what.add_argument("--pause", type=int, metavar="DAYS", help="do not suggest them for DAYS days (1-365)")
    what.add_argument("--resume", action="store_true", help="end a pause")
    what.add_argument("--hide", metavar="TOPIC", help="do not suggest them for questions about TOPIC")
    what.add_argument("--show", metavar="TOPIC", help="suggest them for TOPIC again")
    c.add_argument("--json", action="store_true")


def _line(name: str, row: dict) -> str:
    state = "not suggested" if row["opted_out"] else (f"paused until {row['paused_until'][:16]}" if row["paused_until"]
                                                      else "suggested")
    hidden = f"; hidden topics: {', '.join(row['hidden_topics'])}" if row["hidden_topics"] else ""
    return f"{name}: {state}{hidden}"


def cmd_consent(guild: Guild, args: argparse.Namespace) -> int:
    if args.list:
        rows = guild.consent_list()
        if args.json:
            print(json.dumps(rows, indent=1, ensure_ascii=False))
        for r in [] if args.json else rows:
            print(_line(r["name"] or r["person_id"], r))
        if not rows and not args.json:
            print("Nobody has stopped, paused or hidden a topic.")
        return 0
    if not args.person:
        print("guildbot: name a person (guildbot consent ada@example.com), or use --list", file=sys.stderr)
        return 2
    try:
        found = guild.person(args.person)
    except AmbiguousPerson as e:
        names = ", ".join(f"{c['name']} <{c['id']}>" for c in e.candidates[:5])
        print(f"guildbot: {args.person!r} names several people ({names}); use an email", file=sys.stderr)
        return 2
    if found is None:
        print(f"guildbot: nobody matches {args.person!r}; try a full name or an email", file=sys.stderr)
        return 2
    try:
        row = guild.set_consent(found.person_id, opted_out=True if args.stop else (False if args.start else None),
                                pause_days=args.pause, resume=args.resume, hide=args.hide, show=args.show)
    except ValueError as e:
        print(f"guildbot: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"name": found.name, **row}, indent=1, ensure_ascii=False))
    else:
        print(_line(found.name, row))
    return 0


COMMANDS = {"consent": cmd_consent}
