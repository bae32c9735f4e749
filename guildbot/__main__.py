import sys

from guildbot.cli.main import main

sys.exit(main())
