"""The sections of guild.toml as pydantic models, one per section ([syncs] is in syncs.py).

Each field carries its fix as `description`; a section's own checks raise Invalid(problem, fix).
Checks that need another section (a source's team, a project's sources) read it from the
validation context the loader passes. A source's kind-specific fields are declared by its connector
(`fields`, connectors/base.py Field) and become a pydantic model here (`options_model`).
"""
from __future__ import annotations

import dataclasses
import functools
import ipaddress
import os
import re
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, create_model, field_validator, model_validator
from pydantic.dataclasses import dataclass

from connectors import KINDS, connector_class
from connectors.base import Field as ConnectorField
from guildbot.config.database import FIX as DATABASE_FIX, file_database
from guildbot.config.errors import FORBID, IGNORE, Flag, Invalid, List, Number, Section, Text, Whole, describe

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("bf16", "onnx", "onnx-int8", "torch")  # index/embedding/embedder.py; the first is the default
VECTOR_INDEXES = ("auto", "flat", "ivf-sq8", "hnsw")  # index/storage/sqlite/vectors.py
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SOURCE_COMMON = ("kind", "name", "team", "visibility")


def resolve(base: Path, value: str) -> Path:
    """A path from guild.toml: ~ expanded, relative to guild.toml's folder."""
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() else (base / p)


def _context(info: ValidationInfo) -> dict:
    return info.context or {}


@dataclass(config=IGNORE)
class GuildSection(Section):
    """[guild]: the guild's name, where its index lives, and how vectors are made and searched.
    Read into Config's top-level fields (name, data_dir, model, backend, ...)."""

    TABLE, TABLE_FIX = "[guild]", 'write it as [guild] with name = "..."'

    name: Text = Field("guild", description='set name = "Your Company"')
    data_dir: Text = Field(".guildbot", description='set data_dir = ".guildbot"')
    model: Text = Field(DEFAULT_MODEL, description="name a sentence-transformers model path, or remove it for the "
                                                   "packaged all-MiniLM-L6-v2")
    backend: Text = Field(BACKENDS[0], description=f"use backend = one of {', '.join(BACKENDS)}")
    vector_index: Text = Field("auto", description=f"use one of {', '.join(VECTOR_INDEXES)}")
    exact_limit: Whole = Field(100_000, description="set exact_limit = 100000 (chunks searched exactly)")
    database: Text = Field("", description=DATABASE_FIX)  # GUILDBOT_DATABASE overrides it (the loader)

    @field_validator("name", "data_dir", "model")
    @classmethod
    def _empty_is_default(cls, value: str, info: ValidationInfo) -> str:
        """An empty string means the default, as if the line were not there."""
        return value or cls.__pydantic_fields__[info.field_name].default

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        if value not in BACKENDS:
            raise Invalid(f"unknown embedding backend {value!r}",
                          f'use one of {", ".join(BACKENDS)} (default "{BACKENDS[0]}"), or remove the line')
        return value

    @field_validator("vector_index")
    @classmethod
    def _vector_index(cls, value: str) -> str:
        if value not in VECTOR_INDEXES:
            raise Invalid(f"unknown vector index {value!r}",
                          f'use one of {", ".join(VECTOR_INDEXES)} (default "auto"), or remove the line')
        return value

    @field_validator("exact_limit")
    @classmethod
    def _exact_limit(cls, value: int) -> int:
        if value < 1:
            raise Invalid(f"must be a positive number of chunks, not {value}", "set exact_limit = 100000, or remove the line")
        return value

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: Any, info: ValidationInfo) -> str:
        if _context(info).get("database_from_env"):  # the environment overrides the file, unread
            return ""
        return file_database(value)


