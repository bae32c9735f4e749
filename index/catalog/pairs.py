"""Project pair scores from characteristic passages; the table overlaps read (index/catalog/overlaps.py).

- affinity: for each characteristic passage of project A (index/catalog/content.py) and each other
  project Q, the cosine of the closest passage of Q, stored per (A, Q) in `project_affinity`;
- background: a passage's upper-quartile affinity over the other projects (B left out); what many projects
  have (install steps, contributing guides) has a high background, what only this project does a
  low one;
- A's lead towards B: the mean, over A's `TOP` passages that B matches best, of the affinity
  above background weighted by the passage's distinctiveness, minus A's median lead towards the other projects (its best passages always
  find something); the pair's lead is the mean of both directions;
- score: the lead mapped to [0, 1] by a fixed logistic curve (`score_of`). A lead is a difference of
  cosines against a median over other projects, so it does not drift with the number of
  projects: the same score means the same at 5 projects as at 500.

After a catalog rebuild only the affinities that involve a changed project are recomputed; pair
scores are then re-derived from the stored affinities (cheap), kept in `project_pairs`.
"""
from __future__ import annotations

import itertools
import math
from typing import Iterable

import numpy as np

from index.catalog import content
from index.embedding.docvectors import from_blob, to_blob
from index.storage import project_pairs as pair_db
from index.storage.sqlite.store import Store, now_iso

TOP = 8  # passages per direction that make a lead
LEAD_MID = 0.1  # a lead of this much scores 0.5 ...
LEAD_WIDTH = 0.03  # ... and every 0.03 more or less moves it along the logistic curve
BACKGROUND_QUANTILE = 0.75  # what a quarter of the other projects match this well is common ground
DISTINCT = 2.0  # a passage of background 0.5 (a typical one) keeps its excess as it is  # a lead of this much above background scores 1 - 1/e

def ensure_schema(store: Store) -> None:
    """Nothing to do: the store has these tables from the moment it opens (index/storage/sqlite/schema.py)."""


# -- pure scoring ---------------------------------------------------------------------------------
def affinity(passages: np.ndarray, other: np.ndarray) -> np.ndarray:
    """For each passage, the cosine of the closest passage of the other project."""
    if not len(passages) or not len(other):
        return np.full(len(passages), np.nan, dtype="float32")
    return (passages @ other.T).max(axis=1).astype("float32")


def backgrounds(table: np.ndarray, q: float = BACKGROUND_QUANTILE) -> np.ndarray:
    """passages x projects: each passage's `q` quantile affinity over the other projects except the
    column's own project, so a pair is never measured against itself (which matters in small orgs)."""
    k, p = table.shape
    valid = ~np.isnan(table)
    order = np.argsort(np.where(valid, table, np.inf), axis=1, kind="stable")
    ranked = np.take_along_axis(np.where(valid, table, np.nan), order, axis=1)  # ascending, NaN last
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(p), (k, p)).copy(), axis=1)
    m = valid.sum(axis=1, keepdims=True) - 1  # how many remain without the column's project
    pos = q * np.maximum(m - 1, 0)
    lo, frac = np.floor(pos).astype(int), pos - np.floor(pos)
    hi = np.minimum(lo + 1, np.maximum(m - 1, 0))

    def at(i: np.ndarray) -> np.ndarray:  # the i-th smallest value once the column's own is left out
        idx = np.where(i < rank, i, i + 1)
        return np.take_along_axis(ranked, np.clip(idx, 0, p - 1), axis=1)
    out = at(lo) * (1 - frac) + at(hi) * frac
    return np.where(m >= 1, out, 0.0).astype("float32")


def leads(table: np.ndarray, top: int = TOP) -> np.ndarray:
    """Directed leads of one project towards every other.

    `table` is passages x projects (the project's own column NaN); returns, per other project, the
    mean of the `top` largest affinities above each passage's background (`backgrounds`), each
    weighted by how distinctive the passage is (1 - background): two install pages alike beyond the
    usual count little, two descriptions of one method a lot."""
    if table.size == 0:
        return np.zeros(table.shape[1] if table.ndim == 2 else 0, dtype="float32")
    background = backgrounds(table)
    excess = np.nan_to_num((table - background) * DISTINCT * np.clip(1.0 - background, 0.0, 1.0), nan=-1.0)
    k = min(top, excess.shape[0])
    best = -np.sort(-excess, axis=0)[:k]
    return best.mean(axis=0)


def relative(lead: np.ndarray, own: int) -> np.ndarray:
    """Leads minus the project's typical lead (the median over the other projects).

    The best few of many passages always find something above background, so even unrelated
    projects get a small lead; what is typical for this project counts as nothing."""
    others = np.delete(lead, own)
    return lead - (float(np.median(others)) if len(others) else 0.0)


def score_of(lead: float, mid: float = LEAD_MID, width: float = LEAD_WIDTH) -> float:
    """A lead (weighted cosine above background) as a score in [0, 1]: 0.5 at `mid`, 0 for no lead."""
    return 0.0 if lead <= 0 else 1.0 / (1.0 + math.exp(-(lead - mid) / width))


# -- keeping the tables current -------------------------------------------------------------------
def update(store: Store, changed: Iterable[str], all_changed: bool = False) -> None:
    """Recompute the affinities that involve a changed project, then every pair's score."""
    ensure_schema(store)
    contents = content.load_all(store)
    ids = sorted(contents)
    changed = set(ids) if all_changed else set(changed) & set(ids)
    with store.transaction():
        if ids:
            pair_db.prune_affinities(store, ids)
        have = pair_db.affinity_pairs(store)
        rows = []
        for a, b in itertools.permutations(ids, 2):
            if a in changed or b in changed or (a, b) not in have:
                rows.append((a, b, to_blob(affinity(contents[a].passages, contents[b].passages))))
        pair_db.save_affinities(store, rows)
        tables: dict[str, np.ndarray] = {}
        for a in ids:
            tables[a] = np.full((len(contents[a].passages), len(ids)), np.nan, dtype="float32")
        index = {p: i for i, p in enumerate(ids)}
        for a, b, blob in pair_db.affinities(store):
            v = from_blob(blob)
            if a in tables and v is not None and len(v) == tables[a].shape[0]:
                tables[a][:, index[b]] = v
        directed = {a: relative(leads(tables[a]), index[a]) for a in ids}
        stamp = now_iso()
        pairs = []
        for a, b in itertools.combinations(ids, 2):
            if not len(contents[a].passages) or not len(contents[b].passages):
                continue
            lead = float((directed[a][index[b]] + directed[b][index[a]]) / 2)
            pairs.append((a, b, round(lead, 5), round(score_of(lead), 5), stamp))
        pair_db.replace_pairs(store, pairs)


