"""Facets and filters over a pool of search hits: counts per team, source, kind and age; one page.

Pure functions: the search page asks for a pool of the best hits once, then filters, counts and
pages it here. Each facet is counted over the hits that pass every *other* filter, so choosing a
team still shows how many hits the other teams have.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterable

from index.retrieval.search import Hit

FACETS = ("team", "source", "kind")
SINCE_CHOICES = (("30d", "past month"), ("1y", "past year"), ("2y", "past 2 years"), ("5y", "past 5 years"))
_RELATIVE = re.compile(r"^(\d{1,4})([dwmy])$")
_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def parse_since(value: str | None, now: datetime | None = None) -> str | None:
    """The ISO cut-off for `since`: '30d', '6m', '2y' back from now, or a date 'YYYY-MM-DD'.
    Empty gives None; anything else raises ValueError naming the accepted forms."""
    text = (value or "").strip().casefold()
    if not text:
        return None
    now = now or datetime.now(timezone.utc)
    m = _RELATIVE.match(text)
    if m:
        try:
            return (now - timedelta(days=int(m.group(1)) * _DAYS[m.group(2)])).isoformat(timespec="seconds")
        except OverflowError:  # before year 1
            return datetime.min.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ValueError(f"since={value!r} is not understood; use a date like 2024-01-31 or 30d, 6m, 2y") from None
    return day.isoformat(timespec="seconds")


def _newer(hit: Hit, cutoff: str | None) -> bool:
    return cutoff is None or bool(hit.updated_at and _utc(hit.updated_at) >= cutoff)


@lru_cache(maxsize=4096)  # every hit is compared against several cut-offs
def _utc(ts: str) -> str:
    """An ISO timestamp in UTC, so that timestamps compare as strings."""
    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return ts
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def _keep(hit: Hit, filters: dict[str, str | None], cutoff: str | None, skip: str = "") -> bool:
    for name, want in filters.items():
        if name != skip and want and getattr(hit, name).casefold() != want.casefold():
            return False
    return skip == "since" or _newer(hit, cutoff)


def counts(values: Iterable[str]) -> list[tuple[str, int]]:
    """(value, count), most frequent first, then by value; empty values left out."""
    tally: dict[str, int] = {}
    for v in values:
        if v:
            tally[v] = tally.get(v, 0) + 1
    return sorted(tally.items(), key=lambda kv: (-kv[1], kv[0].casefold()))


@dataclass
class SearchPage:
    """One page of a filtered search, with the facet counts of the whole pool."""

    query: str
    hits: list[Hit]
    total: int
    page: int
    pages: int
    per_page: int
    filters: dict[str, str | None] = field(default_factory=dict)  # team, source, kind, since as asked
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # team/source/kind -> counts
    since: list[tuple[str, str, int]] = field(default_factory=list)  # (value, label, count)
    capped: bool = False  # the pool held as many hits as were asked for: counts are of the best ones only


def page_of(query: str, pool: list[Hit], team: str | None = None, source: str | None = None, kind: str | None = None,
            since: str | None = None, page: int = 1, per_page: int = 10, now: datetime | None = None,
            capped: bool = False) -> SearchPage:
    """Filter the pool, count facets, cut one page (pages past the end give the last page).
    Raises ValueError for an unreadable `since`."""
    cutoff = parse_since(since, now)
    filters = {"team": team or None, "source": source or None, "kind": kind or None}
    kept = [h for h in pool if _keep(h, filters, cutoff)]
    facets = {name: counts(getattr(h, name) for h in pool if _keep(h, filters, cutoff, skip=name)) for name in FACETS}
    undated = [h for h in pool if _keep(h, filters, None, skip="since")]
    now = now or datetime.now(timezone.utc)
    ages = []
    for value, label in SINCE_CHOICES:
        age_cutoff = parse_since(value, now)
        ages.append((value, label, sum(_newer(h, age_cutoff) for h in undated)))
    pages = max(1, math.ceil(len(kept) / per_page))
    page = min(max(1, page), pages)
    return SearchPage(query, kept[(page - 1) * per_page:page * per_page], len(kept), page, pages, per_page,
                      {**filters, "since": since or None}, facets, ages, capped)
