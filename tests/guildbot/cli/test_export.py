"""`guildbot export FILE`: the catalog as a plain SQLite file, read back with nothing but sqlite3.

The demo org's export holds what the Guild answers (projects, people, overlaps, teams, topics and
the links between them), its foreign keys hold, its full-text tables find projects and people,
every table and column is described inside it, and it is the same from either backend. An
existing file is replaced only with --force, and bad targets are clear errors.
"""
from __future__ import annotations

import json
import sqlite3

import pytest

from guildbot.cli import main as cli
from guildbot.cli.export import ALL


def export(config, path, *extra: str) -> int:
    return cli.main(["--config", str(config), "export", str(path), *extra])


def rows(db: sqlite3.Connection, sql: str, *params) -> list[tuple]:
    return db.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def exported(demo_guild, demo_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "catalog.db"
    assert export(demo_dir / "guild.toml", path) == 0
    db = sqlite3.connect(str(path))
    yield demo_guild, db
    db.close()


def test_counts_match_the_guilds_answers(exported):
    guild, db = exported
    count = lambda table: rows(db, f"SELECT count(*) FROM {table}")[0][0]  # noqa: E731
    projects, people = guild.projects(), guild.people()
    assert count("projects") == len(projects) > 0 and count("people") == len(people) > 0
    assert count("overlaps") == len(guild.overlaps(limit=ALL, include_same_team=True)) > 0
    assert {r[0] for r in rows(db, "SELECT name FROM teams WHERE declared = 1")} == {t.name for t in guild.teams()}
    topics = {t.strip().casefold() for p in projects for t in p.topics}
    assert count("topics") == len(topics) and count("project_topics") == sum(
        len({t.strip().casefold() for t in p.topics}) for p in projects)
    contributors = sum(len(p.contributors) for p in projects)
    assert count("project_people") >= contributors > 0
    assert sorted(rows(db, "SELECT id, name, team FROM projects")) == sorted((p.id, p.name, p.team or None) for p in projects)


def test_foreign_keys_are_declared_and_hold(exported):
    _, db = exported
    assert rows(db, "PRAGMA foreign_key_check") == []
    declared = {(t, r[3], r[2], r[4]) for t in ("projects", "people", "project_topics", "project_people", "overlaps")
                for r in rows(db, f"PRAGMA foreign_key_list({t})")}
    assert {("projects", "team", "teams", "name"), ("people", "team", "teams", "name"),
            ("project_topics", "project_id", "projects", "id"), ("project_topics", "topic_id", "topics", "id"),
            ("project_people", "person_id", "people", "id"), ("overlaps", "a", "projects", "id"),
            ("overlaps", "b", "projects", "id")} <= declared
    roles = {r[0] for r in rows(db, "SELECT DISTINCT role FROM project_people")}
    assert "contributor" in roles and roles <= {"contributor", "owner"}


def test_full_text_finds_projects_and_people(exported):
    guild, db = exported
    found = rows(db, "SELECT p.id FROM projects_fts f JOIN projects p ON p.rowid = f.rowid WHERE projects_fts MATCH ?",
                 "drift")
    assert "drift-watch" in {r[0] for r in found}, found
    summary_word = "monitoring"  # Porter stemming: the summaries say "monitor"/"monitoring"
    assert rows(db, "SELECT count(*) FROM projects_fts WHERE projects_fts MATCH ?", summary_word)[0][0] >= 1
    person = guild.people()[0]
    hit = rows(db, "SELECT p.id FROM people_fts f JOIN people p ON p.rowid = f.rowid WHERE people_fts MATCH ?",
               '"' + person["name"].split()[-1] + '"')
    assert person["id"] in {r[0] for r in hit}


def test_every_table_and_column_is_described_in_the_file(exported):
    _, db = exported
    described = set(rows(db, "SELECT table_name, column_name FROM about_columns"))
    tables = [r[0] for r in rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%_fts%'")]
    assert set(tables) == {t for t, c in described if c == ""}
    for t in tables:
        assert {(t, r[1]) for r in rows(db, f"PRAGMA table_info({t})")} <= described, t
    about = dict(rows(db, "SELECT key, value FROM about"))
    assert about["guild"] == "Acme" and about["database"] == "sqlite" and about["view"].startswith("everything")
    json.loads(rows(db, "SELECT owners FROM projects LIMIT 1")[0][0])  # lists are JSON text


def test_an_existing_file_is_kept_unless_forced(demo_guild, demo_dir, tmp_path, capsys):
    path = tmp_path / "catalog.db"
    path.write_text("keep me")
    assert export(demo_dir / "guild.toml", path) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "--force" in err and "Traceback" not in err
    assert path.read_text() == "keep me"
    assert export(demo_dir / "guild.toml", path, "--force", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    db = sqlite3.connect(str(path))
    assert rows(db, "SELECT count(*) FROM projects")[0][0] == out["tables"]["projects"] == len(demo_guild.projects())
    db.close()
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.db"]  # no temporary file left behind


@pytest.mark.parametrize("target, words", [("missing/catalog.db", "does not exist"), (".", "is a folder")])
def test_bad_targets_are_clear_errors(demo_guild, demo_dir, tmp_path, capsys, target, words):
    assert export(demo_dir / "guild.toml", tmp_path / target) == 2
    err = capsys.readouterr().err
    assert words in err and "fix:" in err and "Traceback" not in err


def test_as_a_person_exports_what_they_may_see(demo_guild, demo_dir, tmp_path):
    path = tmp_path / "mei.db"
    assert export(demo_dir / "guild.toml", path, "--as", "mei.lin@acme.example") == 0
    viewer = demo_guild.viewer_for(email="mei.lin@acme.example")
    db = sqlite3.connect(str(path))
    assert rows(db, "SELECT count(*) FROM projects")[0][0] == len(demo_guild.projects(viewer=viewer))
    assert rows(db, "SELECT count(*) FROM people")[0][0] == len(demo_guild.people(viewer=viewer))
    assert "mei.lin@acme.example" in dict(rows(db, "SELECT key, value FROM about"))["view"]
    db.close()


def test_the_export_is_the_same_from_postgres(exported, pg_demo, tmp_path):
    _, db = exported
    path = tmp_path / "pg.db"
    assert export(pg_demo, path) == 0
    other = sqlite3.connect(str(path))
    try:
        assert dict(rows(other, "SELECT key, value FROM about"))["database"] == "postgres"
        assert rows(other, "PRAGMA foreign_key_check") == []
        for table, order in (("teams", "name"), ("projects", "id"), ("people", "id"), ("topics", "id"),
                             ("project_topics", "project_id, topic_id"), ("project_people", "project_id, person_id, role")):
            assert rows(other, f"SELECT * FROM {table} ORDER BY {order}") == rows(db, f"SELECT * FROM {table} ORDER BY {order}"), table
        pairs = "SELECT a, b, round(score, 6), same_team, shared_topics FROM overlaps ORDER BY a, b"
        assert rows(other, pairs) == rows(db, pairs)
    finally:
        other.close()