@dataclass(config=IGNORE)
class PeopleSection(Section):
    """[people]: the people directory (its [[people.aliases]] are AliasRule)."""

    TABLE, TABLE_FIX = "[people]", 'write [people] with directory = "directory.csv"'

    directory: Text = Field("", description='set directory = "directory.csv"')
    # load (issue 26): suggested more than this many times in 7 days, a person gives way to someone of nearly
    # equal score (within tie_band of their score, a fraction); 0 turns the budget off
    weekly_budget: Whole = Field(10, description="e.g. weekly_budget = 10 (0: no budget)")
    tie_band: Number = Field(0.1, description="e.g. tie_band = 0.1 (a tenth of the score)")

    @field_validator("weekly_budget")
    @classmethod
    def _budget(cls, value: int) -> int:
        if value < 0:
            raise Invalid(f"weekly_budget = {value} is negative", "use a number of suggestions a week, or 0 for no budget")
        return value

    @field_validator("tie_band")
    @classmethod
    def _tie_band(cls, value: float) -> float:
        if not 0 <= value < 1:
            raise Invalid(f"tie_band = {value} is not a fraction of a score",
                          "use a number from 0 to below 1, e.g. tie_band = 0.1")
        return float(value)

    @field_validator("directory")
    @classmethod
    def _directory(cls, value: str, info: ValidationInfo) -> str:
        base = _context(info).get("base")
        if value and base is not None and not resolve(base, value).is_file():
            raise Invalid(f"cannot read the people directory {resolve(base, value)}",
                          "fix the path (relative paths start at guild.toml's folder) or remove the line")
        return value


@dataclass(config=IGNORE)
class AliasRule(Section):
    """[[people.aliases]]: merge these identities into one person, or keep them apart."""

    TABLE, TABLE_FIX, FIELD_IN_ENTRY = "[[people.aliases]]", "write each rule as a [[people.aliases]] table", False

    identities: List = Field(description='list the identities to merge, e.g. identities = ["ada@corp.com", "wiki:ada"]')
    action: Text = Field("merge", description='use action = "merge" or "split"')
    name: Text = Field("", description="set name to a display name")

    @field_validator("identities")
    @classmethod
    def _identities(cls, value: list) -> list[str]:
        return [str(x) for x in value]

    @field_validator("action")
    @classmethod
    def _action(cls, value: str) -> str:
        value = value or "merge"
        if value not in ("merge", "split"):
            raise Invalid(f"unknown action {value!r}", 'use action = "merge" or "split"')
        return value


@dataclass(config=IGNORE)
class TeamConfig(Section):
    """[[teams]]: a team, and the Slack channel of its digest."""

    TABLE, TABLE_FIX, FIELD_IN_ENTRY = "[[teams]]", 'write [[teams]] with name = "..."', False

    name: Text = Field(description='give the team a name = "..."')
    slack_channel: Text = Field("", description='e.g. slack_channel = "#team"')

    @field_validator("name")
    @classmethod
    def _once(cls, value: str, info: ValidationInfo) -> str:
        if find_team(_context(info).get("teams", ()), value):
            raise Invalid(f"team {value!r} is declared twice", "remove the duplicate [[teams]] entry")
        return value


def find_team(teams: Any, name: str) -> TeamConfig | None:
    return next((t for t in teams if t.name.casefold() == name.casefold()), None)


def _team_names(context: dict) -> str:
    return ", ".join(repr(t.name) for t in context.get("teams", ())) or "none yet"


class SourceOptions(BaseModel, Section):
    """A source kind's own fields, made from its connector's `fields` by options_model."""

    model_config = FORBID
    KIND: ClassVar[str] = ""

    @classmethod
    def unknown(cls, key: str, context: dict) -> tuple[str, str]:
        return (f"unknown field `{key}` for a {cls.KIND} source",
                f"{cls.KIND} sources accept: {', '.join([*SOURCE_COMMON, *cls.keys()])}")


OPTION_TYPES = {str: Text, int: Whole, float: Number, bool: Flag, list: List}


