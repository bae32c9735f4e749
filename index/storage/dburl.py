"""Database URLs in messages: never a password (no psycopg import, so the CLI starts fast)."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from index.storage.sqlite.store import StoreError


def display_url(url: str) -> str:
    """The database URL without any password, for messages."""
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if not p.lower().startswith("password="))
    if parts.password is not None:
        netloc = f"{parts.username or ''}@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts._replace(query=query))


def database_error(exc: BaseException, url: str) -> StoreError:
    """A clear StoreError for a Postgres failure after the store was opened (the server went away, a timeout)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreError(display_url(url), f"the Postgres database failed ({first})",
                      "check that the server runs and answers (and PGPASSWORD), then run the command again; "
                      "stored work is kept")
