"""SQL fragments the repository modules share: placeholder lists and the filter that keeps a
viewer's rows (their visible sources), written so SQLite and Postgres both run them."""
from __future__ import annotations

from typing import Collection

BATCH = 500  # ids per `IN (...)` list: well below SQLite's bound on parameters


def marks(n: int) -> str:
    """'?,?,?' for n parameters."""
    return ",".join("?" * n)


def in_sources(column: str, sources: Collection[str] | None) -> tuple[str, list[str]]:
    """(" AND column IN (...)", params) keeping rows of those sources; ("", []) for no filter (None);
    a filter nothing passes for no sources."""
    if sources is None:
        return "", []
    names = sorted(sources)
    if not names:
        return " AND 1 = 0", []
    return f" AND {column} IN ({marks(len(names))})", names
