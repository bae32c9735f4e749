"""The catalog's repository functions (index/storage/catalog.py, project_content.py, project_pairs.py)
on both engines: their upserts replace what they name, a viewer of no sources sees no project."""
from __future__ import annotations

import pytest

from index.catalog import build, pairs
from index.storage import catalog as catalog_db
from index.storage import project_content as content_db
from index.storage import project_pairs as pair_db
from index.storage.factory import open_store
from support.postgres import BACKENDS, backend_url


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    s = open_store(tmp_path, backend_url(request, request.param))
    build.ensure_schema(s)
    pairs.ensure_schema(s)
    yield s
    s.close()


def _content(project_id: str, fingerprint: str) -> content_db.ProjectContentRow:
    return content_db.ProjectContentRow(project_id=project_id, fingerprint=fingerprint, direction=b"\0\0\0\0",
                                        passages=None, passage_refs="[]", candidates="{}", key_phrases="[]",
                                        built_at="2024-01-01T00:00:00+00:00")


def test_upserts_replace_the_row_they_name(store):
    with store.transaction():
        content_db.save_content(store, _content("a", "one"))
        content_db.save_content(store, _content("b", "one"))
        content_db.save_content(store, _content("a", "two"))
        content_db.save_phrases(store, [("m|drift", b"1111"), ("m|drift", b"2222")])
        pair_db.save_affinities(store, [("a", "b", b"1111")])
        pair_db.save_affinities(store, [("a", "b", b"2222"), ("b", "a", b"3333")])
    assert content_db.fingerprints(store) == {"a": "two", "b": "one"}
    assert content_db.phrase_blobs(store, ["m|drift", "m|other"]) == [("m|drift", b"2222")]
    assert sorted((a, b, bytes(m)) for a, b, m in pair_db.affinities(store)) == [("a", "b", b"2222"), ("b", "a", b"3333")]
    with store.transaction():
        content_db.keep_only(store, ["b"])
        pair_db.prune_affinities(store, ["a", "b"])
    assert content_db.fingerprints(store) == {"b": "one"} and len(pair_db.affinities(store)) == 2


def test_projects_and_placements_are_replaced_whole(store):
    with store.transaction():
        catalog_db.replace_projects(store, [{"id": "old", "name": "Old"}], [("d1", "old", "old")])
    with store.transaction():
        catalog_db.replace_projects(store, [{"id": "p", "name": "Ranker", "source": "git", "team": "feed"}],
                                    [("d1", "q", "q"), ("d1", "p", "p/unit"), ("d2", "p", "p")])
    assert [r["id"] for r in catalog_db.project_rows(store)] == ["p"]
    assert catalog_db.placements(store) == {"d1": "p", "d2": "p"}
    assert catalog_db.project_row(store, " ranker ")["id"] == "p"
    assert catalog_db.project_rows(store, ["git"]) and catalog_db.project_rows(store, ["wiki"]) == []
    assert catalog_db.project_rows(store, []) == [] and catalog_db.project_row(store, "p", []) is None


def test_pair_scores_best_first(store):
    with store.transaction():
        pair_db.replace_pairs(store, [("a", "b", 0.1, 0.5, "t"), ("a", "c", 0.2, 0.9, "t"), ("b", "c", 0.0, 0.0, "t")])
    assert [(r["a"], r["b"]) for r in pair_db.pairs_scoring(store, 0.1)] == [("a", "c"), ("a", "b")]
