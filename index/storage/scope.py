"""Reads cut to the sources a reader may see: the one SQL condition the repositories add for it.

`sources` is the set of source names a viewer may see (index/people/visibility.py works it out
from guild.toml's rules); `None` means every source (the data_dir's owner, the CLI's default).
"""
from __future__ import annotations

from typing import Collection

from index.storage.clauses import marks

Sources = Collection[str] | None  # None: every source


def source_clause(sources: Sources, column: str = "d.source") -> tuple[str, list[str]]:
    """(" AND column IN (...)", params) for a set of sources; ("", []) for every source. No source
    at all is a condition no row meets, written so both SQLite and Postgres accept it."""
    if sources is None:
        return "", []
    names = sorted(sources)
    if not names:
        return " AND 1 = 0", []
    return f" AND {column} IN ({marks(len(names))})", names
