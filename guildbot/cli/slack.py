"""The Slack subcommands of the `guildbot` CLI: slack --socket, slack-console (serve is in web_cli.py).

    guildbot serve                                      HTTP mode, with the web app (web_cli.py)
    guildbot slack --socket                             Socket Mode (SLACK_APP_TOKEN), no public URL
    guildbot slack-console "/guild who recommender"     a signed slash command to a running server

Secrets come from the environment (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN);
SLACK_API_URL points the Web API client elsewhere (an enterprise proxy, a test server).
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guildbot.guild import Guild

from guildbot.cli.args import positive_seconds


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("slack", help="run the Slack bot over Socket Mode (no public URL needed)",
                       description="Run the Slack bot over Socket Mode. Needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN "
                                   "(an xapp- token with connections:write); see docs/slack.md.")
    s.add_argument("--socket", action="store_true", help="connect over Socket Mode (HTTP mode is `guildbot serve`)")
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    s = sub.add_parser("slack-console", help="send a signed slash command to a running `guildbot serve` and print the answer",
                       description="Try the bot without a workspace: sends the command as Slack would, signed with "
                                   "SLACK_SIGNING_SECRET, serves the response_url itself and prints the answer.")
    s.add_argument("line", metavar='"/guild ..."', help='e.g. "/guild who recommender"')
    s.add_argument("--url", default="http://127.0.0.1:3000/slack/events", help="the server's Slack endpoint")
    s.add_argument("--user", default="U0CONSOLE", help="Slack user id to send as")
    s.add_argument("--channel", default="C0CONSOLE", help="Slack channel id to send from")
    s.add_argument("--timeout", type=positive_seconds, default=30.0, help="seconds to wait for the answer (default 30)")


def _logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper()), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)


def _start(guild: "Guild", socket_mode: bool, command: str):
    """Settings, warm index and the Bolt app, or (None, exit code) after saying what is wrong."""
    from slack_bolt.error import BoltError

    from guildbot.slack.app import SlackConfigError, SlackSettings, build_app, warm_up

    try:
        settings = SlackSettings.from_env(socket_mode=socket_mode)
    except SlackConfigError as e:
        print(f"guildbot {command}: {e}", file=sys.stderr)
        return None, 2
    try:
        app = build_app(guild, settings)  # calls auth.test: a bad token or URL fails here, before the model loads
    except (BoltError, OSError) as e:
        print(f"guildbot {command}: Slack did not accept SLACK_BOT_TOKEN at {settings.api_url} ({e}); check the "
              "token (api.slack.com/apps -> your app -> OAuth & Permissions) and SLACK_API_URL", file=sys.stderr)
        return None, 2
    print(f"guildbot {command}: loading the index of {guild.config.name} ...", file=sys.stderr)
    if not warm_up(guild):
        print(f"guildbot {command}: warning: the index is empty; run `guildbot crawl` first", file=sys.stderr)
    return (settings, app), 0


def cmd_slack(guild: "Guild", args: argparse.Namespace) -> int:
    if not args.socket:
        print("guildbot slack: add --socket to connect over Socket Mode; for HTTP mode run `guildbot serve`",
              file=sys.stderr)
        return 2
    from guildbot.slack.app import socket_mode_handler

    _logging(args.log_level)
    started, code = _start(guild, True, "slack --socket")
    if not started:
        return code
    settings, app = started
    socket_mode_handler(app, settings).start()  # blocks until interrupted
    return 0


def cmd_slack_console(args: argparse.Namespace) -> int:
    from guildbot.slack.console import run
    return run(args.line, url=args.url, user=args.user, channel=args.channel, timeout=args.timeout)


COMMANDS = {"slack": cmd_slack}  # serve: web_cli.py
NO_GUILD = {"slack-console": cmd_slack_console}  # commands that need no guild.toml
