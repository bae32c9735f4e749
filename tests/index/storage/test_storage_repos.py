"""The storage repositories (index/storage/people.py, digest.py, documents.py, querylog.py,
feedback.py) write and read alike on SQLite and Postgres: upserts replace or keep rows the same
way on both, and a viewer who may see no source reads nothing on either."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from connectors.base import Contributor, Document
from index.storage import digest as digest_store, documents as documents_store, feedback as feedback_store
from index.storage import people as people_store, querylog as log_store
from index.storage.factory import open_store
from support.postgres import BACKENDS, backend_url


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    s = open_store(tmp_path, backend_url(request, request.param))
    yield s
    s.close()


def put(store, doc_id: str, source: str, *contributors: Contributor, updated: datetime | None = None) -> None:
    doc = Document(id=doc_id, source=source, team="T", kind="doc", title=f"Page {doc_id}", text="drift notes",
                   updated_at=updated, contributors=list(contributors))
    with store.transaction():
        store.put_document(doc, doc_id, "git")


def test_a_directory_identity_is_written_whole_and_unlinked_from_its_person(store):
    with store.transaction():
        people_store.put_directory_identity(store, "directory:a@x.org", name="Ada", email="a@x.org", slack_id="U1",
                                            team="Risk", tz="UTC")
        people_store.assign_identities(store, "p:a@x.org", ["directory:a@x.org"])
        people_store.put_directory_identity(store, "directory:a@x.org", name="Ada L", email="a@x.org", slack_id="",
                                            team="Ops", tz="")
    assert people_store.identities(store) == [
        {"id": "directory:a@x.org", "kind": "directory", "name": "Ada L", "email": "a@x.org", "username": "",
         "slack_id": "", "team": "Ops", "tz": "", "person_id": None}]
    assert people_store.directory_identity_ids(store) == {"directory:a@x.org"}


def test_a_person_is_written_whole(store):
    row = {"id": "p:a", "name": "Ada", "team": "Risk", "slack_id": "U1", "tz": "UTC", "emails": '["a@x.org"]',
           "aliases": '["ada"]', "in_directory": 1}
    with store.transaction():
        people_store.put_person(store, row)
        people_store.put_person(store, {**row, "name": "Ada L", "slack_id": "", "in_directory": 0})
    assert people_store.people(store) == [{**row, "name": "Ada L", "slack_id": "", "in_directory": 0}]
    assert people_store.people_by_id(store, ["p:a", "p:b"]) == {"p:a": people_store.people(store)[0]}
    assert people_store.team_of(store, "a@x.org") == "Risk" and people_store.team_of(store, "ada l") == "Risk"


def test_an_announced_overlap_keeps_its_earliest_week(store):
    for week in ("2026-W05", "2026-W02", "2026-W09"):
        with store.transaction():
            digest_store.mark_announced(store, "guild", week, ["a|b"])
    assert digest_store.announced_before(store, "guild", "2026-W03") == {"a|b"}
    assert digest_store.announced_before(store, "guild", "2026-W02") == set()


def test_a_first_sighting_is_noted_once(store):
    put(store, "s:1", "s", updated=datetime(2026, 1, 5, tzinfo=timezone.utc))
    with store.transaction():
        digest_store.note_first_seen(store, "2026-02-01T00:00:00+00:00")
    put(store, "s:2", "s")
    with store.transaction():
        digest_store.note_first_seen(store, "2026-03-01T00:00:00+00:00")
    seen = {r["id"]: r["first_seen"] for r in digest_store.documents_seen(store, ["s:1", "s:2"])}
    assert seen == {"s:1": "2026-01-05T00:00:00+00:00", "s:2": "2026-03-01T00:00:00+00:00"}


def test_a_viewer_of_no_source_reads_nothing(store):
    ada = Contributor(name="Ada Lovelace", email="ada@x.org")
    put(store, "s:1", "s", ada)
    put(store, "t:1", "t", ada)
    with store.transaction():
        people_store.assign_identities(store, "p:ada", [r["id"] for r in people_store.identities(store)])
    assert documents_store.ids_in_sources(store, ["s:1", "t:1"], frozenset()) == set()
    assert documents_store.ids_in_sources(store, ["s:1", "t:1"], {"t"}) == {"t:1"}
    assert people_store.visible_person_ids(store, frozenset()) == set()
    assert people_store.visible_person_ids(store, None) == {"p:ada"}
    assert people_store.person_identities(store, "p:ada", frozenset()) == []
    assert people_store.people_with_work_outside(store, ["p:ada"], {"s"}) == {"p:ada"}
    assert not people_store.mentioned_in_work(store, "p:ada", "drift", frozenset())
    assert people_store.mentioned_in_work(store, "p:ada", "DRIFT", {"s"})
    assert people_store.doc_person_totals(store, ["p:ada"], frozenset()) == []


def test_query_log_entries_and_votes_read_back(store):
    with store.transaction():
        first = log_store.add_entry(store, at="2026-01-05T10:00:00+00:00", surface="slack", question="Drift?",
                                    qkey="drift", kind="search", asker="U1", asker_team="Risk", strength=0.2, results=1)
        log_store.update_entry(store, first, "search+experts", 0.4, 3)
        log_store.add_entry(store, at="2025-01-01T00:00:00+00:00", surface="web", question="Old", qkey="old",
                            kind="search", asker="", asker_team="", strength=None, results=0)
        assert log_store.delete_before(store, "2025-06-01T00:00:00+00:00") == 1
        feedback_store.add_vote(store, "s:1", "drift", 1, "u", "2026-01-05T11:00:00+00:00")
    assert log_store.latest_same(store, "slack", "U1", "drift", "2026-01-05T09:00:00+00:00") == {
        "id": first, "kind": "search+experts", "strength": 0.4, "results": 3}
    assert [r["question"] for r in log_store.entries_between(store, "2026-01-05", "2026-01-06")] == ["Drift?"]
    assert feedback_store.votes_since(store, "2026-01-01") == [{"query": "drift", "value": 1}]
    assert [v["query"] for v in feedback_store.user_votes(store, "s:1", "u")] == ["drift"]
