"""The command line (`guildbot ...`): argument parsing and printing over the Guild facade and the
services. `serve` and `slack` (serve.py, slack.py) are where the web app, the Slack app and the
scheduler are put together: the command line is the composition root."""
from __future__ import annotations

import sys


def run() -> int:
    """The `guildbot` command: a question's model starts loading on another core while the rest of
    guildbot is imported (warm.py), then the command runs (main.py)."""
    from guildbot.cli import warm

    warm.start(sys.argv[1:])
    from guildbot.cli.main import main

    return main()
