"""guild.toml: loading and validation.

Each section is a pydantic model (sections.py, syncs.py); this module reads the file, validates the
sections in order (a later one may check names declared by an earlier one: a source's team, a
project's sources) and assembles one Config. Every problem becomes one ConfigError naming the file,
the entry and the fix; the CLI prints it and exits 2. Secrets never live here: connectors read them
from environment variables, and GUILDBOT_DATABASE may carry the database password.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guildbot.config.database import ENV as DATABASE_ENV, check_url
from guildbot.config.environment import Environment, environment
from guildbot.config.errors import ConfigError, Invalid, validate
from guildbot.config.sections import (BACKENDS, DAYS, DEFAULT_MODEL, VECTOR_INDEXES, AliasRule, DigestConfig,  # noqa: F401
                                      GuildSection, OverlapsSection, PeopleSection, ProjectConfig, QueryLogConfig,
                                      SourceConfig, TeamConfig, WebConfig, find_team, resolve)
from guildbot.config.syncs import SyncsConfig  # cross-team syncs (issue 10)

SECTIONS = ("guild", "people", "teams", "sources", "web", "digest", "query_log", "projects", "overlaps", "syncs")


@dataclass
class Config:
    """guild.toml, validated: [guild]'s fields at the top, the other sections as their models."""

    path: Path
    name: str
    data_dir: Path
    model: str = DEFAULT_MODEL
    backend: str = BACKENDS[0]
    vector_index: str = "auto"
    exact_limit: int = 100_000
    directory: Path | None = None
    weekly_budget: int = 10  # [people] weekly_budget: suggestions a week before nearly-equal people go first
    tie_band: float = 0.1    # [people] tie_band: how near a score counts as nearly equal (a fraction)
    teams: list[TeamConfig] = field(default_factory=list)
    sources: list[SourceConfig] = field(default_factory=list)
    aliases: list[AliasRule] = field(default_factory=list)
    syncs: SyncsConfig = field(default_factory=SyncsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    query_log: QueryLogConfig = field(default_factory=QueryLogConfig)
    projects: list[ProjectConfig] = field(default_factory=list)
    overlaps_min_score: float = 0.5  # [overlaps] min_score: weaker pairs appear nowhere
    database: str = ""  # [guild] database / GUILDBOT_DATABASE: a Postgres URL, "" for the embedded index

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def team(self, name: str) -> TeamConfig | None:
        return find_team(self.teams, name)


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found",
                          "create it (see examples/guild.toml) or pass --config PATH to an existing file")
    except OSError as e:
        raise ConfigError(path, "", f"cannot read the file ({e.strerror})", "check the path and its permissions")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, "", "the file is not UTF-8 text", "save guild.toml as UTF-8")
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, "", f"not valid TOML: {e}", "fix the syntax at the line and column shown")


def _array(path: Path, entry: str, value: Any, fix: str) -> list:
    """An array of tables ([[teams]], [[sources]], [[people.aliases]]) as a list, or a ConfigError."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(path, entry, f"must be an array of tables, not {type(value).__name__}", fix)
    return value


def _named(table: str, i: int, item: Any) -> str:
    """"[[sources]] #3 (name = 'lightfm')", for messages."""
    return f"{table} #{i}" + (f" (name = {item.get('name')!r})" if isinstance(item, dict) and item.get("name") else "")


def load_config(path: str | Path, env: Environment | None = None) -> Config:
    """Read and validate guild.toml. Raises ConfigError with the cause and the fix.

    GUILDBOT_BACKEND and GUILDBOT_DATABASE (from `env`, else the process environment) override the file."""
    path = Path(path).absolute()
    data = _read(path)
    env = env or environment()
    for key in data:
        if key not in SECTIONS:
            raise ConfigError(path, f"[{key}]", "unknown section", f"use only {', '.join(sorted(SECTIONS))}")
    base = path.parent
    env_database = env.database.get_secret_value()

    guild = validate(GuildSection, data.get("guild", {}), path, "[guild]", {"database_from_env": bool(env_database)})
    if env.backend and env.backend not in BACKENDS:  # try another backend without editing the file (it re-embeds once)
        raise ConfigError(path, "environment GUILDBOT_BACKEND", f"unknown embedding backend {env.backend!r}",
                          f'set GUILDBOT_BACKEND to one of {", ".join(BACKENDS)}, or unset it')
    cfg = Config(path=path, name=guild.name, data_dir=resolve(base, guild.data_dir), model=guild.model,
                 backend=env.backend or guild.backend, vector_index=guild.vector_index, exact_limit=guild.exact_limit)

    people = validate(PeopleSection, data.get("people", {}), path, "[people]", {"base": base})
    cfg.directory = resolve(base, people.directory) if people.directory else None
    cfg.weekly_budget, cfg.tie_band = people.weekly_budget, people.tie_band
    for i, rule in enumerate(_array(path, "[[people.aliases]]", data.get("people", {}).get("aliases"),
                                    AliasRule.TABLE_FIX), 1):
        cfg.aliases.append(validate(AliasRule, rule, path, f"[[people.aliases]] #{i}"))

    for i, team in enumerate(_array(path, "[[teams]]", data.get("teams"), TeamConfig.TABLE_FIX), 1):
        cfg.teams.append(validate(TeamConfig, team, path, f"[[teams]] #{i}", {"teams": cfg.teams}))

    for i, raw in enumerate(_array(path, "[[sources]]", data.get("sources"), SourceConfig.TABLE_FIX), 1):
        entry = _named("[[sources]]", i, raw)
        source = validate(SourceConfig, raw, path, entry,
                          {"teams": cfg.teams, "source_names": {s.name for s in cfg.sources}})
        source.entry = entry
        cfg.sources.append(source)

    if data.get("syncs") is not None:
        cfg.syncs = validate(SyncsConfig, data["syncs"], path, "[syncs]")
    cfg.web = validate(WebConfig, data.get("web", {}), path, "[web]")
    cfg.digest = validate(DigestConfig, data.get("digest", {}), path, "[digest]", {"teams": cfg.teams})
    cfg.query_log = validate(QueryLogConfig, data.get("query_log", {}), path, "[query_log]")

    projects = data.get("projects") or []
    if not isinstance(projects, list):
        raise ConfigError(path, "[projects]", "must be a list of tables", "write each as [[projects]] with name and sources")
    for i, raw in enumerate(projects, 1):
        entry = _named("[[projects]]", i, raw)
        project = validate(ProjectConfig, raw, path, entry,
                           {"sources": cfg.sources, "projects": {p.name.casefold() for p in cfg.projects}})
        project.entry = entry
        cfg.projects.append(project)
    cfg.overlaps_min_score = validate(OverlapsSection, data.get("overlaps", {}), path, "[overlaps]").min_score

    if env_database:
        try:
            cfg.database = check_url(env_database, from_file=False)
        except Invalid as e:
            raise ConfigError(path, f"environment variable {DATABASE_ENV}", e.problem, e.fix) from None
    else:
        cfg.database = guild.database
    return cfg