@functools.cache
def options_model(kind: str, fields: tuple[ConnectorField, ...]) -> type[SourceOptions]:
    """The pydantic model of a source kind's fields: the connector declares them, the config reads them."""
    def annotation(typ: Any) -> Any:
        if isinstance(typ, tuple):
            return functools.reduce(lambda a, b: a | b, (OPTION_TYPES.get(t, t) for t in typ))
        return OPTION_TYPES.get(typ, typ)

    model = create_model(f"{kind.capitalize()}Options", __base__=SourceOptions, **{
        f.name: (annotation(f.type), Field(... if f.required else None, description=f"set `{f.name}`: {f.help}"))
        for f in fields})
    model.KIND = kind
    return model


@dataclass(config=FORBID)
class SourceConfig(Section):
    """[[sources]]: one source. The table is flat; its kind-specific fields are gathered in `options`,
    validated against the connector's declared fields."""

    TABLE, TABLE_FIX, FIELD_IN_ENTRY = "[[sources]]", "write each source as a [[sources]] table", False

    kind: Text = Field(description=f"set kind to one of: {', '.join(KINDS)}")
    name: Text = Field(description='give the source a unique name = "..."')
    team: Text = Field(description="set team to one of the declared teams")  # the names: fix_for
    options: dict[str, Any] = Field(default_factory=dict)
    visibility: Text | List = Field("public", description='use visibility = "public", "team" (its own team only) or '
                                                          'a list of teams, e.g. ["Risk", "ML Platform"]')
    # -> "public", "team", or a tuple of declared team names (index/people/visibility.py)
    entry: str = dataclasses.field(default="", init=False)  # "[[sources]] #3 (name = 'lightfm')", for messages

    @classmethod
    def fix_for(cls, key: str, context: dict) -> str:
        if key == "team":
            return f"set team to one of the declared teams ({_team_names(context)})"
        return super().fix_for(key, context)

    @model_validator(mode="before")
    @classmethod
    def _gather_options(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        return {**{k: raw[k] for k in SOURCE_COMMON if k in raw},
                "options": {k: v for k, v in raw.items() if k not in SOURCE_COMMON}}

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise Invalid(f"unknown source kind {value!r}", f"use one of: {', '.join(KINDS)}")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str, info: ValidationInfo) -> str:
        if value in _context(info).get("source_names", ()):
            raise Invalid(f"duplicate source name {value!r}", "give every [[sources]] entry its own name")
        return value

    @field_validator("team")
    @classmethod
    def _team(cls, value: str, info: ValidationInfo) -> str:
        context = _context(info)
        if "teams" not in context:
            return value
        team = find_team(context["teams"], value)
        if team is None:
            raise Invalid(f"team {value!r} is not declared",
                          f'add [[teams]] name = "{value}", or use one of: {_team_names(context)}')
        return team.name

    @field_validator("options")
    @classmethod
    def _options(cls, value: dict, info: ValidationInfo) -> dict:
        kind = info.data.get("kind")
        if kind is None:  # the kind is wrong: that is the problem reported
            return value
        try:
            connector = connector_class(kind)
        except ImportError as e:
            raise Invalid(f"the {kind} connector cannot be loaded ({e})", "reinstall guildbot: make install")
        model = options_model(kind, tuple(connector.fields))
        try:
            return model.model_validate(value).model_dump(exclude_unset=True)
        except ValidationError as e:
            _, problem, fix = describe(e, model, value, _context(info))
            raise Invalid(problem, fix) from None

    @field_validator("visibility")
    @classmethod
    def _visibility(cls, value: str | list, info: ValidationInfo) -> str | tuple[str, ...]:
        fix = cls.fix_for("visibility", {})
        if isinstance(value, str):
            if value not in ("public", "team"):
                raise Invalid(f"unknown visibility {value!r}", fix)
            return value
        if not value:
            raise Invalid("visibility is an empty list: nobody but the owner could see the source", fix)
        if "teams" not in _context(info):
            return tuple(value)
        teams, names = _context(info)["teams"], []
        for t in value:
            team = find_team(teams, t) if isinstance(t, str) else None
            if team is None:
                raise Invalid(f"visibility names {t!r}, which is not a declared team",
                              f"name declared teams ({_team_names(_context(info))}), or add a [[teams]] entry")
            names.append(team.name)
        return tuple(dict.fromkeys(names))


