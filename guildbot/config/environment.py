"""Every GUILDBOT_* and SLACK_* environment variable guildbot reads, in one typed settings object.

A frozen dataclass filled from os.environ, not pydantic-settings' BaseSettings: importing
pydantic-settings (asyncio, dotenv and its CLI sources) cost 47 ms and building a pydantic model of
these strings 20 ms more in every command-line process, and a CLI question must not get slower
(make bench, scripts/bench_cli.py). Reading strings by name is all a settings library did here.

`environment()` reads them when called, never at import (tests set variables per test), or takes
them from an explicit mapping. Values are stripped (a password excepted); an empty variable counts as unset. Nothing is
checked here beyond that: each reader checks its own (guild.toml's loader GUILDBOT_DATABASE and
GUILDBOT_BACKEND, guildbot/settings.py the Slack variables), so a malformed Slack variable never
stops a crawl. It lives in config, the bottom layer, because the loader reads two of the variables;
the rest of guildbot takes it from guildbot/settings.py.
"""
from __future__ import annotations

from typing import Any, Mapping

import os
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from pydantic import SecretStr


def variable(name: str, help: str, secret: bool = False) -> Any:
    return field(default_factory=(lambda: SecretStr("")) if secret else (lambda: ""),
                 metadata={"name": name, "help": help, "secret": secret})


@dataclass(frozen=True)
class Environment:
    config: str = variable("GUILDBOT_CONFIG", "guild.toml to use when --config is not given")
    database: SecretStr = variable("GUILDBOT_DATABASE", "a Postgres URL overriding [guild] database; "
                                   "may carry the password", secret=True)
    backend: str = variable("GUILDBOT_BACKEND", "an embedding backend overriding [guild] backend")
    user: str = variable("GUILDBOT_USER", "who asks on the command line (an email), for the query log")
    caldav_username: str = variable("GUILDBOT_CALDAV_USERNAME", "the CalDAV user for [syncs] caldav_url")
    caldav_password: SecretStr = variable("GUILDBOT_CALDAV_PASSWORD", "the CalDAV password for [syncs] caldav_url",
                                          secret=True)
    slack_bot_token: SecretStr = variable("SLACK_BOT_TOKEN", "the Slack Bot User OAuth Token (xoxb-...)", secret=True)
    slack_signing_secret: SecretStr = variable("SLACK_SIGNING_SECRET", "the Slack app's signing secret", secret=True)
    slack_app_token: SecretStr = variable("SLACK_APP_TOKEN", "the Slack app-level token (xapp-...) for Socket Mode",
                                          secret=True)
    slack_api_url: str = variable("SLACK_API_URL", "the Slack Web API base URL (default Slack's own)")
    slack_rate_limit: str = variable("GUILDBOT_SLACK_RATE_LIMIT", "questions per person per minute (0: no limit)")

    @classmethod
    def names(cls) -> list[str]:
        """The variables, by name."""
        return [f.metadata["name"] for f in fields(cls)]

    @classmethod
    def read(cls, source: Mapping[str, str]) -> "Environment":
        """Surrounding blanks are a copying slip, except in a password, which is taken as it is."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = source.get(f.metadata["name"]) or ""
            value = raw if f.name == "caldav_password" else raw.strip()
            values[f.name] = SecretStr(value) if f.metadata["secret"] else value
        return cls(**values)


def environment(environ: Mapping[str, str] | Environment | None = None) -> Environment:
    """The variables from the process environment now, or from `environ` alone when given."""
    if isinstance(environ, Environment):
        return environ
    return Environment.read(os.environ if environ is None else environ)  # a mapping given: nothing else shows through
