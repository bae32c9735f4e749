"""Every GUILDBOT_* and SLACK_* environment variable guildbot reads, in one pydantic-settings object.

`environment()` reads them when called, never at import (tests set variables per test), or takes
them from an explicit mapping. Values are stripped (a password excepted); an empty variable counts as unset. Nothing is
checked here beyond that: each reader checks its own (guild.toml's loader GUILDBOT_DATABASE and
GUILDBOT_BACKEND, guildbot/settings.py the Slack variables), so a malformed Slack variable never
stops a crawl. It lives in config, the bottom layer, because the loader reads two of the variables;
the rest of guildbot takes it from guildbot/settings.py.
"""
from __future__ import annotations

from typing import Any, Mapping

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def variable(name: str, help: str, secret: bool = False) -> Any:
    return Field(SecretStr("") if secret else "", validation_alias=name, description=help)


class Environment(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", env_ignore_empty=False)

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

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: Any, info: ValidationInfo) -> Any:
        """Surrounding blanks are a copying slip, except in a password, which is taken as it is."""
        return value.strip() if isinstance(value, str) and info.field_name != "caldav_password" else value

    @classmethod
    def names(cls) -> list[str]:
        """The variables, by name."""
        return [f.validation_alias for f in cls.model_fields.values()]


def environment(environ: Mapping[str, str] | Environment | None = None) -> Environment:
    """The variables from the process environment now, or from `environ` alone when given."""
    if isinstance(environ, Environment):
        return environ
    if environ is None:
        return Environment()
    # every field given explicitly, so nothing of the process environment shows through
    return Environment(**{name: environ.get(name) or "" for name in Environment.names()})