@dataclass(config=FORBID)
class ProjectConfig(Section):
    """[[projects]]: sources (source names, or 'source/Space' units) that make one catalog project."""

    TABLE, FIELD_IN_ENTRY = "[[projects]]", False
    TABLE_FIX = 'write [[projects]] with name = "..." and sources = [...]'

    name: Text = Field(description='give the project a name = "..."')
    sources: List = Field(description='list its sources, e.g. sources = ["darts", "wiki-forecasting/Darts"]')
    entry: str = dataclasses.field(default="", init=False)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if not value or value.casefold() in _context(info).get("projects", ()):
            raise Invalid(f"project name {value!r} is empty or declared twice", "give each project its own name")
        return value

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: list, info: ValidationInfo) -> list[str]:
        if not value or not all(isinstance(x, str) and x.strip() for x in value):
            raise Invalid("`sources` must be a non-empty list of source names",
                          'e.g. sources = ["darts", "wiki-forecasting/Darts"]')
        sources = _context(info).get("sources")
        if sources is not None:
            names = {s.name.casefold() for s in sources}
            listed = ", ".join(s.name for s in sources) or "none yet"
            for x in value:
                if x.split("/", 1)[0].casefold() not in names:
                    raise Invalid(f"{x!r} names no configured source",
                                  f"use a source name, or 'source/Space' for one wiki space; sources: {listed}")
        return [x.strip() for x in value]


OVERLAPS_FIX = "set min_score to a number from 0 to 1 (default 0.5): pairs below it appear nowhere"


@dataclass(config=FORBID)
class OverlapsSection(Section):
    """[overlaps]: min_score, under which a pair of projects appears nowhere (Config.overlaps_min_score)."""

    TABLE, TABLE_FIX = "[overlaps]", "write [overlaps] with min_score = 0.5"

    min_score: Number = Field(0.5, description=OVERLAPS_FIX)

    @field_validator("min_score")
    @classmethod
    def _min_score(cls, value: float) -> float:
        if not 0 <= value <= 1:
            raise Invalid(f"{value!r} is not between 0 and 1", OVERLAPS_FIX)
        return float(value)


WEB_PROXIES_EXAMPLE = '["127.0.0.1", "10.0.0.0/8"]'


@dataclass(config=FORBID)
class WebConfig(Section):
    """[web]: who the web app trusts to say who is signed in."""

    TABLE, TABLE_FIX = "[web]", 'write [web] with auth = "none" or auth = "proxy"'

    # "none", or "proxy": the user comes from X-Forwarded-Email, set by a trusted proxy
    auth: Text = Field("none", description='use auth = "none" or auth = "proxy"')
    trusted_proxies: List = Field(default_factory=list, validate_default=True,  # addresses or networks
                                  description=f"list the proxy addresses, e.g. trusted_proxies = {WEB_PROXIES_EXAMPLE}")
    host: Text = Field("127.0.0.1", description='e.g. host = "127.0.0.1"')  # where `guildbot serve` listens

    @field_validator("auth")
    @classmethod
    def _auth(cls, value: str) -> str:
        value = value or "none"
        if value not in ("none", "proxy"):
            raise Invalid(f"unknown auth {value!r}", 'use auth = "none" or auth = "proxy"')
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list, info: ValidationInfo) -> list[str]:
        for p in value:
            try:
                ipaddress.ip_network(str(p), strict=False)
            except ValueError:
                raise Invalid(f"{p!r} is not an IP address or network",
                              f"write addresses or networks, e.g. {WEB_PROXIES_EXAMPLE}") from None
        if info.data.get("auth") == "proxy" and not value:
            raise Invalid('auth = "proxy" needs the addresses of the proxy',
                          'add trusted_proxies = ["<your proxy\'s address>"], e.g. ["127.0.0.1"]')
        return [str(p) for p in value]

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return value or "127.0.0.1"


