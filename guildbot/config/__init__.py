"""guild.toml: one validated Config (loader), its sections as pydantic models (sections, syncs; the
[guild] database URL in database), and the GUILDBOT_*/SLACK_* environment variables (environment)."""

import os

# pydantic looks up plugins in every installed package's entry points the first time a model is
# built: 12-17 ms of every command-line process. guildbot uses none; PYDANTIC_DISABLE_PLUGINS=""
# in the environment brings the lookup back.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
