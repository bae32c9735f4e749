"""`guildbot export FILE`: the catalog as a plain SQLite file (written by index/storage/export.py).

    guildbot export catalog.db [--force] [--as EMAIL] [--json]

Everything is read through the Guild facade (projects, people, teams, overlaps), so the export is
the same from the embedded index and from Postgres, and `--as` exports what one person may see.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from index.people.visibility import Viewer
from index.storage.export import CatalogRows, ExportError, check_target, write_catalog

import guildbot
from guildbot.cli import catalog as cli_catalog
from guildbot.guild import Guild

ALL = 1_000_000  # every overlap at or above [overlaps] min_score

HELP = "write the project catalog to a SQLite file for Datasette or any SQLite tool"
DESCRIPTION = """\
Write the catalog (projects, people, teams, topics, overlaps, and who built and owns what) to FILE,
a plain SQLite database: no guildbot needed to read it. Tables:

  projects        one row per catalog project (team, summary, status, activity dates, owners, links)
  people          everyone guildbot resolved (team, emails, aliases)
  teams           teams from guild.toml, and any other a project or person names
  topics          every topic once; project_topics links projects to them (rank, origin)
  project_people  contributors (top five, with their commits) and owners resolved to people
  overlaps        pairs of alike projects at or above [overlaps] min_score, same-team pairs included
  about           when and from which guild the file was written, and for which viewer
  about_columns   a description of every table and column

Foreign keys link them (PRAGMA foreign_key_check is empty), lists are JSON text, and projects_fts
(name, summary) and people_fts (name) are full-text indexes. FILE is written under a temporary
name and renamed into place when complete; an existing FILE is replaced only with --force."""
EPILOG = """\
examples:
  guildbot export catalog.db                   everything, as the data_dir's owner sees it
  guildbot export catalog.db --force           replace an earlier export
  guildbot export team.db --as ada@corp.com    only what Ada may see (public sources and her team's)
  datasette catalog.db                         browse it, with search on projects and people
  sqlite3 catalog.db "SELECT p.name, p.team FROM projects_fts f JOIN projects p ON p.rowid = f.rowid
                      WHERE projects_fts MATCH 'drift'"

The export is a snapshot: run it again after a crawl to refresh it."""


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("export", help=HELP, description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("file", metavar="FILE", help="the SQLite file to write, e.g. catalog.db")
    s.add_argument("--force", action="store_true", help="replace FILE when it exists (default: refuse)")
    s.add_argument("--json", action="store_true", help="print the file's path and row counts as JSON")
    cli_catalog.add_as(s)


def catalog_rows(guild: Guild, viewer: Viewer | None, as_email: str = "") -> CatalogRows:
    """The export's content as plain data, read through the facade as `viewer` sees it."""
    teams = [{"name": t.name, "slack_channel": t.slack_channel, "sources": t.sources} for t in guild.teams(viewer=viewer)]
    projects = [dataclasses.asdict(p) for p in guild.projects(viewer=viewer)]
    overlaps = [{"a": o.a.id, "b": o.b.id, "score": o.score, "similarity": o.similarity, "same_team": o.same_team,
                 "shared_topics": o.shared_topics, "evidence": o.evidence}
                for o in guild.overlaps(limit=ALL, include_same_team=True, viewer=viewer)]
    about = {"generator": f"guildbot {guildbot.__version__} export", "guild": guild.config.name,
             "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "database": "postgres" if guild.config.database else "sqlite",
             "view": f"as {as_email}: the sources their team may see" if as_email else "everything (the data_dir's owner)",
             "overlaps_min_score": str(guild.config.overlaps_min_score)}
    return CatalogRows(teams=teams, projects=projects, people=guild.people(viewer=viewer), overlaps=overlaps,
                       about=about)


def cmd_export(guild: Guild, args: argparse.Namespace) -> int:
    path = Path(args.file).expanduser()
    try:
        check_target(path, args.force)  # before reading anything
        viewer = cli_catalog.viewer(guild, args)
        counts = write_catalog(path, catalog_rows(guild, viewer, args.as_email or ""), force=args.force)
    except ExportError as e:
        print(f"guildbot export: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"file": str(path), "tables": counts}, indent=1))
        return 0
    print(f"wrote {path}: {counts['projects']} projects, {counts['people']} people, {counts['teams']} teams, "
          f"{counts['topics']} topics, {counts['overlaps']} overlaps")
    print(f"  browse it: datasette {path}    or: sqlite3 {path} .tables")
    return 0


COMMANDS = {"export": cmd_export}
