"""Who may join a sync and why a topic did or did not become one, on hand-made people: directory
members whose work is old, a side of one person, a side with nobody in the directory, and the
reason given for every strong overlap."""
from __future__ import annotations

from datetime import datetime, timezone

from index.syncs.plan import (Candidate, Pair, Person, PlanSettings, Topic, explain_overlaps, form_group, plan,
                            topics_from_pairs)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


def person(pid: str, team: str, *flags: str, tz: str = "Europe/Berlin") -> Person:
    return Person(pid, pid.title(), f"{pid}@x.example", team, tz, "" if "noslack" in flags else "U" + pid.upper(),
                  in_directory="external" not in flags)


PEOPLE = {p.id: p for p in [person("a1", "A"), person("a2", "A"), person("a3", "A"), person("b1", "B"),
                            person("b2", "B"), person("c1", "C"), person("ext", "B", "external"),
                            person("ext2", "A", "external")]}
TOPIC = Topic("x+y", "Drift alerts", ["x", "y"], ["A", "B"], [], 0.9)


def ids(group) -> list[str]:
    return [p.id for p in group]


def test_directory_people_with_old_work_are_candidates_when_an_outsider_did_most_of_it():
    # an outside contributor, active this week, did most of the work; staff worked on it years ago
    scores = {"ext": Candidate(1.0, 1.0), "ext2": Candidate(0.9, 1.0), "a1": Candidate(0.06, 0.1),
              "a2": Candidate(0.04, 0.1), "b1": Candidate(0.01, 0.1)}
    group = form_group(scores, PEOPLE, PlanSettings(), sides=["A", "B"])
    assert group is not None and sorted(ids(group)) == ["a1", "a2", "b1"]


def test_recency_orders_candidates_and_never_removes_them():
    scores = {"a1": Candidate(1.0, 0.1), "a2": Candidate(0.9, 1.0), "a3": Candidate(0.8, 0.1),
              "b1": Candidate(1.0, 0.1), "b2": Candidate(0.5, 1.0)}
    group = form_group(scores, PEOPLE, PlanSettings(max_size=6), sides=["A", "B"])
    assert ids(group) == ["a2", "b2", "a1", "b1", "a3"]  # the recent first, and everyone who knows it


def test_one_person_on_a_side_is_enough_when_the_other_side_brings_the_rest():
    scores = {"a1": 1.0, "a2": 0.9, "b1": 0.02}
    assert sorted(ids(form_group(scores, PEOPLE, PlanSettings(min_size=3), sides=["A", "B"]))) == ["a1", "a2", "b1"]
    # and a third team's passer-by is held to the best of all, not to its own team's best
    assert "c1" not in ids(form_group({**scores, "c1": 0.01}, PEOPLE, PlanSettings(), sides=["A", "B"]))


def test_a_side_with_nobody_in_the_directory_is_named_by_its_channel():
    scores = {"a1": 1.0, "a2": 0.8, "ext": 2.0}
    result = plan([TOPIC], {TOPIC.key: scores}, PEOPLE, PlanSettings(), NOW, contacts={"B": "#b-team"})
    (proposal,) = result.proposals
    assert ids(proposal.members) == ["a1", "a2"]
    assert proposal.contacts == [{"team": "B", "contact": "#b-team"}]
    public = proposal.public()
    assert public["teams"] == ["A", "B"] and public["contacts"] == [{"team": "B", "contact": "#b-team"}]
    # without a channel or owner to name, the topic cannot be met, and the reason says what to do
    (outcome,) = plan([TOPIC], {TOPIC.key: scores}, PEOPLE, PlanSettings(), NOW).outcomes
    assert outcome.status == "one_side" and "slack_channel" in outcome.reason and "B" in outcome.reason


