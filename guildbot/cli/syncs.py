"""`guildbot syncs ...`: plan, post, list and export cross-team syncs.

    guildbot syncs propose [--json] [--replan] [--explain]
                                                 plan the next cycle (stored once per cycle), post nothing;
                                                 --explain: what became of every cross-team overlap, and why
    guildbot syncs post                          post this cycle's proposals to Slack (idempotent)
    guildbot syncs list [--json]                 planned and past syncs
    guildbot syncs ics ID                        the invitation as an .ics file on stdout
    guildbot syncs optout EMAIL|SLACK_ID [--undo]
"""
from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("syncs", help="cross-team syncs: propose, post, list, ics, optout",
                       description="Plan cross-team syncs between people who work on the same thing.")
    ss = s.add_subparsers(dest="syncs_command", metavar="ACTION", required=True)
    p = ss.add_parser("propose", help="plan the next cycle's syncs (stored; posts nothing)")
    p.add_argument("--json", action="store_true", help="print JSON as documented in DESIGN.md")
    p.add_argument("--replan", action="store_true", help="drop this cycle's unposted proposals and plan again")
    p.add_argument("--explain", action="store_true",
                   help="also say, for every cross-team overlap, why it became a proposal or did not "
                        "(with --json: {\"proposals\": [...], \"overlaps\": [...], \"note\"})")
    ss.add_parser("post", help="post this cycle's proposals to Slack (each once)")
    ls = ss.add_parser("list", help="planned and past syncs")
    ls.add_argument("--json", action="store_true")
    i = ss.add_parser("ics", help="a sync's invitation as iCalendar on stdout")
    i.add_argument("id")
    o = ss.add_parser("optout", help="never propose this person for a sync (email or Slack id)")
    o.add_argument("who", nargs="+")
    o.add_argument("--undo", action="store_true", help="opt back in")


def _local(member: dict[str, Any]) -> str:
    if not member.get("local_start"):
        return "?"
    return datetime.fromisoformat(member["local_start"]).strftime("%a %d %b %H:%M")


def _print(syncs: list[dict[str, Any]], explained: bool = False) -> None:
    if not syncs:
        print("No syncs this cycle." + ("" if explained else " `guildbot syncs propose --explain` says why for every "
                                        "cross-team overlap."))
    for s in syncs:
        status = f" [{s['status']}]" if s.get("status") else ""
        print(f"{s['id']}  {s['topic']}{status}  ({' + '.join(s['teams'])}, score {s['score']})")
        print(f"    {s['start'] or 'no time found'} – {s['end'] or ''} UTC")
        for m in s["members"]:
            outside = "  (outside working hours)" if m["email"] in (s.get("outside_hours") or []) else ""
            print(f"    · {m['name']} <{m['email']}> — {m['team']}, {_local(m)} {m['tz']}{outside}")
        for c in s.get("contacts") or []:
            print(f"    · {c['team']}: nobody in the directory knows it; ask {c['contact']}")
        for e in s.get("evidence") or []:
            print(f"      {e['title']}: {e['url']}")


def _print_explanation(why: dict[str, Any]) -> None:
    print()
    print(f"Why ({why.get('cycle', '')}):")
    if why.get("note"):
        print(f"  {why['note']}")
    for o in why.get("overlaps") or []:
        if not o["strong"]:
            continue
        topic = f" -> {o['topic']!r}" if o.get("topic") else ""
        print(f"  {o['a']} ({o['a_team']}) ~ {o['b']} ({o['b_team']})  {o['score']:.2f}{topic}: {o['status']}")
        print(f"      {o['reason']}")
    weak = [o for o in why.get("overlaps") or [] if not o["strong"]]
    if weak:
        print(f"  {len(weak)} weaker overlap(s) are not topics: " + "; ".join(
            f"{o['a']} ~ {o['b']} {o['score']:.2f}" for o in weak[:5]) + (" …" if len(weak) > 5 else ""))
        print(f"      {weak[0]['reason']}")


def cmd_syncs(guild: Any, args: Any) -> int:
    from guildbot.syncs.service import syncs_for  # the planner loads for `syncs` commands only

    syncs = syncs_for(guild)
    action = args.syncs_command
    if action == "propose" and args.explain:
        rows, why = syncs.explain(replan=args.replan)
        if args.json:
            print(json.dumps({"proposals": rows, **why}, indent=1, ensure_ascii=False))
        else:
            _print(rows, explained=True)
            _print_explanation(why)
        return 0
    if action in ("propose", "list"):
        rows = syncs.propose(replan=args.replan) if action == "propose" else syncs.stored()
        if args.json:
            print(json.dumps(rows, indent=1, ensure_ascii=False))
        else:
            _print(rows)
        return 0
    if action == "ics":
        sync = syncs.get(args.id)
        if sync is None or not sync.get("start"):
            why = "has no time: no slot in the cycle suits any member" if sync else "does not exist"
            print(f"guildbot: sync {args.id!r} {why}; `guildbot syncs list` shows the ids and times", file=sys.stderr)
            return 2
        data = syncs.ics(args.id)
        sys.stdout.buffer.write(data)
        return 0
    if action == "optout":
        syncs.optout(args.who, out=not args.undo)
        print(("opted back in: " if args.undo else "opted out of syncs: ") + ", ".join(args.who))
        return 0
    if action == "post":
        from guildbot.slack.syncs import post_cycle_from_env
        return post_cycle_from_env(syncs)
    return 2


COMMANDS = {"syncs": cmd_syncs}
