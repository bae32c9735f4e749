"""Settings from the environment and the one Slack Web API client factory.

Every GUILDBOT_* and SLACK_* variable is read through one typed settings object, `Environment`
(`environment()` reads it when called; defined in guildbot/config/environment.py because the
guild.toml loader, below this module, reads GUILDBOT_DATABASE and GUILDBOT_BACKEND from it).
Modules above take the variables from here, never from os.environ.

Secrets never live in guild.toml: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN and
SLACK_API_URL come from the environment, are checked here with messages naming the fix, and are
registered for masking. The Slack app, the digest and the syncs all build their client here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping


from connectors.common.redact import register_secret
from guildbot.config.environment import Environment, environment

if TYPE_CHECKING:  # slack_sdk is imported when a client is made, not on every CLI question's path
    from slack_sdk import WebClient

__all__ = ["Environment", "environment", "SlackSettings", "SlackConfigError", "make_client", "slack_api_url",
           "retry_handlers", "ENV_HELP", "DEFAULT_API_URL", "RATE_LIMIT", "RATE_LIMIT_RETRIES"]

RATE_LIMIT = 10  # questions per person per minute (GUILDBOT_SLACK_RATE_LIMIT; 0: no limit)
DEFAULT_API_URL = "https://slack.com/api/"
RATE_LIMIT_RETRIES = 3

ENV_HELP = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-...): api.slack.com/apps -> your app -> OAuth & Permissions "
                       "(install the app into the workspace first; see docs/slack.md)",
    "SLACK_SIGNING_SECRET": "api.slack.com/apps -> your app -> Basic Information -> App Credentials -> Signing Secret",
    "SLACK_APP_TOKEN": "an app-level token (xapp-...) with the connections:write scope: api.slack.com/apps -> your app "
                       "-> Basic Information -> App-Level Tokens (Socket Mode must be enabled)",
}


class SlackConfigError(Exception):
    """Missing or malformed Slack settings; the message says which and where to find them."""


@dataclass
class SlackSettings:
    bot_token: str
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = DEFAULT_API_URL
    rate_limit: int = RATE_LIMIT  # questions per user per minute; 0: no limit

    @classmethod
    def from_env(cls, socket_mode: bool = False, environ: Mapping[str, str] | None = None) -> "SlackSettings":
        """Tokens and secret from the environment (or `environ`): SLACK_BOT_TOKEN always, SLACK_SIGNING_SECRET
        for HTTP mode, SLACK_APP_TOKEN for Socket Mode; SLACK_API_URL optionally (default Slack's own)."""
        env = environment(environ)
        bot, app_token = env.slack_bot_token.get_secret_value(), env.slack_app_token.get_secret_value()
        secret = env.slack_signing_secret.get_secret_value()
        given = {"SLACK_BOT_TOKEN": bot, "SLACK_APP_TOKEN": app_token, "SLACK_SIGNING_SECRET": secret}
        need = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET"]
        problems = [f"{n} is not set; it is {ENV_HELP[n]}" for n in need if not given[n]]
        if bot.startswith("xapp-"):
            problems.append("SLACK_BOT_TOKEN holds an app-level token (xapp-...); it must be " + ENV_HELP["SLACK_BOT_TOKEN"])
        if socket_mode and app_token and not app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-; it is " + ENV_HELP["SLACK_APP_TOKEN"])
        rate = env.slack_rate_limit or str(RATE_LIMIT)
        if not rate.isdigit():
            problems.append(f"GUILDBOT_SLACK_RATE_LIMIT={rate!r} is not a whole number; set the questions each person "
                            f"may ask per minute (default {RATE_LIMIT}; 0 turns the limit off)")
            rate = str(RATE_LIMIT)
        try:
            api_url = slack_api_url(env)
        except ValueError as e:
            problems.append(str(e))
        if problems:
            mode = "Socket Mode" if socket_mode else "HTTP mode"
            raise SlackConfigError(f"cannot start the Slack bot in {mode}:\n" + "\n".join(f"  - {p}" for p in problems))
        for value in (bot, secret, app_token):
            register_secret(value)  # masked in every log line and message (connectors/common/redact.py)
        return cls(bot, secret, app_token, api_url, int(rate))


def retry_handlers() -> list:
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

    return [ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)]


def make_client(settings: SlackSettings) -> WebClient:
    """The Web API client: SLACK_API_URL as base, retried on connection errors and after 429."""
    from slack_sdk import WebClient

    return WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=15, retry_handlers=retry_handlers())


def slack_api_url(env: Environment) -> str:
    """SLACK_API_URL (default Slack's own), ending in a slash; ValueError naming the fix."""
    url = env.slack_api_url or DEFAULT_API_URL
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"SLACK_API_URL={url!r} is not an http(s) URL; leave it unset for {DEFAULT_API_URL}")
    return url if url.endswith("/") else url + "/"
