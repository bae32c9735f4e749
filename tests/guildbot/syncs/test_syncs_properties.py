"""The syncs service never raises on the crawled demo org, whatever the topic's words (the expertise
path: empty cores, modules matched only by commits, projects nobody in the directory worked on),
whoever opted out and whenever it runs: hypothesis drives the expertise of a topic, an ad-hoc sync
and the explained plan (which stores nothing)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

pytest.importorskip("hypothesis", reason="hypothesis (a dev dependency) drives these property tests")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from guildbot.syncs.service import syncs_for  # noqa: E402
from index.storage import syncs as syncstore  # noqa: E402

WORDS = ["recommender", "cold start", "drift", "", "the", "commit", "merge", "README", "zzzz", "ранжирование",
         "feature store", "model registry", "a", "index", "shard", "embeddings", "*", "%", "'"]
SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


def directory_keys(guild) -> list[str]:
    rows = guild.store.query("SELECT emails, slack_id FROM people WHERE in_directory = 1")
    return [k for r in rows for k in (json.loads(r["emails"])[0], r["slack_id"]) if k]


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW)
@given(words=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=5),
       projects=st.lists(st.sampled_from(["feed-ranker", "similar-items", "drift-watch", "nope", ""]), max_size=3))
def test_a_topics_expertise_never_raises(demo_guild, words, projects):
    service = syncs_for(demo_guild)
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)
    scores = service._expertise(" ".join(words), projects, syncstore.person_activity(demo_guild.store), now)
    assert all(c.expertise >= 0 and 0 < c.recency <= 1 for c in scores.values())


@settings(max_examples=12, deadline=None, suppress_health_check=SLOW)
@given(out=st.sets(st.integers(0, 40), max_size=8),
       now=st.datetimes(datetime(2021, 1, 1), datetime(2031, 1, 1), timezones=st.just(timezone.utc)),
       topic=st.one_of(st.sampled_from(WORDS), st.text(max_size=20)))
def test_explaining_and_ad_hoc_syncs_never_raise_whoever_opted_out(demo_guild, out, now, topic):
    store = demo_guild.store
    keys = directory_keys(demo_guild)
    chosen = [keys[i % len(keys)] for i in out] if keys else []
    service = syncs_for(demo_guild)
    before = store.count("syncs")
    earlier = {r["id"] for r in store.query("SELECT id FROM syncs")}
    try:
        service.optout(chosen)
        rows, why = service.explain(now=now, save=False)
        assert store.count("syncs") == before  # explaining plans nothing
        strong = [o for o in why["overlaps"] if o["strong"]]
        assert all(o["status"] and o["reason"] for o in why["overlaps"])
        assert strong or why["note"]
        adhoc = service.propose_topic(topic, now=now)
        if adhoc is not None:
            assert len({m["team"] for m in adhoc["members"]}) >= 2
            assert not {m["email"] for m in adhoc["members"]} & set(chosen)
    finally:
        service.optout(chosen, out=False)
        made = [r["id"] for r in store.query("SELECT id FROM syncs") if r["id"] not in earlier]
        for sid in made:  # the ad-hoc sync this example made
            store.conn.execute("DELETE FROM sync_members WHERE sync_id = ?", (sid,))
            store.conn.execute("DELETE FROM syncs WHERE id = ?", (sid,))


class ManyOverlaps:
    """The demo's answers, with 50 strong cross-team overlaps of made-up projects (more than the 40 read first)."""

    def __init__(self, guild):
        from types import SimpleNamespace
        self.guild = guild
        self.all = [SimpleNamespace(a=SimpleNamespace(id=f"a{i}", team="Home Feed"),
                                    b=SimpleNamespace(id=f"b{i}", team="Marketplace"),
                                    score=1.0 - i / 1000, evidence=[], shared_topics=[]) for i in range(50)]

    def overlaps(self, limit=10, **_):
        return self.all[:limit]

    def __getattr__(self, name):
        return getattr(self.guild, name)


def test_every_strong_overlap_is_explained_however_many_there_are(demo_guild):
    from guildbot.syncs.service import SyncService
    answers = ManyOverlaps(demo_guild)
    _, why = SyncService(demo_guild.store, answers, demo_guild.config).explain(save=False)
    strong = [o for o in why["overlaps"] if o["strong"]]
    assert len(strong) == 50 and all(o["reason"] for o in strong)
    assert {o["status"] for o in strong} <= {"no_people", "one_side", "too_few", "opted_out", "busy", "repeat", "budget",
                                             "not_planned", "proposed"}
