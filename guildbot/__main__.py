import sys

from guildbot.cli import run

sys.exit(run())
