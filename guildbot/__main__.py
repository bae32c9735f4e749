import sys

from guildbot.cli import main

sys.exit(main())
