"""guild.toml: loading and validation.

Every problem becomes one ConfigError naming the file, the entry and the fix; the CLI prints it
and exits 2. Secrets never live here: connectors read them from environment variables.
"""
from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors import KINDS, connector_class
from guildbot.config.database import database_url  # Postgres backend (issue 14)
from guildbot.config.errors import ConfigError, expect
from guildbot.config.syncs import parse_syncs  # cross-team syncs (issue 10)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("bf16", "onnx", "onnx-int8", "torch")  # index/embedding/embedder.py; the first is the default
VECTOR_INDEXES = ("auto", "flat", "ivf-sq8", "hnsw")  # index/storage/sqlite/vectors.py
SOURCE_COMMON = {"kind", "name", "team", "visibility"}


@dataclass
class TeamConfig:
    name: str
    slack_channel: str = ""


@dataclass
class SourceConfig:
    kind: str
    name: str
    team: str
    options: dict[str, Any]
    entry: str  # "[[sources]] #3 (name = 'lightfm')", for messages
    visibility: str | tuple[str, ...] = "public"  # or "team", or team names (index/people/visibility.py)


@dataclass
class AliasRule:
    """[[people.aliases]]: merge these identities into one person, or keep them apart."""

    identities: list[str]
    action: str = "merge"  # or "split"
    name: str = ""


DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass
class DigestConfig:
    """[digest]: where and when the weekly digest goes (guildbot/digest/service.py)."""

    channel: str = ""            # guild-wide channel, e.g. "#ml-guild"
    per_team: bool = False       # also each team's slack_channel, with that team's view
    day: str = "monday"
    time: str = "09:00"
    tz: str = "UTC"
    max_items: int = 5           # per section; the rest is on the web page
    min_overlap: float = 0.45    # overlap score from which a pair is worth announcing
    empty: str = "skip"          # a week with nothing to say: "skip" posts nothing, "line" posts one line
    web_url: str = ""            # the web app's base URL, for links to /digest/{week}


@dataclass
class QueryLogConfig:
    """[query_log]: the questions asked on every surface (index/retrieval/querylog.py)."""

    retention_days: int = 90
    weak_below: float = 0.45     # answer strength under which a question is a knowledge gap


@dataclass
class ProjectConfig:
    """[[projects]]: sources (source names, or 'source/Space' units) that make one catalog project."""

    name: str
    sources: list[str]
    entry: str = ""


@dataclass
class WebConfig:
    """[web]: who the web app trusts to say who is signed in."""

    auth: str = "none"  # or "proxy": the user comes from X-Forwarded-Email, set by a trusted proxy
    trusted_proxies: list[str] = field(default_factory=list)  # addresses or networks ("10.0.0.0/8")
    host: str = "127.0.0.1"  # where `guildbot serve` listens unless --host says otherwise


@dataclass
class Config:
    path: Path
    name: str
    data_dir: Path
    model: str = DEFAULT_MODEL
    backend: str = BACKENDS[0]
    vector_index: str = "auto"
    exact_limit: int = 100_000
    directory: Path | None = None
    teams: list[TeamConfig] = field(default_factory=list)
    sources: list[SourceConfig] = field(default_factory=list)
    aliases: list[AliasRule] = field(default_factory=list)
    syncs: Any = None  # guildbot.config.syncs.SyncsConfig
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
        return next((t for t in self.teams if t.name.casefold() == name.casefold()), None)