@dataclass(config=FORBID)
class DigestConfig(Section):
    """[digest]: where and when the weekly digest goes (guildbot/digest/service.py)."""

    TABLE, TABLE_FIX = "[digest]", 'write it as [digest] with channel = "#ml-guild"'

    channel: Text = Field("", description='e.g. channel = "#ml-guild" (or a channel id)')  # guild-wide channel
    per_team: Flag = Field(False, description="use per_team = true or false")  # also each team's slack_channel
    day: Text = Field("monday", description='e.g. day = "monday"')
    time: Text = Field("09:00", description='e.g. time = "09:00"')
    tz: Text = Field("UTC", description='e.g. tz = "Europe/London"')
    max_items: Whole = Field(5, description="e.g. max_items = 5")  # per section; the rest is on the web page
    min_overlap: Number = Field(0.45, description="e.g. min_overlap = 0.45")  # a pair worth announcing
    empty: Text = Field("skip", description='use empty = "skip" or "line"')  # a quiet week: post nothing, or a line
    web_url: Text = Field("", description='e.g. web_url = "https://guild.acme.example"')  # for links to /digest/{week}

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if not re.fullmatch(r"#[\w.-]+|[CG][A-Z0-9]{6,}", value.strip()):
            raise Invalid(f"{value!r} is neither a #channel name nor a channel id",
                          'write channel = "#ml-guild" or the channel id, e.g. "C0123456789"')
        return value.strip()

    @field_validator("per_team")
    @classmethod
    def _per_team(cls, value: bool, info: ValidationInfo) -> bool:
        teams = _context(info).get("teams")
        if value and teams is not None and not any(t.slack_channel for t in teams):
            raise Invalid("per_team = true but no team declares a slack_channel",
                          'add slack_channel = "#team" to the [[teams]] that should get their own digest')
        return value

    @field_validator("day")
    @classmethod
    def _day(cls, value: str) -> str:
        if value.strip().casefold() not in DAYS:
            raise Invalid(f"unknown day {value!r}", f"use one of: {', '.join(DAYS)}")
        return value.strip().casefold()

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            raise Invalid(f"{value!r} is not a time of day", 'write 24-hour time, e.g. time = "09:00"')
        return f"{int(m[1]):02d}:{m[2]}"

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"unknown time zone {value!r}",
                          'use an IANA zone name such as "Europe/London", "America/New_York" or "UTC"') from None
        return value.strip()

    @field_validator("max_items")
    @classmethod
    def _max_items(cls, value: int) -> int:
        if not 1 <= value <= 20:
            raise Invalid(f"max_items = {value} is out of range", "use a number from 1 to 20")
        return value

    @field_validator("min_overlap")
    @classmethod
    def _min_overlap(cls, value: float) -> float:
        return float(value)

    @field_validator("empty")
    @classmethod
    def _empty(cls, value: str) -> str:
        if value not in ("skip", "line"):
            raise Invalid(f"unknown value {value!r}", 'use "skip" (post nothing in a quiet week) or "line" (post one line)')
        return value

    @field_validator("web_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value.strip()):
            raise Invalid(f"{value!r} is not an http(s) URL",
                          'write the web app\'s address, e.g. web_url = "https://guild.acme.example"')
        return value.strip().rstrip("/")


@dataclass(config=FORBID)
class QueryLogConfig(Section):
    """[query_log]: the questions asked on every surface (index/retrieval/querylog.py)."""

    TABLE, TABLE_FIX = "[query_log]", "write it as [query_log] with retention_days = 90"

    retention_days: Whole = Field(90, description="e.g. retention_days = 90")
    # answer strength under which a question is a knowledge gap: by default search's relevance floor
    # (index/retrieval/floor.py RELEVANCE_FLOOR; written here so reading guild.toml loads no retrieval code)
    weak_below: Number = Field(0.30, description="e.g. weak_below = 0.30")

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value < 1:
            raise Invalid(f"retention_days = {value} keeps nothing", "use a number of days of at least 1")
        return value

    @field_validator("weak_below")
    @classmethod
    def _weak_below(cls, value: float) -> float:
        return float(value)
