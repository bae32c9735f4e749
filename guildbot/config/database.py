"""[guild] database: where the index lives. Empty: the embedded SQLite + FAISS in data_dir.

`database = "postgresql://user@host:5432/guild"` (or the environment variable GUILDBOT_DATABASE,
which overrides the file) selects Postgres + pgvector (index/storage/postgres/store.py). A password never comes
from guild.toml, which is usually committed: it comes from PGPASSWORD, ~/.pgpass or the variable.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from guildbot.config.errors import Invalid

ENV = "GUILDBOT_DATABASE"
SCHEMES = ("postgresql", "postgres")
FIX = 'set database = "postgresql://user@host:5432/dbname", or remove the line for the embedded index'


def check_url(url: str, from_file: bool) -> str:
    """The URL as given, or Invalid naming what is wrong with it."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError as e:
        raise Invalid(f"not a database URL ({e})", FIX)
    if parts.scheme not in SCHEMES:
        raise Invalid(f"unsupported database {url.split(':', 1)[0]!r}: only Postgres is supported", FIX)
    if from_file and (password or "password" in parse_qs(parts.query)):  # "user:@host" names none
        raise Invalid("a password is written in guild.toml",
                      "remove it from the URL and give it to guildbot through PGPASSWORD (or ~/.pgpass, "
                      f"or the {ENV} environment variable)")
    return url


def file_database(value: Any) -> str:
    """[guild] database as written: '' for the embedded index, else a checked Postgres URL."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise Invalid(f"must be a string, not {type(value).__name__}", FIX)
    return check_url(value.strip(), from_file=True)
