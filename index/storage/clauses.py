"""SQL fragments the repository modules share: placeholder lists and their batch size
(the filter of a viewer's sources is scope.source_clause)."""
from __future__ import annotations

from typing import Iterable, Iterator

BATCH = 500  # ids per `IN (...)` list: well below SQLite's bound on parameters


def marks(n: int) -> str:
    """'?,?,?' for n parameters."""
    return ",".join("?" * n)


def in_batches(ids: Iterable[str]) -> Iterator[tuple[list[str], str]]:
    """(ids, '?,?,...') in slices of BATCH, for the `WHERE x IN (...)` reads of many ids."""
    ids = list(ids)
    for i in range(0, len(ids), BATCH):
        part = ids[i:i + BATCH]
        yield part, marks(len(part))
