"""guild.toml: one validated Config (loader), its sections as pydantic models (sections, syncs; the
[guild] database URL in database), and the GUILDBOT_*/SLACK_* environment variables (environment)."""
