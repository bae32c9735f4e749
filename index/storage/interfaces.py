"""What the rest of the index may rely on from a storage engine, as typed interfaces.

`factory` returns these; SQLite + FAISS (`sqlite/`) and Postgres + pgvector (`postgres/`) both
satisfy them, checked structurally (`typing.Protocol`) by tests/index/storage/test_interfaces.py,
so a caller never asks which engine it holds.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class VectorStore(Protocol):
    """Chunk vectors under chunk ids, searched by inner product."""

    @property
    def size(self) -> int: ...

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k nearest chunk ids with their scores, best first."""

    def apply(self, add_ids: list[int], add_vecs: list[np.ndarray], remove_ids: list[int]) -> None:
        """Add and remove vectors within the store's current write transaction."""

    def write_next_generation(self, force: bool = False) -> int:
        """Persist what was applied (a new FAISS generation file; nothing for pgvector)."""

    def flush(self) -> bool: ...

    def recover(self) -> bool:
        """Bring the index in line with the database after a crash; True when something was redone."""

    def reload(self) -> None:
        """Pick up what another process wrote."""

    def drop_old_generations(self) -> None: ...


@runtime_checkable
class CrawlGuard(Protocol):
    """One crawler per data_dir (flock) or per source (Postgres advisory locks); raises CrawlLocked."""

    def acquire(self) -> None: ...

    def release(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: Any) -> None: ...