def _array(path: Path, entry: str, value: Any, fix: str) -> list:
    """An array of tables ([[teams]], [[sources]], [[people.aliases]]) as a list, or a ConfigError."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(path, entry, f"must be an array of tables, not {type(value).__name__}", fix)
    return value


def _resolve(base: Path, value: str) -> Path:
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() else (base / p)


def _speed_options(path: Path, guild: dict) -> dict[str, Any]:
    """[guild] backend, vector_index and exact_limit: how vectors are made and searched."""
    backend = expect(path, "[guild]", guild, "backend", str, False, f"use backend = one of {', '.join(BACKENDS)}")
    if backend is not None and backend not in BACKENDS:
        raise ConfigError(path, "[guild] backend", f"unknown embedding backend {backend!r}",
                          f'use one of {", ".join(BACKENDS)} (default "{BACKENDS[0]}"), or remove the line')
    if os.environ.get("GUILDBOT_BACKEND"):  # try another backend without editing the file (it re-embeds once)
        backend = os.environ["GUILDBOT_BACKEND"].strip()
        if backend not in BACKENDS:
            raise ConfigError(path, "environment GUILDBOT_BACKEND", f"unknown embedding backend {backend!r}",
                              f'set GUILDBOT_BACKEND to one of {", ".join(BACKENDS)}, or unset it')
    kind = expect(path, "[guild]", guild, "vector_index", str, False, f"use one of {', '.join(VECTOR_INDEXES)}")
    if kind is not None and kind not in VECTOR_INDEXES:
        raise ConfigError(path, "[guild] vector_index", f"unknown vector index {kind!r}",
                          f'use one of {", ".join(VECTOR_INDEXES)} (default "auto"), or remove the line')
    limit = expect(path, "[guild]", guild, "exact_limit", int, False, "set exact_limit = 100000 (chunks searched exactly)")
    if limit is not None and limit < 1:
        raise ConfigError(path, "[guild] exact_limit", f"must be a positive number of chunks, not {limit}",
                          "set exact_limit = 100000, or remove the line")
    return {"backend": backend or BACKENDS[0], "vector_index": kind or "auto",
            "exact_limit": limit if limit is not None else 100_000}


def load_config(path: str | Path) -> Config:
    """Read and validate guild.toml. Raises ConfigError with the cause and the fix."""
    path = Path(path).absolute()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found",
                          "create it (see examples/guild.toml) or pass --config PATH to an existing file")
    except OSError as e:
        raise ConfigError(path, "", f"cannot read the file ({e.strerror})", "check the path and its permissions")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, "", "the file is not UTF-8 text", "save guild.toml as UTF-8")
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, "", f"not valid TOML: {e}", "fix the syntax at the line and column shown")

    known = {"guild", "people", "teams", "sources", "web", "digest", "query_log", "projects", "overlaps", "syncs"}
    for key in data:
        if key not in known:
            raise ConfigError(path, f"[{key}]", "unknown section", f"use only {', '.join(sorted(known))}")
    guild = data.get("guild", {})
    if not isinstance(guild, dict):
        raise ConfigError(path, "[guild]", "must be a table", "write it as [guild] with name = \"...\"")
    base = path.parent
    name = expect(path, "[guild]", guild, "name", str, False, 'set name = "Your Company"') or "guild"
    data_dir = _resolve(base, expect(path, "[guild]", guild, "data_dir", str, False, 'set data_dir = ".guildbot"') or ".guildbot")
    model = expect(path, "[guild]", guild, "model", str, False,
                    "name a sentence-transformers model path, or remove it for the packaged all-MiniLM-L6-v2") or DEFAULT_MODEL
    cfg = Config(path=path, name=name, data_dir=data_dir, model=model, **_speed_options(path, guild))

    people = data.get("people", {})
    if not isinstance(people, dict):
        raise ConfigError(path, "[people]", "must be a table", 'write [people] with directory = "directory.csv"')
    directory = expect(path, "[people]", people, "directory", str, False, 'set directory = "directory.csv"')
    if directory:
        cfg.directory = _resolve(base, directory)
        if not cfg.directory.is_file():
            raise ConfigError(path, "[people] directory", f"cannot read the people directory {cfg.directory}",
                              "fix the path (relative paths start at guild.toml's folder) or remove the line")
    for i, rule in enumerate(_array(path, "[[people.aliases]]", people.get("aliases"),
                                    "write each rule as a [[people.aliases]] table"), 1):
        entry = f"[[people.aliases]] #{i}"
        if not isinstance(rule, dict):
            raise ConfigError(path, entry, "must be a table", "write each rule as a [[people.aliases]] table")
        ids = expect(path, entry, rule, "identities", list, True,
                      'list the identities to merge, e.g. identities = ["ada@corp.com", "wiki:ada"]')
        action = expect(path, entry, rule, "action", str, False, 'use action = "merge" or "split"') or "merge"
        if action not in ("merge", "split"):
            raise ConfigError(path, entry, f"unknown action {action!r}", 'use action = "merge" or "split"')
        cfg.aliases.append(AliasRule([str(x) for x in ids], action,
                                     expect(path, entry, rule, "name", str, False, "set name to a display name") or ""))

    for i, t in enumerate(_array(path, "[[teams]]", data.get("teams"), 'write [[teams]] with name = "..."'), 1):
        entry = f"[[teams]] #{i}"
        if not isinstance(t, dict):
            raise ConfigError(path, entry, "must be a table", 'write [[teams]] with name = "..."')
        tname = expect(path, entry, t, "name", str, True, 'give the team a name = "..."')
        if cfg.team(tname):
            raise ConfigError(path, entry, f"team {tname!r} is declared twice", "remove the duplicate [[teams]] entry")
        cfg.teams.append(TeamConfig(tname, expect(path, entry, t, "slack_channel", str, False, 'e.g. slack_channel = "#team"') or ""))

    seen: set[str] = set()
    team_names = ", ".join(repr(t.name) for t in cfg.teams) or "none yet"
    for i, s in enumerate(_array(path, "[[sources]]", data.get("sources"), "write each source as a [[sources]] table"), 1):
        entry = f"[[sources]] #{i}" + (f" (name = {s.get('name')!r})" if isinstance(s, dict) and s.get("name") else "")
        if not isinstance(s, dict):
            raise ConfigError(path, entry, "must be a table", "write each source as a [[sources]] table")
        kind = expect(path, entry, s, "kind", str, True, f"set kind to one of: {', '.join(KINDS)}")
        if kind not in KINDS:
            raise ConfigError(path, entry, f"unknown source kind {kind!r}", f"use one of: {', '.join(KINDS)}")
        sname = expect(path, entry, s, "name", str, True, 'give the source a unique name = "..."')
        if sname in seen:
            raise ConfigError(path, entry, f"duplicate source name {sname!r}", "give every [[sources]] entry its own name")
        seen.add(sname)
        team = expect(path, entry, s, "team", str, True, f"set team to one of the declared teams ({team_names})")
        if not cfg.team(team):
            raise ConfigError(path, entry, f"team {team!r} is not declared",
                              f'add [[teams]] name = "{team}", or use one of: {team_names}')
        try:
            cls = connector_class(kind)
        except ImportError as e:
            raise ConfigError(path, entry, f"the {kind} connector cannot be loaded ({e})", "reinstall guildbot: make install")
        accepted = {f.name: f for f in cls.fields}
        for key in s:
            if key not in SOURCE_COMMON and key not in accepted:
                raise ConfigError(path, entry, f"unknown field `{key}` for a {kind} source",
                                  f"{kind} sources accept: {', '.join(['kind', 'name', 'team', 'visibility', *accepted])}")
        options = {}
        for f in cls.fields:
            value = expect(path, entry, s, f.name, f.type, f.required, f"set `{f.name}`: {f.help}")
            if value is not None:
                options[f.name] = value
        cfg.sources.append(SourceConfig(kind, sname, cfg.team(team).name, options, entry,
                                        _visibility(path, entry, s, cfg)))
    cfg.syncs = parse_syncs(path, data.get("syncs"))
    cfg.web = _web_config(path, data.get("web", {}))
    cfg.digest = _digest(path, data.get("digest", {}), cfg)
    cfg.query_log = _query_log(path, data.get("query_log", {}))
    _load_projects(path, data, cfg)
    cfg.database = database_url(path, guild)
    return cfg


def _table(path: Path, name: str, value: Any, example: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(path, f"[{name}]", "must be a table", f"write it as [{name}] with {example}")
    return value


def _unknown_keys(path: Path, entry: str, table: dict, accepted: Any) -> None:
    for key in table:
        if key not in accepted:
            raise ConfigError(path, entry, f"unknown field `{key}`", f"{entry} accepts: {', '.join(accepted)}")


def _digest(path: Path, raw: Any, cfg: Config) -> DigestConfig:
    """[digest], validated: channel, per_team, day, time, tz, max_items, min_overlap, empty, web_url."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    entry, d = "[digest]", DigestConfig()
    raw = _table(path, "digest", raw, 'channel = "#ml-guild"')
    _unknown_keys(path, entry, raw, DigestConfig.__dataclass_fields__)
    channel = expect(path, entry, raw, "channel", str, False, 'e.g. channel = "#ml-guild" (or a channel id)')
    if channel is not None:
        if not re.fullmatch(r"#[\w.-]+|[CG][A-Z0-9]{6,}", channel.strip()):
            raise ConfigError(path, entry + " channel", f"{channel!r} is neither a #channel name nor a channel id",
                              'write channel = "#ml-guild" or the channel id, e.g. "C0123456789"')
        d.channel = channel.strip()
    d.per_team = bool(expect(path, entry, raw, "per_team", bool, False, "use per_team = true or false") or False)
    day = expect(path, entry, raw, "day", str, False, 'e.g. day = "monday"')
    if day is not None:
        if day.strip().casefold() not in DAYS:
            raise ConfigError(path, entry + " day", f"unknown day {day!r}", f"use one of: {', '.join(DAYS)}")
        d.day = day.strip().casefold()
    at = expect(path, entry, raw, "time", str, False, 'e.g. time = "09:00"')
    if at is not None:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", at.strip())
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            raise ConfigError(path, entry + " time", f"{at!r} is not a time of day", 'write 24-hour time, e.g. time = "09:00"')
        d.time = f"{int(m[1]):02d}:{m[2]}"
    tz = expect(path, entry, raw, "tz", str, False, 'e.g. tz = "Europe/London"')
    if tz is not None:
        try:
            ZoneInfo(tz.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(path, entry + " tz", f"unknown time zone {tz!r}",
                              'use an IANA zone name such as "Europe/London", "America/New_York" or "UTC"')
        d.tz = tz.strip()
    n = expect(path, entry, raw, "max_items", int, False, "e.g. max_items = 5")
    if n is not None:
        if not 1 <= n <= 20:
            raise ConfigError(path, entry + " max_items", f"max_items = {n} is out of range", "use a number from 1 to 20")
        d.max_items = n
    score = expect(path, entry, raw, "min_overlap", (int, float), False, "e.g. min_overlap = 0.45")
    if score is not None:
        d.min_overlap = float(score)
    empty = expect(path, entry, raw, "empty", str, False, 'use empty = "skip" or "line"')
    if empty is not None:
        if empty not in ("skip", "line"):
            raise ConfigError(path, entry + " empty", f"unknown value {empty!r}",
                              'use "skip" (post nothing in a quiet week) or "line" (post one line)')
        d.empty = empty
    web = expect(path, entry, raw, "web_url", str, False, 'e.g. web_url = "https://guild.acme.example"')
    if web is not None:
        if not re.match(r"^https?://[^/\s]+", web.strip()):
            raise ConfigError(path, entry + " web_url", f"{web!r} is not an http(s) URL",
                              'write the web app\'s address, e.g. web_url = "https://guild.acme.example"')
        d.web_url = web.strip().rstrip("/")
    if d.per_team and not any(t.slack_channel for t in cfg.teams):
        raise ConfigError(path, entry + " per_team", "per_team = true but no team declares a slack_channel",
                          'add slack_channel = "#team" to the [[teams]] that should get their own digest')
    return d


def _query_log(path: Path, raw: Any) -> QueryLogConfig:
    entry, q = "[query_log]", QueryLogConfig()
    raw = _table(path, "query_log", raw, "retention_days = 90")
    _unknown_keys(path, entry, raw, QueryLogConfig.__dataclass_fields__)
    days = expect(path, entry, raw, "retention_days", int, False, "e.g. retention_days = 90")
    if days is not None:
        if days < 1:
            raise ConfigError(path, entry + " retention_days", f"retention_days = {days} keeps nothing",
                              "use a number of days of at least 1")
        q.retention_days = days
    weak = expect(path, entry, raw, "weak_below", (int, float), False, "e.g. weak_below = 0.45")
    if weak is not None:
        q.weak_below = float(weak)
    return q


def _visibility(path: Path, entry: str, source: dict, cfg: Config) -> str | tuple[str, ...]:
    """A source's `visibility`: "public" (the default), "team", or a list of declared team names."""
    fix = 'use visibility = "public", "team" (its own team only) or a list of teams, e.g. ["Risk", "ML Platform"]'
    value = expect(path, entry, source, "visibility", (str, list), False, fix)
    if value is None:
        return "public"
    if isinstance(value, str):
        if value not in ("public", "team"):
            raise ConfigError(path, entry, f"unknown visibility {value!r}", fix)
        return value
    if not value:
        raise ConfigError(path, entry, "visibility is an empty list: nobody but the owner could see the source", fix)
    names = []
    for t in value:
        if not isinstance(t, str) or not cfg.team(t):
            declared = ", ".join(repr(x.name) for x in cfg.teams) or "none yet"
            raise ConfigError(path, entry, f"visibility names {t!r}, which is not a declared team",
                              f"name declared teams ({declared}), or add a [[teams]] entry")
        names.append(cfg.team(t).name)
    return tuple(dict.fromkeys(names))


def _load_projects(path: Path, data: dict, cfg: Config) -> None:
    """[[projects]] (several sources that are one project) and [overlaps] min_score."""
    names = {s.name.casefold() for s in cfg.sources}
    listed = ", ".join(s.name for s in cfg.sources) or "none yet"
    declared: set[str] = set()
    projects = data.get("projects", []) or []
    if not isinstance(projects, list):
        raise ConfigError(path, "[projects]", "must be a list of tables", 'write each as [[projects]] with name and sources')
    for i, p in enumerate(projects, 1):
        entry = f"[[projects]] #{i}" + (f" (name = {p.get('name')!r})" if isinstance(p, dict) and p.get("name") else "")
        if not isinstance(p, dict):
            raise ConfigError(path, entry, "must be a table", 'write [[projects]] with name = "..." and sources = [...]')
        for key in p:
            if key not in ("name", "sources"):
                raise ConfigError(path, entry, f"unknown field `{key}`", "[[projects]] accepts: name, sources")
        pname = expect(path, entry, p, "name", str, True, 'give the project a name = "..."').strip()
        if not pname or pname.casefold() in declared:
            raise ConfigError(path, entry, f"project name {pname!r} is empty or declared twice", "give each project its own name")
        declared.add(pname.casefold())
        sources = expect(path, entry, p, "sources", list, True,
                          'list its sources, e.g. sources = ["darts", "wiki-forecasting/Darts"]')
        if not sources or not all(isinstance(x, str) and x.strip() for x in sources):
            raise ConfigError(path, entry, "`sources` must be a non-empty list of source names",
                              'e.g. sources = ["darts", "wiki-forecasting/Darts"]')
        for x in sources:
            if x.split("/", 1)[0].casefold() not in names:
                raise ConfigError(path, entry, f"{x!r} names no configured source",
                                  f"use a source name, or 'source/Space' for one wiki space; sources: {listed}")
        cfg.projects.append(ProjectConfig(pname, [x.strip() for x in sources], entry))
    overlaps = data.get("overlaps", {})
    if not isinstance(overlaps, dict):
        raise ConfigError(path, "[overlaps]", "must be a table", "write [overlaps] with min_score = 0.5")
    for key in overlaps:
        if key != "min_score":
            raise ConfigError(path, "[overlaps]", f"unknown field `{key}`", "[overlaps] accepts: min_score")
    fix = "set min_score to a number from 0 to 1 (default 0.5): pairs below it appear nowhere"
    score = expect(path, "[overlaps]", overlaps, "min_score", (int, float), False, fix)
    if score is not None:
        if isinstance(score, bool) or not 0 <= score <= 1:
            raise ConfigError(path, "[overlaps] min_score", f"{score!r} is not between 0 and 1", fix)
        cfg.overlaps_min_score = float(score)


def _web_config(path: Path, web: Any) -> WebConfig:
    """[web] auth, trusted_proxies, host."""
    if not isinstance(web, dict):
        raise ConfigError(path, "[web]", "must be a table", 'write [web] with auth = "none" or auth = "proxy"')
    for key in web:
        if key not in ("auth", "trusted_proxies", "host"):
            raise ConfigError(path, "[web]", f"unknown field `{key}`", "[web] accepts: auth, trusted_proxies, host")
    auth = expect(path, "[web]", web, "auth", str, False, 'use auth = "none" or auth = "proxy"') or "none"
    if auth not in ("none", "proxy"):
        raise ConfigError(path, "[web] auth", f"unknown auth {auth!r}", 'use auth = "none" or auth = "proxy"')
    proxies = expect(path, "[web]", web, "trusted_proxies", list, False,
                      'list the proxy addresses, e.g. trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]') or []
    for p in proxies:
        try:
            ipaddress.ip_network(str(p), strict=False)
        except ValueError:
            raise ConfigError(path, "[web] trusted_proxies", f"{p!r} is not an IP address or network",
                              'write addresses or networks, e.g. ["127.0.0.1", "10.0.0.0/8"]')
    if auth == "proxy" and not proxies:
        raise ConfigError(path, "[web] trusted_proxies", 'auth = "proxy" needs the addresses of the proxy',
                          'add trusted_proxies = ["<your proxy\'s address>"], e.g. ["127.0.0.1"]')
    host = expect(path, "[web]", web, "host", str, False, 'e.g. host = "127.0.0.1"') or "127.0.0.1"
    return WebConfig(auth, [str(p) for p in proxies], host)
