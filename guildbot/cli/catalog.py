"""CLI commands for the project catalog and people: projects, project, overlaps, people, person, similar.

    guildbot projects [--team T] [--topic Q] [--json]
    guildbot project NAME [--json]
    guildbot overlaps [--limit N] [--include-same-team] [--json]
    guildbot people [--ambiguous] [--json]
    guildbot person NAME|EMAIL [--json]
    guildbot similar PERSON [--limit N] [--json]

Each takes `--as EMAIL`: the answer that person may see (index/people/visibility.py); default everything.
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

from index.catalog.build import Project
from index.expertise.profiles import AmbiguousPerson
from index.people.visibility import Viewer

from guildbot.cli.args import positive_int
from guildbot.guild import Guild


AS_HELP = "answer as this person sees it (their directory team's sources); default: everything, as the owner"


def add_as(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="as_email", metavar="EMAIL", help=AS_HELP)


def viewer(guild: Guild, args: argparse.Namespace) -> Viewer | None:
    """The viewer `--as EMAIL` names; None (everything) without it."""
    email = getattr(args, "as_email", None)
    if not email:
        return None
    v = guild.viewer_for(email=email)
    if not v.team:
        print(f"guildbot: {email} is not in the people directory: answering with public sources only", file=sys.stderr)
    return v


def add_parsers(sub: Any) -> None:
    """Register the catalog and people subcommands on the main parser's subparsers."""
    s = sub.add_parser("projects", help="the project catalog: every repository and wiki project space",
                       description="List every project with team, status, owners, topics and summary.")
    s.add_argument("--team", help="only this team's projects")
    s.add_argument("--topic", help="only projects with a topic containing this text")
    s.add_argument("--json", action="store_true", help="print JSON")
    add_as(s)

    s = sub.add_parser("project", help="one project in full", description="Show one project: every field and where it came from.")
    s.add_argument("name", metavar="NAME")
    s.add_argument("--json", action="store_true", help="print JSON")
    add_as(s)

    s = sub.add_parser("overlaps", help="projects in different teams that work on the same thing",
                       description="Pairs of projects in different teams whose characteristic content is alike, with "
                                   "the key phrases both share, the closest passages and the people on each side. "
                                   "Pairs below [overlaps] min_score in guild.toml are never listed.")
    s.add_argument("--limit", type=positive_int, default=10, help="how many pairs (default 10)")
    s.add_argument("--include-same-team", action="store_true", help="also list pairs inside one team")
    s.add_argument("--json", action="store_true", help="print JSON")
    add_as(s)

    s = sub.add_parser("people", help="everyone guildbot knows; --ambiguous lists identities to review",
                       description="List people with team and emails, or with --ambiguous the identities that "
                                   "could not be placed with confidence.")
    s.add_argument("--ambiguous", action="store_true", help="identities that could not be placed with confidence")
    s.add_argument("--json", action="store_true", help="print JSON")
    add_as(s)

    s = sub.add_parser("person", help="one person: team, identities, topics, projects, recent activity",
                       description="Show one person, found by name, email, handle or Slack id.")
    s.add_argument("query", metavar="NAME|EMAIL")
    s.add_argument("--json", action="store_true", help="print JSON")
    add_as(s)

    s = sub.add_parser("similar", help="people in other teams who work on the same things",
                       description="People in other teams whose work is most like this person's.")
    s.add_argument("person", metavar="PERSON")
    s.add_argument("--limit", type=positive_int, default=5, help="how many people (default 5)")
    s.add_argument("--json", action="store_true", help="print JSON")
    add_as(s)


def _dump(value: Any) -> None:
    print(json.dumps(value, indent=1, ensure_ascii=False))


def _print_project(p: Project, full: bool = False, risk: dict | None = None) -> None:
    owners = ", ".join(p.owners) or "unknown"
    print(f"{p.name}  [{p.team or 'no team'} · {p.kind} · {p.status}]")
    if risk:
        after = ", ".join(n["name"] for n in risk["next"]) or "nobody else"
        print(f"    AT RISK: {risk['person']['name']} made {risk['share']:.0%} of the last year's commits and "
              f"{risk['reason']}; next most knowledgeable: {after}")
    print(f"    owners: {owners}" + (f"  ({p.provenance.get('owners')})" if full else ""))
    if p.topics:
        print(f"    topics: {', '.join(p.topics)}")
    if p.summary:
        print(textwrap.indent(textwrap.fill(p.summary, 96), "    "))
    if full:
        span = f"{(p.first_activity or '?')[:10]} – {(p.last_activity or '?')[:10]}"
        print(f"    activity: {span}, {p.documents} documents")
        if p.contributors:
            print("    contributors: " + ", ".join(f"{c['name']} ({c['count']})" for c in p.contributors))
        for link in p.links:
            print(f"    link: {link['title']} — {link['url']}")
        for field, where in sorted(p.provenance.items()):
            print(f"    {field} from: {where}")


def cmd_projects(guild: Guild, args: argparse.Namespace) -> int:
    projects = guild.projects(team=args.team, topic=args.topic, viewer=viewer(guild, args))
    risks = {r["project_id"]: r for r in guild.at_risk(viewer=viewer(guild, args))}
    if args.json:
        _dump([{**p.public(), "at_risk": risks.get(p.id)} for p in projects])
        return 0
    if not projects:
        print("No projects match. Run `guildbot crawl` if the index is empty.")
    for p in projects:
        _print_project(p, risk=risks.get(p.id))
        print()
    return 0


