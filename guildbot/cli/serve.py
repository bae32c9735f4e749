"""`guildbot serve`: the web app and, when the Slack variables are set, Slack's endpoint, in one process.

    guildbot serve [--host H] [--port 3000]     web pages at /, JSON at /api/, Slack at /slack/events

Without SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET the web app starts alone and says so; with only
one of them set, serve stops and names the one missing (a half-configured bot is a mistake).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from guildbot.cli.args import port_number
from guildbot.settings import environment

SERVE_HELP = "serve the web app (/ and /api/) and, when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set, the Slack bot"


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("serve", help=SERVE_HELP, description=SERVE_HELP + " at POST /slack/events; see docs/slack.md.")
    s.add_argument("--host", default=None, help="address to listen on (default: [web] host in guild.toml, else 127.0.0.1)")
    s.add_argument("--port", type=port_number, default=3000, help="port to listen on (default 3000)")
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def slack_wanted(environ: Any = None) -> bool:
    """SLACK_BOT_TOKEN or SLACK_SIGNING_SECRET is set: `serve` starts the Slack bot too."""
    env = environment(environ)
    return bool(env.slack_bot_token.get_secret_value() or env.slack_signing_secret.get_secret_value())


def cmd_serve(guild: Any, args: argparse.Namespace) -> int:
    import uvicorn

    from guildbot.slack.app import warm_up
    from guildbot.cli.slack import _logging, _start
    from guildbot.web.app import SLACK_PATH, create_app

    _logging(args.log_level)
    host = args.host or guild.config.web.host
    slack_app = None
    if slack_wanted():
        started, code = _start(guild, False, "serve")  # names any missing variable, checks the token, warms up
        if not started:
            return code
        slack_app = started[1]
    else:
        print("guildbot serve: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set, so Slack is off: serving the "
              "web app alone", file=sys.stderr)
        print(f"guildbot serve: loading the index of {guild.config.name} ...", file=sys.stderr)
        if not warm_up(guild):
            print("guildbot serve: warning: the index is empty; run `guildbot crawl` first", file=sys.stderr)
    if guild.config.web.auth == "none" and host not in ("127.0.0.1", "localhost", "::1"):
        print(f"guildbot serve: warning: listening on {host} with [web] auth = \"none\": anyone who reaches this "
              "address can read the index; put it behind a sign-in proxy (auth = \"proxy\")", file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    print(f"guildbot serve: web app at http://{shown}:{args.port}/  (JSON API at /api/docs)", file=sys.stderr)
    if slack_app is not None:
        print(f"guildbot serve: Slack Request URL http://{shown}:{args.port}{SLACK_PATH}", file=sys.stderr)
    from guildbot.jobs.scheduler import start_for
    scheduler = start_for(guild)  # the weekly digest and the sync cycle, when configured with a bot token
    try:
        uvicorn.run(create_app(guild, slack_app), host=host, port=args.port, log_level=args.log_level)
    finally:
        if scheduler is not None:
            scheduler.shutdown()
    return 0


COMMANDS = {"serve": cmd_serve}
