"""The weekly digest service: rendering (Block Kit, HTML) and idempotent delivery per channel."""
