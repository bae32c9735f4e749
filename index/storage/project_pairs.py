"""Project pair rows: per ordered pair the affinities of one project's characteristic passages to
the other's (`project_affinity`), and per unordered pair its lead and score (`project_pairs`).

index/catalog/pairs.py computes them, index/catalog/overlaps.py reads the scores. Writes run inside
the caller's transaction.
"""
from __future__ import annotations

from typing import Iterable, Sequence, TypedDict, cast

from index.storage.clauses import marks
from index.storage.sqlite.store import Store


class PairScoreRow(TypedDict):
    a: str
    b: str
    lead: float | None
    score: float | None


def prune_affinities(store: Store, project_ids: Sequence[str]) -> None:
    """Delete the affinities of any pair with a project not among `project_ids` (give at least one)."""
    m = marks(len(project_ids))
    store.conn.execute(f"DELETE FROM project_affinity WHERE project_id NOT IN ({m}) OR other_id NOT IN ({m})",
                       [*project_ids, *project_ids])


def affinity_pairs(store: Store) -> set[tuple[str, str]]:
    """The (project id, other id) pairs that have stored affinities."""
    return {(r[0], r[1]) for r in store.conn.execute("SELECT project_id, other_id FROM project_affinity")}


def save_affinities(store: Store, rows: Iterable[tuple[str, str, bytes | None]]) -> None:
    """Insert or replace affinities: (project id, other id, float32 blob of per-passage maxima)."""
    store.conn.executemany("INSERT INTO project_affinity (project_id, other_id, maxes) VALUES (?, ?, ?) "
                           "ON CONFLICT (project_id, other_id) DO UPDATE SET maxes = excluded.maxes", list(rows))


def affinities(store: Store) -> list[tuple[str, str, bytes | None]]:
    """Every stored (project id, other id, maxima blob), in stored order."""
    return [(r[0], r[1], r[2]) for r in store.conn.execute("SELECT project_id, other_id, maxes FROM project_affinity")]


def replace_pairs(store: Store, rows: Iterable[tuple[str, str, float, float, str]]) -> None:
    """Replace every pair score: (a, b, lead, score, built at)."""
    store.conn.execute("DELETE FROM project_pairs")
    store.conn.executemany("INSERT INTO project_pairs (a, b, lead, score, built_at) VALUES (?, ?, ?, ?, ?)", list(rows))


def pairs_scoring(store: Store, min_score: float) -> list[PairScoreRow]:
    """The pairs scoring at least `min_score`, best first, then by a and b."""
    return cast(list[PairScoreRow], store.query(
        "SELECT a, b, lead, score FROM project_pairs WHERE score >= ? ORDER BY score DESC, a, b", [min_score]))
