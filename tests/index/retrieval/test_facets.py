"""Facets, filters and paging over a pool of hits (index/retrieval/facets.py): pure functions, no index."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from index.retrieval.facets import page_of, parse_since
from index.retrieval.search import Hit

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def hit(n: int, team: str, source: str, kind: str = "doc", updated: str | None = "2026-06-01T00:00:00+00:00") -> Hit:
    return Hit(f"{source}:{n}", f"doc {n}", f"http://x/{n}", source, team, f"p{n}", kind, "", 1.0 / (n + 1), updated)


POOL = [hit(0, "A", "wa"), hit(1, "A", "ga", "readme", "2024-01-01T00:00:00Z"), hit(2, "B", "wb"),
        hit(3, "B", "wb", "doc", None), hit(4, "C", "gc", "code_path", "2020-01-01T00:00:00+00:00")]


def test_each_facet_counts_the_hits_that_pass_the_other_filters():
    page = page_of("q", POOL, team="B", now=NOW)
    assert [h.team for h in page.hits] == ["B", "B"] and page.total == 2
    assert page.facets["team"] == [("A", 2), ("B", 2), ("C", 1)]  # the team filter does not narrow its own facet
    assert page.facets["source"] == [("wb", 2)]
    assert page.facets["kind"] == [("doc", 2)]


def test_since_keeps_newer_dated_hits_and_counts_each_age():
    page = page_of("q", POOL, since="1y", now=NOW)
    assert [h.doc_id for h in page.hits] == ["wa:0", "wb:2"]  # undated and old hits left out
    assert dict((v, n) for v, _, n in page.since) == {"30d": 0, "1y": 2, "2y": 2, "5y": 3}
    assert page.filters["since"] == "1y"
    assert [h.doc_id for h in page_of("q", POOL, since="2023-12-31", now=NOW).hits] == ["wa:0", "ga:1", "wb:2"]


def test_filters_are_case_insensitive_and_pages_are_cut_and_clamped():
    pool = [hit(n, "Home Feed", "s") for n in range(23)]
    first = page_of("q", pool, team="home feed", per_page=10)
    assert (first.total, first.pages, len(first.hits)) == (23, 3, 10)
    last = page_of("q", pool, page=99, per_page=10)
    assert last.page == 3 and [h.doc_id for h in last.hits] == [f"s:{n}" for n in range(20, 23)]
    assert page_of("q", pool, page=-4).page == 1
    empty = page_of("q", [], team="x")
    assert (empty.total, empty.pages, empty.hits) == (0, 1, [])


@pytest.mark.parametrize("value", ["yesterday", "30", "1x", "2024-13-01", "99999d", "<script>"])
def test_an_unreadable_since_names_the_accepted_forms(value):
    with pytest.raises(ValueError, match="use a date like 2024-01-31 or 30d, 6m, 2y"):
        parse_since(value, NOW)


def test_since_forms():
    assert parse_since("", NOW) is None and parse_since(None, NOW) is None
    assert parse_since("30d", NOW) == "2026-11-01T00:00:00+00:00"
    assert parse_since("2W", NOW) == "2026-11-17T00:00:00+00:00"
    assert parse_since("2024-02-29", NOW) == "2024-02-29T00:00:00+00:00"
    assert parse_since("9999y", NOW).startswith("0001-01-01")  # further back than the calendar: everything
