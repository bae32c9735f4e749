"""Feedback: the pure boost, storing votes, and "Helpful" / "Not helpful" clicks in Slack changing
later answers."""
from __future__ import annotations

import json

import pytest

from support.fake_slack import RESPONSE_URL
from guildbot import blockkit as kit
from index.retrieval.feedback import (MAX_EFFECT, boost_factor, query_key, record_feedback, relevance, rerank, votes_for)
from index.retrieval.search import Hit
from index.storage.sqlite.store import Store
from support.slack import ASKER, CHANNEL, bot, fake_slack, mention_event, slack  # noqa: F401


# -- pure ------------------------------------------------------------------------------------------------
def test_boost_factor_is_neutral_without_votes_monotonic_and_bounded():
    assert boost_factor([]) == 1.0
    assert boost_factor([(1, 1.0)]) > 1.0 > boost_factor([(-1, 1.0)])
    assert boost_factor([(1, 1.0), (1, 1.0)]) > boost_factor([(1, 1.0)])
    assert boost_factor([(1, 1.0)]) > boost_factor([(1, 0.0)]) > 1.0  # an unrelated question counts a little
    assert boost_factor([(1, 1.0), (-1, 1.0)]) == pytest.approx(1.0)
    assert 1 - MAX_EFFECT <= boost_factor([(-1, 1.0)] * 1000) and boost_factor([(1, 1.0)] * 1000) <= 1 + MAX_EFFECT


def test_relevance_and_query_key_ignore_order_case_and_stopwords():
    assert query_key("Who has built a Recommender system?") == query_key("recommender SYSTEM")
    assert relevance("recommender system", "system recommender") == 1.0
    assert 0 < relevance("drift monitoring", "drift alerts") < 1
    assert relevance("drift", "recommender") == 0.0


def h(doc: str, score: float) -> Hit:
    return Hit(doc, doc, "", "s", "t", doc, "doc", "", score)


def test_votes_are_stored_one_per_user_document_and_question(tmp_path):
    store = Store(tmp_path)
    record_feedback(store, "d1", "Drift monitoring?", -1, "U1")
    record_feedback(store, "d1", "monitoring drift", +1, "U1")  # the same question again: replaces the vote
    record_feedback(store, "d1", "drift monitoring", +1, "U2")
    record_feedback(store, "d1", "psi alerts", -1, "U1")       # another question: a vote of its own
    rows = store.query("SELECT doc_id, value, user FROM feedback ORDER BY id")
    assert sorted((r["user"], r["value"]) for r in rows) == [("U1", -1), ("U1", 1), ("U2", 1)]
    votes = votes_for(store, ["d1", "d2"], "drift monitoring")
    assert sorted(votes["d1"]) == [(-1, 0.0), (1, 1.0), (1, 1.0)] and "d2" not in votes
    with pytest.raises(ValueError):
        record_feedback(store, "", "q", 1, "U1")


def test_rerank_without_feedback_changes_nothing_and_with_feedback_reorders(tmp_path):
    store = Store(tmp_path)
    hits = [h("a", 0.030), h("b", 0.029), h("c", 0.025)]
    assert rerank(store, "q", hits) == hits
    record_feedback(store, "a", "drift", -1, "U1")
    record_feedback(store, "c", "drift", +1, "U1")
    record_feedback(store, "c", "drift", +1, "U2")
    assert [x.doc_id for x in rerank(store, "drift", hits)] == ["c", "b", "a"]
    def change(query: str) -> dict[str, float]:
        return {x.doc_id: x.score / y.score for x in rerank(store, query, hits) for y in hits if y.doc_id == x.doc_id}
    related, unrelated = change("drift"), change("unrelated words")
    assert related["a"] < 0.8 and related["c"] > 1.2 and related["b"] == 1.0
    assert 0.9 < unrelated["a"] < 1.0 < unrelated["c"] < 1.1  # votes for other questions count only a little


# -- through Slack ---------------------------------------------------------------------------------------------
def doc_order(blocks: list[dict]) -> list[str]:
    return [json.loads(e["value"])["d"] for b in blocks if b.get("block_id", "").startswith("feedback:")
            for e in b["elements"][:1]]


def predicted(guild, question: str, votes: dict[str, list[tuple[int, float]]], limit: int = 5) -> list[str]:
    """The order the boost should produce, from the unboosted search scores."""
    base = guild.searcher.search(question, limit=limit + 20)
    ranked = sorted(base, key=lambda x: -x.score * boost_factor(votes.get(x.doc_id, [])))
    return [x.doc_id for x in ranked[:limit]]


def test_not_helpful_demotes_and_helpful_promotes_in_later_answers(slack, demo_guild):
    question = "how do we monitor drift and alert on it?"
    _, key = slack.command(question)
    first = slack.reply(key)
    before = doc_order(first["blocks"])
    assert len(before) == 5

    resp, click = slack.click(first["blocks"], kit.NOT_HELPFUL, nth=0)
    assert resp.status_code == 200
    thanks = slack.reply(click)
    assert thanks["response_type"] == "ephemeral" and thanks["replace_original"] is False
    assert "not helpful" in thanks["text"]
    rows = demo_guild.store.query("SELECT doc_id, query, value, user FROM feedback")
    assert rows == [{"doc_id": before[0], "query": question, "value": -1, "user": ASKER}]

    slack.click(first["blocks"], kit.HELPFUL, nth=4, key="up")
    slack.reply("up")
    _, key = slack.command(question)
    after = doc_order(slack.reply(key)["blocks"])
    votes = {before[0]: [(-1, 1.0)], before[4]: [(1, 1.0)]}
    expected = predicted(demo_guild, question, votes)
    assert expected != before  # the votes are strong enough to matter here
    assert after == expected
    assert after.index(before[4]) < 4
    assert before[0] not in after[:1]


def test_feedback_on_a_thread_answer_thanks_the_user_privately_in_the_thread(slack, demo_guild):
    event = mention_event(f"<@{slack.fake.bot_user_id}> feature store")
    slack.event(event)
    post = slack.fake.wait_for("chat.postMessage")[0]
    message = {"ts": post.result["ts"], "text": post.args["text"], "blocks": post.blocks, "thread_ts": event["ts"]}
    slack.click(post.blocks, kit.HELPFUL, nth=1, ephemeral=False, message=message)
    thanks = slack.fake.wait_for("chat.postEphemeral")[0]
    assert thanks.args["user"] == ASKER and thanks.args["channel"] == CHANNEL
    assert thanks.args["thread_ts"] == event["ts"]
    assert "was helpful" in thanks.args["text"]
    doc = doc_order(post.blocks)[1]
    assert demo_guild.store.query("SELECT doc_id, value FROM feedback") == [{"doc_id": doc, "value": 1}]
    slack.fake.quiet(0.5)
    assert slack.fake.calls_to(RESPONSE_URL) == []
