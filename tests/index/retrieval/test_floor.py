"""The relevance floor on the demo org with the real model: a question nothing covers gets no
documents (and is a knowledge gap), an answered one keeps its documents."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from index.retrieval import querylog
from index.retrieval.floor import RELEVANCE_FLOOR, STRONG, WEAK, below_floor

OFF_TOPIC = "where can I buy sourdough bread and croissants near the office"


def test_the_floor_judges_strength_and_known_words():
    assert below_floor(WEAK - 0.01) and not below_floor(WEAK + 0.01)
    assert below_floor(STRONG - 0.01, known=0.5) and not below_floor(STRONG + 0.01, known=0.5)
    assert not below_floor(None)  # no vectors: never hide what was found
    assert querylog.WEAK_BELOW == RELEVANCE_FLOOR  # the digest's gaps use the same floor


def test_a_question_nothing_answers_gets_no_documents(demo_guild):
    assert demo_guild.search(OFF_TOPIC, limit=10, surface=None) == []
    unfloored = demo_guild.searcher.search(OFF_TOPIC, limit=10, floor=False)
    assert unfloored  # the retrievers still rank something: the floor is what hides it


def test_an_answered_question_keeps_its_documents(demo_guild):
    hits = demo_guild.search("who has built a recommender", limit=5, surface=None)
    assert hits and any("recommend" in (h.title + h.snippet).casefold() for h in hits)


def test_the_unanswered_question_is_a_knowledge_gap(demo_guild):
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    demo_guild.search(OFF_TOPIC, limit=10, surface="web", asker="floor-test@example.com")
    asked = querylog.questions(demo_guild.store, before, datetime.now(timezone.utc) + timedelta(seconds=1))
    gaps = {g.question for g in querylog.gaps(asked)}
    assert OFF_TOPIC in gaps


def test_a_passage_holding_every_word_is_never_below_the_floor():
    from index.retrieval.floor import holds_every_word

    assert holds_every_word(["Design notes for the ranking service"], ["design"])
    assert holds_every_word(["Two designs were compared"], ["design"])  # a longer form counts
    assert not holds_every_word(["Design notes"], ["design", "offsite"])
    assert not below_floor(0.05, known=1.0, every_word=True) and below_floor(0.05, known=1.0)


def test_nobody_is_guessed_for_a_question_nothing_answers(demo_guild):
    from index.expertise.experts import rank_experts

    assert demo_guild.experts(OFF_TOPIC, limit=5, surface=None) == []
    assert demo_guild.experts("who has built a recommender", limit=5, surface=None)
    fused, _ = demo_guild.searcher.ranked(OFF_TOPIC)
    assert rank_experts(demo_guild.store, fused, limit=5)  # the weak matches would name people: the floor hides them
