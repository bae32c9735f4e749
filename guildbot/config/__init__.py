"""guild.toml: one validated Config (loader), with the [guild] database and [syncs] sections."""
