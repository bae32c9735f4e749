"""The consent, suggestions, asks and Slack-thread repositories (index/storage/consent.py, asks.py) on both
engines: the same calls give the same answers on SQLite and on Postgres (migration 0006)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from index.storage import asks, consent
from index.storage.factory import open_store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    url = request.getfixturevalue("new_pg_database")() if request.param == "postgres" else ""
    s = open_store(tmp_path, url)
    with s.transaction():
        s.conn.execute("INSERT INTO people (id, name, team, slack_id, emails, aliases, in_directory) VALUES "
                       "('p:ada@x.example', 'Ada', 'ML', 'U0ADA', ?, '[]', 1)", [json.dumps(["Ada@X.example"])])
    yield s
    s.close()


def test_consent_round_trip_and_the_keys_the_syncs_match(store):
    assert consent.get(store, "p:ada@x.example")["opted_out"] is False
    consent.set_opted_out(store, "p:ada@x.example")
    consent.set_hidden(store, "p:ada@x.example", "  Drift   monitoring ")
    consent.set_hidden(store, "p:ada@x.example", "drift monitoring")  # the same topic: kept once
    row = consent.get(store, "p:ada@x.example")
    assert row["opted_out"] and row["hidden_topics"] == ["drift monitoring"]
    assert consent.unavailable_keys(store) == {"p:ada@x.example", "ada@x.example", "U0ADA"}
    consent.set_opted_out(store, "p:ada@x.example", False)
    assert consent.unavailable(store) == set()
    consent.set_paused_until(store, "p:ada@x.example", datetime.now(timezone.utc) + timedelta(days=3))
    assert consent.unavailable(store) == {"p:ada@x.example"}
    later = datetime.now(timezone.utc) + timedelta(days=4)
    assert consent.unavailable(store, now=later) == set()  # a pause ends by itself
    consent.set_hidden(store, "p:ada@x.example", "drift monitoring", hidden=False)
    assert consent.get(store, "p:ada@x.example")["hidden_topics"] == []


def test_suggestions_asks_and_threads(store):
    since = (datetime.now(timezone.utc) - timedelta(days=7)).isoformat(timespec="seconds")
    asks.record_suggestions(store, [{"person_id": "p:ada@x.example", "surface": "slack", "asker": "U1",
                                     "asker_team": "Risk", "person_team": "ML", "qkey": "drift"}] * 3)
    assert asks.suggestion_counts(store, ["p:ada@x.example", "p:nobody"], since) == {"p:ada@x.example": 3}
    far = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat(timespec="seconds")
    assert asks.team_pairs(store, since, far) == {("Risk", "ML"): 3}
    asks.add_ask(store, "a1", asker="U1", asker_team="Risk", question="drift?", people=[{"person_id": "p:ada@x.example"}],
                 sent={"U0ADA": {"channel": "D0ADA", "ts": "1.2"}})
    assert asks.get_ask(store, "a1")["sent"]["U0ADA"]["channel"] == "D0ADA"
    assert asks.mark_answered(store, "a1", "U0ADA") is True
    assert asks.mark_answered(store, "a1", "U0ADA") is False  # told once
    asks.remember_thread(store, "C1", "1.5")
    asks.remember_thread(store, "C1", "1.5", kind="ask", ref="ignored")  # the first record stays
    assert asks.thread(store, "C1", "1.5")["kind"] == "answer" and asks.thread(store, "C1", "9.9") is None
