"""The catalog as a plain SQLite file (`guildbot export FILE`), for Datasette or any SQLite tool.

The rows come from the Guild facade (projects, people, teams, overlaps, as one viewer may see
them) as plain dictionaries; this module only lays them out and writes them with sqlite-utils:

    teams            name (key), slack_channel, declared, sources
    projects         id (key), name, kind, team -> teams, source, summary, status, dates, documents, ...
    people           id (key), name, team -> teams, emails, aliases, in_directory
    topics           id (key), name (unique, compared case-insensitively)
    project_topics   project_id -> projects, topic_id -> topics, rank, origin
    project_people   project_id -> projects, person_id -> people, role (owner | contributor), commits
    overlaps         a -> projects, b -> projects, score, similarity, same_team, shared_topics, evidence
    about            key, value: what wrote the file, when, from which guild and for which viewer
    about_columns    table_name, column_name, description: every table ('' as column) and column

Foreign keys are declared (and checked while writing), and `projects_fts` (name, summary; Porter
stemming) and `people_fts` (name) are sqlite-utils full-text tables with triggers, so Datasette
offers search on both. Lists are JSON text. The file is written beside the target under a
temporary name and renamed into place when complete: an interrupted export leaves no half file,
and an existing file is replaced only when asked (`force`).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


# table -> (description, {column: (type, description)}, primary key, foreign keys (column, table, column))
TABLES: dict[str, tuple[str, dict[str, tuple[type, str]], str | tuple[str, ...], list[tuple[str, str, str]]]] = {
    "teams": ("Teams: those guild.toml declares, and any other team a project or a person names.", {
        "name": (str, "the team's name"),
        "slack_channel": (str, "the team's Slack channel, when guild.toml gives one"),
        "declared": (int, "1 when guild.toml declares the team, 0 when only a project or person names it"),
        "sources": (str, "JSON list of the names of the team's sources"),
    }, "name", []),
    "projects": ("Catalog projects: every repository, wiki or Confluence space and site, merged as guildbot "
                 "merges them (docs/design.md, 'One definition of a project').", {
        "id": (str, "the project's id in guildbot (a unit id such as repo:org/name)"),
        "name": (str, "the project's name"),
        "kind": (str, "repository, space or site"),
        "team": (str, "the owning team (teams.name)"),
        "source": (str, "the guild.toml source its main unit comes from"),
        "summary": (str, "catalog-info description, README's first section, forge description or main page"),
        "status": (str, "active, dormant (no activity in 180 days) or unknown"),
        "first_activity": (str, "earliest dated activity, ISO 8601 UTC"),
        "last_activity": (str, "latest dated activity, ISO 8601 UTC"),
        "documents": (int, "how many indexed documents make the project"),
        "owners": (str, "JSON list of owners as written (CODEOWNERS, catalog-info spec.owner) or top contributors"),
        "links": (str, "JSON list of {title, url}: repository, main page, catalog-info links"),
        "units": (str, "JSON list of the units merged into this project: {id, name, kind, source}"),
        "provenance": (str, "JSON object: for each field, where its value came from"),
    }, "id", [("team", "teams", "name")]),
    "people": ("People guildbot resolved from identities across sources and the people directory.", {
        "id": (str, "the person's id in guildbot"),
        "name": (str, "display name"),
        "team": (str, "their team (teams.name), from the directory or their contributions"),
        "emails": (str, "JSON list of email addresses"),
        "aliases": (str, "JSON list of other names and handles"),
        "in_directory": (int, "1 when the people directory lists them"),
    }, "id", [("team", "teams", "name")]),
    "topics": ("Topics of projects: tags, forge topics, package keywords and key phrases, one row per topic "
               "(compared case-insensitively).", {
        "id": (int, "topic number in this file"),
        "name": (str, "the topic as first written"),
    }, "id", []),
    "project_topics": ("Which topics each project has.", {
        "project_id": (str, "projects.id"),
        "topic_id": (int, "topics.id"),
        "rank": (int, "1 for the project's first topic"),
        "origin": (str, "where the topic came from: e.g. 'catalog-info.yaml tags', 'repository topics', "
                        "'key phrases'"),
    }, ("project_id", "topic_id"), [("project_id", "projects", "id"), ("topic_id", "topics", "id")]),
    "project_people": ("Who built and who owns each project.", {
        "project_id": (str, "projects.id"),
        "person_id": (str, "people.id"),
        "role": (str, "contributor (one of the top five by contributions) or owner (an owner resolved to a person)"),
        "commits": (int, "a contributor's commits or edits to the project's documents"),
    }, ("project_id", "person_id", "role"), [("project_id", "projects", "id"), ("person_id", "people", "id")]),
    "overlaps": ("Pairs of projects whose characteristic content is alike, at or above [overlaps] min_score, "
                 "same-team pairs included.", {
        "a": (str, "projects.id of one side"),
        "b": (str, "projects.id of the other side"),
        "score": (float, "0 to 1, calibrated; 0.5 at a lead of 0.1"),
        "similarity": (float, "the lead: characteristic cosine above background"),
        "same_team": (int, "1 when both projects belong to one team"),
        "shared_topics": (str, "JSON list of key phrases both sides share"),
        "evidence": (str, "JSON list of the closest passage pairs: {similarity, a: {title, url, passage}, b: ...}"),
    }, ("a", "b"), [("a", "projects", "id"), ("b", "projects", "id")]),
    "about": ("What wrote this file, when, and for which viewer.", {
        "key": (str, "fact"),
        "value": (str, "its value"),
    }, "key", []),
    "about_columns": ("Every table and column of this file, described (column_name '' describes the table).", {
        "table_name": (str, "a table of this file"),
        "column_name": (str, "one of its columns, or '' for the table itself"),
        "description": (str, "what it holds"),
    }, ("table_name", "column_name"), []),
}
FULL_TEXT = {"projects": (["name", "summary"], "porter"), "people": (["name"], None)}


class ExportError(Exception):
    """The export file cannot be written; the message names the file and the fix."""

    def __init__(self, path: Path, problem: str, fix: str):
        self.path = path
        super().__init__(f"{path}: {problem}\n  fix: {fix}")


@dataclass
class CatalogRows:
    """What the export holds, as plain data from the Guild facade."""
    teams: list[dict[str, Any]] = field(default_factory=list)  # {name, slack_channel, sources}
    projects: list[dict[str, Any]] = field(default_factory=list)  # Project fields (contributors with person_id)
    people: list[dict[str, Any]] = field(default_factory=list)  # list_people rows
    overlaps: list[dict[str, Any]] = field(default_factory=list)  # {a, b, score, similarity, same_team, ...}
    about: dict[str, str] = field(default_factory=dict)


def check_target(path: Path, force: bool) -> None:
    """Raise ExportError when `path` cannot or must not be written (checked before any work)."""
    if path.is_dir():
        raise ExportError(path, "is a folder", "give a file name, e.g. catalog.db")
    if path.exists() and not force:
        raise ExportError(path, "the file exists; export never overwrites one unless asked",
                          "give another file name, or add --force to replace it")
    if not path.parent.is_dir():
        raise ExportError(path.parent, "the folder does not exist", f"create it first (mkdir -p {path.parent})")
    if not os.access(path.parent, os.W_OK):
        raise ExportError(path.parent, "the folder is not writable", "pick a folder you may write to")


def _team(name: Any) -> str | None:
    return (name or "").strip() or None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def table_rows(rows: CatalogRows) -> dict[str, list[dict[str, Any]]]:
    """The export's rows per table, keys consistent: every team, project, person and topic referred to exists."""
    teams: dict[str, dict[str, Any]] = {}
    for t in rows.teams:
        teams[t["name"]] = {"name": t["name"], "slack_channel": t.get("slack_channel") or None, "declared": 1,
                            "sources": _json(list(t.get("sources") or []))}
    by_fold = {name.casefold(): name for name in teams}

    def team_of(name: Any) -> str | None:
        name = _team(name)
        if name is None:
            return None
        if name.casefold() not in by_fold:  # a team only a project or a person names
            teams[name] = {"name": name, "slack_channel": None, "declared": 0, "sources": "[]"}
            by_fold[name.casefold()] = name
        return by_fold[name.casefold()]

    people = [{"id": p["id"], "name": p["name"], "team": team_of(p.get("team")), "emails": _json(p.get("emails") or []),
               "aliases": _json(p.get("aliases") or []), "in_directory": int(bool(p.get("in_directory")))}
              for p in rows.people]
    person_ids = {p["id"] for p in people}
    named: dict[str, list[str]] = {}
    for p in people:
        named.setdefault((p["name"] or "").casefold(), []).append(p["id"])

    projects, topics, project_topics, project_people = [], {}, [], []
    for p in rows.projects:
        projects.append({"id": p["id"], "name": p["name"], "kind": p.get("kind"), "team": team_of(p.get("team")),
                         "source": p.get("source"), "summary": p.get("summary") or "", "status": p.get("status"),
                         "first_activity": p.get("first_activity"), "last_activity": p.get("last_activity"),
                         "documents": p.get("documents"), "owners": _json(p.get("owners") or []),
                         "links": _json(p.get("links") or []), "units": _json(p.get("sources") or []),
                         "provenance": _json(p.get("provenance") or {})})
        origins = p.get("topic_sources") or {}
        seen: set[int] = set()
        for rank, name in enumerate(p.get("topics") or [], 1):
            key = name.strip().casefold()
            if not key:
                continue
            topic = topics.setdefault(key, {"id": len(topics) + 1, "name": name.strip()})
            if topic["id"] in seen:
                continue
            seen.add(topic["id"])
            origin = next((o for o, names in origins.items() if key in {n.strip().casefold() for n in names}), None)
            project_topics.append({"project_id": p["id"], "topic_id": topic["id"], "rank": rank, "origin": origin})
        links: dict[tuple[str, str], dict[str, Any]] = {}
        for c in p.get("contributors") or []:
            if c.get("person_id") in person_ids:
                links[(c["person_id"], "contributor")] = {"project_id": p["id"], "person_id": c["person_id"],
                                                          "role": "contributor", "commits": c.get("count")}
        for name in p.get("owner_people") or []:
            ids = named.get((name or "").casefold(), [])
            if len(ids) == 1:  # a name two people share names neither: the owner stays in `owners` as written
                links[(ids[0], "owner")] = {"project_id": p["id"], "person_id": ids[0], "role": "owner", "commits": None}
        project_people += links.values()

    project_ids = {p["id"] for p in projects}
    overlaps = [{"a": o["a"], "b": o["b"], "score": o["score"], "similarity": o["similarity"],
                 "same_team": int(bool(o.get("same_team"))), "shared_topics": _json(o.get("shared_topics") or []),
                 "evidence": _json(o.get("evidence") or [])}
                for o in rows.overlaps if o["a"] in project_ids and o["b"] in project_ids]
    about = [{"key": k, "value": str(v)} for k, v in rows.about.items()]
    about_columns = [{"table_name": t, "column_name": "", "description": desc} for t, (desc, _, _, _) in TABLES.items()]
    about_columns += [{"table_name": t, "column_name": c, "description": d}
                      for t, (_, cols, _, _) in TABLES.items() for c, (_, d) in cols.items()]
    return {"teams": list(teams.values()), "projects": projects, "people": people, "topics": list(topics.values()),
            "project_topics": project_topics, "project_people": project_people, "overlaps": overlaps,
            "about": about, "about_columns": about_columns}