def test_every_reason_is_given_in_words_an_organiser_can_act_on():
    settings = PlanSettings(max_syncs=5, avoid_repeat_weeks=4)
    t = {k: Topic(k, k.title(), [k + "1", k + "2"], ["A", "B"], [], 1.0 - i / 10)
         for i, k in enumerate(["ok", "nobody", "optout", "busy", "repeat", "few"])}
    cands = {"ok": {"a1": 1.0, "b1": 1.0, "a2": 0.5},
             "nobody": {"ext": 1.0, "ext2": 1.0},
             "optout": {"a3": 1.0, "b2": 1.0, "c1": 0.9},
             "busy": {"a1": 1.0, "b1": 1.0, "a2": 0.9},
             "repeat": {"a3": 1.0, "b2": 1.0, "c1": 1.0},
             "few": {"a3": 1.0, "b2": 0.5}}
    recent = [{"a3", "b2", "c1"}]
    result = plan(list(t.values()), {t[k].key: v for k, v in cands.items()}, PEOPLE, settings, NOW,
                  recent=recent, opted_out={"UC1", "UB2"})
    by = {o.topic.key: o for o in result.outcomes}
    assert len(result.outcomes) == len(t)
    assert by["ok"].status == "proposed" and by["ok"].proposal is not None
    assert by["nobody"].status == "no_people" and "directory" in by["nobody"].reason
    assert by["optout"].status == "opted_out" and "optout --undo" in by["optout"].reason
    assert by["busy"].status == "busy" and "max_per_person" in by["busy"].reason
    assert by["few"].status in ("opted_out", "too_few")
    # the same people, nobody opted out: the group met recently, or is too small
    again = plan([t["repeat"], t["few"]], {"repeat": cands["repeat"], "few": cands["few"]}, PEOPLE, settings, NOW,
                 recent=recent)
    by = {o.topic.key: o for o in again.outcomes}
    assert by["repeat"].status == "repeat" and "avoid_repeat_weeks" in by["repeat"].reason
    assert by["few"].status == "too_few" and "group_size" in by["few"].reason
    budget = plan([t["ok"], t["repeat"]], cands, PEOPLE, PlanSettings(max_syncs=1), NOW)
    assert [o.status for o in budget.outcomes] == ["proposed", "budget"] and "max_syncs" in budget.outcomes[1].reason


def test_every_strong_overlap_is_accounted_for():
    pairs = [Pair("hub", "H", "a", "A", 0.95), Pair("hub", "H", "b", "B", 0.9), Pair("hub", "H", "c", "C", 0.85),
             Pair("a", "A", "d", "D", 0.8), Pair("d", "D", "e", "E", 0.78), Pair("e", "E", "c", "C", 0.77),
             Pair("b", "B", "e", "E", 0.76), Pair("x", "X", "y", "Y", 0.3), Pair("a", "A", "a2", "A", 0.99)]
    settings = PlanSettings(max_projects=3)
    topics = topics_from_pairs(pairs, settings, {})
    people = {p.id: p for p in [person("h1", "H"), person("a1", "A"), person("d1", "D"), person("e1", "E")]}
    cands = {t.key: {pid: 1.0 for pid in people} for t in topics}
    result = plan(topics, cands, people, settings, NOW)
    rows = explain_overlaps(pairs, settings, result.outcomes)
    assert len(rows) == 8  # every cross-team pair, the same-team one left out
    strong = [r for r in rows if r["strong"]]
    assert len(strong) == 7 and all(r["reason"] for r in rows)
    assert {r["status"] for r in strong} <= {"proposed", "merged", "busy", "too_few", "repeat", "one_side"}
    full = next(r for r in strong if {r["a"], r["b"]} == {"hub", "c"})
    assert full["status"] == "merged" and "already has 3 projects" in full["reason"]
    split = next(r for r in strong if {r["a"], r["b"]} == {"b", "e"})
    assert split["status"] == "merged" and "two topics" in split["reason"]
    joined = next(r for r in strong if {r["a"], r["b"]} == {"e", "c"})
    assert joined["topic"] and joined["status"] == next(o.status for o in result.outcomes if "c" in o.topic.projects)
    weak = next(r for r in rows if r["a"] == "x")
    assert not weak["strong"] and weak["status"] == "weak"


def test_a_title_never_uses_a_phrase_most_of_the_orgs_projects_use():
    from collections import Counter

    from index.syncs.plan import key_phrases
    generic = ["Open-source Python library", "machine learning models"]
    background = {"x": generic + ["population stability index", "drift alerts"],
                  "y": generic + ["drift alerts", "population stability index", "feature store"],
                  "z": generic + ["image augmentation"], "w": generic + ["survival curves"],
                  "v": ["open source", "python", "library", "tokenizers"]}
    terms = {"x": Counter({"open-source python library": 9, "machine learning models": 8, "drift alerts": 3,
                           "population stability index": 2}),
             "y": Counter({"open-source python library": 9, "machine learning models": 7, "drift alerts": 2,
                           "population stability index": 1}),
             "z": Counter({"image augmentation": 3}), "w": Counter({"survival curves": 2})}
    teams = {"x": "A", "y": "B", "z": "C", "w": "D", "v": "E"}
    # without the org's background the shared boilerplate wins; with it, what the pair alone shares
    assert key_phrases(["x", "y"], {"x": "A", "y": "B"}, terms, all_teams=teams)[0] == "open-source python library"
    phrases = key_phrases(["x", "y"], {"x": "A", "y": "B"}, terms, all_teams=teams, background=background)
    assert phrases == ["drift alerts", "population stability index"]
    topics = topics_from_pairs([Pair("x", "A", "y", "B", 0.9)], PlanSettings(), terms, all_teams=teams,
                               background=background)
    assert topics[0].title == "Drift alerts: population stability index"
