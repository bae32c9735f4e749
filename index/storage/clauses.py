"""SQL fragments the repository modules share: placeholder lists and their batch size
(the filter of a viewer's sources is scope.source_clause)."""
from __future__ import annotations

BATCH = 500  # ids per `IN (...)` list: well below SQLite's bound on parameters


def marks(n: int) -> str:
    """'?,?,?' for n parameters."""
    return ",".join("?" * n)
