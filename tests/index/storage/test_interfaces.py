"""Both engines satisfy the storage interfaces the rest of the index is typed against."""
from __future__ import annotations

import inspect

import pytest

from index.storage.interfaces import CrawlGuard, VectorStore
from index.storage.postgres.lock import PgCrawlLock
from index.storage.postgres.vectors import PgVectors
from index.storage.sqlite.lock import CrawlLock
from index.storage.sqlite.vectors import VectorIndex


def members(protocol: type) -> list[str]:
    """The methods and properties a protocol declares (Python 3.11 has no __protocol_attrs__)."""
    return [n for n, v in vars(protocol).items()
            if (callable(v) or isinstance(v, property)) and (not n.startswith("_") or n in ("__enter__", "__exit__"))]


@pytest.mark.parametrize("engine, protocol", [(VectorIndex, VectorStore), (PgVectors, VectorStore),
                                              (CrawlLock, CrawlGuard), (PgCrawlLock, CrawlGuard)])
def test_each_engine_has_every_member_with_the_same_parameters(engine, protocol):
    for name in members(protocol):
        assert hasattr(engine, name), f"{engine.__name__} lacks {name}"
        want, got = getattr(protocol, name), getattr(engine, name)
        if callable(want) and not isinstance(want, property):
            assert list(inspect.signature(got).parameters) == list(inspect.signature(want).parameters), name


def test_an_engine_missing_a_member_is_caught():
    class Partial:
        def acquire(self) -> None: ...

    assert members(CrawlGuard) == ["acquire", "release", "__enter__", "__exit__"]
    assert [n for n in members(CrawlGuard) if not hasattr(Partial, n)] == ["release", "__enter__", "__exit__"]
