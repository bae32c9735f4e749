"""The shared engine: Postgres + pgvector, numbered migrations, advisory locks per source."""