def cmd_project(guild: Guild, args: argparse.Namespace) -> int:
    p = guild.project(args.name, viewer=viewer(guild, args))
    if p is None:
        print(f"guildbot: no project named {args.name!r}; `guildbot projects` lists them", file=sys.stderr)
        return 2
    risk = next((r for r in guild.at_risk(viewer=viewer(guild, args)) if r["project_id"] == p.id), None)
    if args.json:
        _dump({**p.public(), "at_risk": risk})
    else:
        _print_project(p, full=True, risk=risk)
    return 0


def cmd_overlaps(guild: Guild, args: argparse.Namespace) -> int:
    overlaps = guild.overlaps(limit=args.limit, include_same_team=args.include_same_team, viewer=viewer(guild, args))
    if args.json:
        _dump([o.public() for o in overlaps])
        return 0
    if not overlaps:
        print(f"No overlaps scoring {guild.config.overlaps_min_score:g} or more ([overlaps] min_score)"
              + ("." if args.include_same_team else " between teams; --include-same-team also compares projects inside one team."))
    for n, o in enumerate(overlaps, 1):
        d = o.public()
        print(f"{n:>2}. {o.a.name} ({o.a.team})  ~  {o.b.name} ({o.b.team})   score {o.score:.2f}"
              + ("  [same team]" if o.same_team else ""))
        if o.shared_topics:
            print(f"      shared topics: {', '.join(o.shared_topics)}")
        for side in ("a", "b"):
            people = ", ".join(x["name"] for x in d[side]["people"]) or "nobody known"
            print(f"      {d[side]['name']}: {people}")
        for e in o.evidence[:1]:
            print(f"      closest passages: {e['a']['title']}  ~  {e['b']['title']}")
            for side in ("a", "b"):
                if e[side].get("passage"):
                    print(textwrap.indent(textwrap.fill(f"“{e[side]['passage']}”", 92), "        "))
    return 0


def cmd_people(guild: Guild, args: argparse.Namespace) -> int:
    if args.ambiguous:
        items = guild.ambiguous()
        if args.json:
            _dump([a.public() for a in items])
            return 0
        if not items:
            print("Every identity was placed with confidence.")
        for a in items:
            print(f"[{a.kind}] {a.identity}" + (f"  ->  {a.person}" if a.person and a.person != a.identity else ""))
            print(textwrap.indent(textwrap.fill(a.detail, 96), "    "))
            if a.candidates:
                print("    candidates: " + "; ".join(a.candidates))
        if items:
            print('\nSettle these with [[people.aliases]] in guild.toml (action = "merge" or "split").')
        return 0
    people = guild.people(viewer=viewer(guild, args))
    if args.json:
        _dump(people)
        return 0
    for r in people:
        print(f"{r['name']:<28} {r['team'] or '-':<18} {', '.join(r['emails'])}")
    return 0


def _ambiguous(e: AmbiguousPerson) -> int:
    print(f"guildbot: {e}", file=sys.stderr)
    return 2


def cmd_person(guild: Guild, args: argparse.Namespace) -> int:
    try:
        p = guild.person(args.query, viewer=viewer(guild, args))
    except AmbiguousPerson as e:
        return _ambiguous(e)
    if p is None:
        print(f"guildbot: nobody matches {args.query!r}; `guildbot people` lists everyone", file=sys.stderr)
        return 2
    if args.json:
        _dump(p.public())
        return 0
    print(f"{p.name} — {p.team or 'team unknown'}" + (f"  <{p.emails[0]}>" if p.emails else "")
          + ("" if p.in_directory else "  (not in the directory)"))
    print("  identities: " + "; ".join(f"{i['kind']}: {i['name'] or i['username']}" + (f" <{i['email']}>" if i["email"] else "")
                                       for i in p.identities))
    if p.topics:
        print("  topics: " + ", ".join(p.topics))
    if p.projects:
        print("  projects: " + ", ".join(f"{x['name']} ({x['team']}, {x['share']:.0%})" for x in p.projects))
    if p.recent:
        print("  recent:")
        for r in p.recent:
            print(f"    {(r['last_at'] or '')[:10]}  {r['title']}" + (f"  [{r['project']}]" if r["project"] else "")
                  + f"\n                {r['url']}")
    return 0


def cmd_similar(guild: Guild, args: argparse.Namespace) -> int:
    try:
        people = guild.similar(args.person, limit=args.limit, viewer=viewer(guild, args))
    except AmbiguousPerson as e:
        return _ambiguous(e)
    except LookupError as e:
        print(f"guildbot: {e}", file=sys.stderr)
        return 2
    if args.json:
        _dump([s.public() for s in people])
        return 0
    if not people:
        print("Nobody in another team works on anything close yet.")
    for n, s in enumerate(people, 1):
        print(f"{n:>2}. {s.name} — {s.team}  (similarity {s.score:.2f})"
              + (f"  shared topics: {', '.join(s.shared_topics)}" if s.shared_topics else ""))
        for e in s.evidence:
            print(f"      · {e['title']}\n        {e['url']}")
    return 0


COMMANDS = {"projects": cmd_projects, "project": cmd_project, "overlaps": cmd_overlaps, "people": cmd_people,
            "person": cmd_person, "similar": cmd_similar}
