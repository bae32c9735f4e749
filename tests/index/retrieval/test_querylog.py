"""The query log: every question on every surface, merged per ask, kept for the retention, never
showing who asked; and knowledge gaps from weak or unhelpful answers."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from guildbot.cli.main import main
from index.retrieval import querylog
from index.retrieval.feedback import record_feedback
from index.storage.sqlite.store import Store

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path)
    s.conn.execute("INSERT INTO people (id, name, team, slack_id, emails) VALUES ('p1', 'Ada Lovelace', 'Risk', 'U0ADA', "
                   "'[\"ada@acme.example\"]')")
    yield s
    s.close()


def test_one_ask_is_one_entry_and_a_later_ask_another(store):
    a = querylog.record(store, "drift  monitoring?", "slack", "search", 0.6, 5, asker="U0ADA", now=T0)
    b = querylog.record(store, "Monitoring drift", "slack", "experts", 0.7, 3, asker="U0ADA", now=T0 + timedelta(seconds=5))
    assert a == b  # same words, same asker, same surface, moments apart: Slack's `ask` calls search and experts
    c = querylog.record(store, "drift monitoring?", "slack", "search", 0.6, 5, asker="U0ADA", now=T0 + timedelta(hours=1))
    d = querylog.record(store, "drift monitoring?", "web", "search", 0.6, 5, asker="U0ADA", now=T0 + timedelta(hours=1))
    assert len({a, c, d}) == 3
    (first, *_) = querylog.questions(store, T0, T0 + timedelta(days=1))
    assert first.kind == "search+experts" and first.strength == pytest.approx(0.7) and first.results == 5
    assert first.question == "drift monitoring?" and first.asker_team == "Risk"  # the team of the Slack id


def test_the_askers_team_comes_from_a_slack_id_an_email_or_a_name(store):
    assert querylog.asker_team(store, "U0ADA") == querylog.asker_team(store, "ada@acme.example") == "Risk"
    assert querylog.asker_team(store, "ada lovelace") == "Risk"
    assert querylog.asker_team(store, "someone") == "" and querylog.asker_team(store, None) == ""


def test_old_entries_go_after_the_retention(store):
    querylog.record(store, "old question", "cli", "search", 0.5, 1, now=T0 - timedelta(days=40))
    querylog.record(store, "new question", "cli", "search", 0.5, 1, now=T0, retention_days=30)
    assert [q.question for q in querylog.questions(store, T0 - timedelta(days=100), T0 + timedelta(days=1))] == ["new question"]
    assert querylog.purge(store, retention_days=1, now=T0 + timedelta(days=2)) == 1


def test_public_rows_never_say_who_asked(store):
    querylog.record(store, "who knows kafka?", "slack", "experts", 0.2, 3, asker="U0ADA", now=T0)
    (q,) = querylog.questions(store, T0, T0 + timedelta(days=1))
    assert "U0ADA" not in json.dumps(q.public()) and "Ada" not in json.dumps(q.public())
    assert q.public()["team"] == "Risk"


def test_gaps_are_weak_unanswered_or_unhelpful_questions(store):
    querylog.record(store, "rotate kafka certificates", "slack", "search", 0.2, 5, asker="U0ADA", now=T0)
    querylog.record(store, "Rotate the Kafka certificates", "web", "search", 0.25, 5, now=T0 + timedelta(hours=2))
    querylog.record(store, "population stability index", "cli", "search", 0.8, 5, now=T0)
    querylog.record(store, "feature store owners", "slack", "search", 0.9, 5, asker="U0B", now=T0)
    querylog.record(store, "zzzz", "cli", "search", None, 0, now=T0)
    store.conn.execute("INSERT INTO documents (id, source, title) VALUES ('d1', 's', 'Feature store')")
    record_feedback(store, "d1", "feature store owners", -1, "U0B")
    record_feedback(store, "d1", "population stability index", +1, "U0C")
    logged = querylog.questions(store, T0, T0 + timedelta(days=1))
    gaps = {g.question: g for g in querylog.gaps(logged, weak_below=0.45)}
    assert set(gaps) == {"Rotate the Kafka certificates", "feature store owners", "zzzz"}
    kafka = gaps["Rotate the Kafka certificates"]
    assert kafka.asked == 2 and kafka.teams == ["Risk"] and kafka.strength == pytest.approx(0.25)
    assert gaps["feature store owners"].not_helpful and not kafka.not_helpful
    assert next(iter(gaps)) == "feature store owners"  # marked not helpful comes first
    assert querylog.gaps(logged, weak_below=0.1) and "Rotate the Kafka certificates" not in {
        g.question for g in querylog.gaps(logged, weak_below=0.1)}


def test_guild_search_and_experts_log_with_surface_asker_team_and_strength(demo_guild):
    store = demo_guild.store
    store.conn.execute("DELETE FROM query_log")
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    demo_guild.search("population stability index", surface="cli", asker="U06SAM")
    demo_guild.experts("who knows population stability index?", surface="cli", asker="U06SAM")
    demo_guild.search("payroll and vacation policy", surface="web", asker="jo.brandt@acme.example")
    demo_guild.search("not logged at all", surface=None)
    rows = {q.question: q for q in querylog.questions(store, start, start + timedelta(hours=1))}
    assert set(rows) == {"population stability index", "payroll and vacation policy"}
    psi, payroll = rows["population stability index"], rows["payroll and vacation policy"]
    assert psi.kind == "search+experts" and psi.surface == "cli" and psi.asker_team == "Risk"
    assert payroll.surface == "web" and payroll.asker_team == "Risk"
    assert psi.strength > 0.45 > payroll.strength  # a strong answer and a weak one, measured by cosine
    store.conn.execute("DELETE FROM query_log")


def test_the_cli_logs_its_questions(demo_guild, demo_dir, monkeypatch, capsys):
    demo_guild.store.conn.execute("DELETE FROM query_log")
    monkeypatch.setenv("GUILDBOT_USER", "priya.raman@acme.example")
    assert main(["--config", str(demo_dir / "guild.toml"), "who", "who knows kafka certificates?", "--json"]) == 0
    capsys.readouterr()
    (row,) = demo_guild.store.query("SELECT surface, kind, asker_team, question FROM query_log")
    assert row == {"surface": "cli", "kind": "experts", "asker_team": "Home Feed", "question": "who knows kafka certificates?"}
    demo_guild.store.conn.execute("DELETE FROM query_log")