def write_catalog(path: Path, rows: CatalogRows, force: bool = False) -> dict[str, int]:
    """Write the export file; returns the row count of each table."""
    path = Path(path)
    check_target(path, force)
    data = table_rows(rows)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        from sqlite_utils import Database  # imported on export only: the CLI loads this module for every command

        db = Database(tmp, recreate=True)
        try:
            db.execute("PRAGMA foreign_keys = ON")  # a row pointing nowhere fails here, not in the reader's tool
            for name, (_, columns, pk, fks) in TABLES.items():  # parents before the tables pointing at them
                table = db.table(name)
                table.create({c: kind for c, (kind, _) in columns.items()}, pk=pk, foreign_keys=fks,
                             not_null=[pk] if isinstance(pk, str) else list(pk))
                for column, _, _ in fks:
                    table.create_index([column], if_not_exists=True)
                table.insert_all(data[name])
            db.table("topics").create_index(["name"], unique=True)
            for name, (columns, tokenize) in FULL_TEXT.items():
                db.table(name).enable_fts(columns, tokenize=tokenize, create_triggers=True)
            problems = db.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"the export's foreign keys do not hold: {problems[:5]}")
            counts = {name: db.table(name).count for name in TABLES}
        finally:
            db.close()
        os.replace(tmp, path)
    except OSError as e:
        raise ExportError(path, f"cannot write the file ({e.strerror or e})",
                          "check the folder's free space and permissions") from None
    finally:
        tmp.unlink(missing_ok=True)
    return counts
