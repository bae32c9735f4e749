"""The planner never raises on what a real org can hold, and what it proposes keeps its rules:
hypothesis generates catalogs (projects, teams, overlaps, key phrases), directories (people in and
out of it, bots, missing Slack ids, odd hours and zones, shared emails) and histories (recent
groups, this cycle's load, opt-outs), and drives topics, plans and explanations over them."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis (a dev dependency) drives these property tests")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from index.syncs.plan import (CYCLES, Candidate, Pair, Person, PlanSettings, cycle_window, eligible,  # noqa: E402
                            explain_overlaps, jaccard, key_phrases, plan, topics_from_pairs)

TEAMS = ["Feed", "feed", "Risk", "Platform", "Vision", ""]
ZONES = ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati", "Australia/Adelaide"]
HOURS = ["", "09:00-17:00", "22:00-23:30", "00:00-24:00", "06:00-07:00"]
VOCAB = ["drift", "drift alerts", "html", "docs", "", "a", "model", "models", "feature store", "ranking",
         "cold start", "examplevera", "recommendations", "recommender", "population stability index"]
STATUSES = {"proposed", "no_people", "one_side", "opted_out", "busy", "repeat", "too_few", "budget"}


@st.composite
def orgs(draw):
    projects = draw(st.lists(st.sampled_from([f"p{i}" for i in range(7)]), min_size=draw(st.sampled_from([0, 2, 2])),
                             max_size=7, unique=True))
    team_of = {p: draw(st.sampled_from(TEAMS)) for p in projects}
    score = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0, float("nan"), 0.75]))
    pairs = []
    if len(projects) >= 2:
        for a, b, s in draw(st.lists(st.tuples(st.sampled_from(projects), st.sampled_from(projects), score), min_size=1, max_size=12)):
            if a != b:
                pairs.append(Pair(a, team_of[a], b, team_of[b], s, draw(st.lists(st.fixed_dictionaries(
                    {"title": st.sampled_from(["", "Readme"]), "url": st.sampled_from(["", "u1", "u2"])}), max_size=2))))
    terms = {p: Counter(draw(st.dictionaries(st.sampled_from(VOCAB), st.integers(0, 9), max_size=6))) for p in projects}
    ids = [f"u{i}" for i in range(draw(st.sampled_from([0, 1, 3, 6, 8, 10, 12])))]
    people = {}
    for pid in ids:
        people[pid] = Person(pid, draw(st.sampled_from(["Ada", "", "Vera Example"])),
                             draw(st.sampled_from(["", "a@x.example", f"{pid}@x.example"])),
                             draw(st.sampled_from(TEAMS + [team_of[p] for p in projects] * 2)), draw(st.sampled_from(ZONES)),
                             draw(st.sampled_from(["U" + pid.upper(), "U" + pid.upper(), ""])),
                             draw(st.sampled_from(HOURS)), draw(st.sampled_from([True, True, True, False])),
                             draw(st.sampled_from([False, False, False, True])))
    expertise = st.one_of(st.floats(0.2, 1), st.floats(0.2, 1), st.floats(0.2, 1), st.floats(0, 1e6, allow_nan=False),
                          st.sampled_from([0.0, -1.0, float("nan"), float("inf")]))
    cands = {pid: draw(st.tuples(expertise, st.floats(0, 1))) for pid in ids + ["ghost"] if draw(st.integers(0, 3)) < 3}
    recent = draw(st.lists(st.sets(st.sampled_from(ids + ["gone"]), max_size=5), max_size=4))
    load = draw(st.dictionaries(st.sampled_from(ids or ["none"]), st.integers(0, 3), max_size=5))
    keys = ids + [p.email.casefold() for p in people.values() if p.email] + [p.slack_id for p in people.values() if p.slack_id]
    opted = draw(st.sets(st.sampled_from(keys or ["nobody"]), max_size=4))
    low = draw(st.sampled_from([2, 3, 3, 4, 5]))
    plan_settings = PlanSettings(min_size=low, max_size=draw(st.integers(low, 7)), max_per_person=draw(st.integers(1, 3)),
                                 max_syncs=draw(st.sampled_from([0, 1, 3, 3, 4])), cycle=draw(st.sampled_from(CYCLES)),
                                 avoid_repeat_weeks=draw(st.integers(0, 8)))
    now = draw(st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(timezone.utc)))
    contacts = {t: "#" + (t.casefold() or "x") for t in draw(st.sets(st.sampled_from(TEAMS), max_size=3))}
    return pairs, terms, people, {k: Candidate(*v) for k, v in cands.items()}, recent, load, opted, plan_settings, now, contacts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(orgs())
def test_planning_never_raises_and_every_proposal_keeps_the_rules(org):
    pairs, terms, people, cands, recent, load, opted, config, now, contacts = org
    topics = topics_from_pairs(pairs, config, terms, exclude={"vera"}, all_teams={p.a: p.a_team for p in pairs},
                               background={p: list(c) for p, c in terms.items()})
    result = plan(topics, {t.key: cands for t in topics}, people, config, now, load=load, recent=recent,
                  opted_out=opted, contacts=contacts)
    assert [o.topic.key for o in result.outcomes] == [t.key for t in topics]  # every topic accounted for, once
    assert all(o.status in STATUSES and o.reason for o in result.outcomes)
    assert [o.proposal for o in result.outcomes if o.status == "proposed"] == result.proposals
    assert len(result.proposals) <= config.max_syncs
    first, last = cycle_window(now, config.cycle)
    used = Counter({k: v for k, v in load.items()})
    groups = [set(r) for r in recent]
    for p in result.proposals:
        members = p.members
        assert all(eligible(m, opted) for m in members)
        assert len({m.id for m in members}) == len(members) <= config.max_size
        assert len(members) + len(p.contacts) >= config.min_size
        assert len({m.team for m in members} | {c["team"] for c in p.contacts}) >= 2
        group = {m.id for m in members}
        assert all(jaccard(group, g) < 0.6 for g in groups)
        groups.append(group)
        used.update(group)
        for s in p.slots:
            assert first <= s.start.date() <= last and s.end > s.start
        public = p.public()
        assert public["teams"] == sorted(public["teams"]) and public["topic"]
    assert all(used[m.id] <= max(config.max_per_person, load.get(m.id, 0)) for p in result.proposals for m in p.members)
    rows = explain_overlaps(pairs, config, result.outcomes)
    cross = [p for p in pairs if p.a_team.casefold() != p.b_team.casefold() and p.score == p.score]
    assert len(rows) == len(cross) and all(r["reason"] and r["status"] for r in rows)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["p0", "p1", "p2", "p3"]), min_size=1, max_size=4, unique=True),
       st.dictionaries(st.sampled_from(["p0", "p1", "p2", "p3", "p4"]),
                       st.dictionaries(st.sampled_from(VOCAB), st.integers(0, 9), max_size=5), max_size=5),
       st.dictionaries(st.sampled_from(["p0", "p1", "p2", "p3", "p4"]), st.sampled_from(TEAMS), max_size=5))
def test_key_phrases_never_raise_and_never_name_boilerplate_or_people(projects, terms, teams):
    phrases = key_phrases(projects, teams, {k: Counter(v) for k, v in terms.items()}, exclude={"vera"},
                          all_teams=teams)
    assert len(phrases) <= 3
    assert not {"html", "docs", "examplevera", ""} & set(phrases)
