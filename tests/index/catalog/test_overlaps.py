"""Overlaps: leads against each passage's background, calibrated scores, incremental pair tables, filters."""
import numpy as np
import pytest

import index.catalog.pairs as pairs
from connectors.base import Contributor, Document
from guildbot.config.loader import ConfigError, load_config
from index.catalog.build import build_catalog
from index.catalog.overlaps import rank_overlaps, shared_phrases
from index.catalog.pairs import affinity, leads, score_of
from index.people.resolve import resolve
from index.storage.sqlite.store import Store

DIM = 8


def unit(*values):
    v = np.zeros(DIM, dtype="float32")
    v[:len(values)] = values
    return v / np.linalg.norm(v)


def test_boilerplate_everyone_shares_gives_no_lead_and_distinctive_matches_do():
    # passage 0 is boilerplate (every project has it); passage 1 only project 1 also has
    table = np.asarray([[np.nan, 0.9, 0.9, 0.9, 0.9],
                        [np.nan, 0.8, 0.2, 0.1, 0.2]], dtype="float32")
    lead = leads(table, top=1)
    assert lead[1] == pytest.approx(0.6 * pairs.DISTINCT * 0.8)  # 0.6 above a background of 0.2, distinctive
    assert lead[2] == pytest.approx(0.0) and lead[3] == pytest.approx(0.0)


def test_the_lead_does_not_drift_with_the_number_of_projects():
    rng = np.random.default_rng(0)
    def lead_with(n_others):  # one matching project among n unrelated ones, same distributions
        others = rng.normal(0.3, 0.05, size=(8, n_others))
        table = np.column_stack([np.full(8, np.nan), np.full(8, 0.8), others]).astype("float32")
        return leads(table)[1]
    small, large = lead_with(4), lead_with(400)
    assert abs(small - large) < 0.1 * large and score_of(small) > 0.9 and score_of(large) > 0.9


def test_score_is_in_0_1_and_monotone():
    assert score_of(-0.2) == 0.0 and score_of(0.0) == 0.0
    assert 0 < score_of(0.05) < score_of(0.1) < score_of(0.5) < 1.0


def test_affinity_is_the_closest_passage():
    a = np.stack([unit(1, 0), unit(0, 1)])
    b = np.stack([unit(1, 0.1), unit(-1, 0)])
    assert affinity(a, b) == pytest.approx([unit(1, 0) @ unit(1, 0.1), unit(0, 1) @ unit(1, 0.1)])


def test_shared_phrases_are_both_sides_candidates_without_nested_repeats():
    a = {"cold start": ["cold start", 0.6], "cold": ["cold", 0.4], "listing": ["listings", 0.4], "x": ["x", -0.1]}
    b = {"cold start": ["cold-start", 0.5], "cold": ["cold", 0.7], "x": ["x", 0.3]}
    assert shared_phrases(a, b) == ["cold start"]


# -- on a store ------------------------------------------------------------------------------------
def _put(store, source, team, vectors, text="A library."):
    doc = Document(id=f"{source}:README.md", source=source, team=team, kind="readme", title=source, text=text,
                   path="README.md", metadata={"repo": source},
                   contributors=[Contributor(f"{source} dev", f"dev@{source}.example", count=3)])
    store.put_document(doc, f"h-{source}-{len(vectors)}-{float(np.sum(vectors)):.4f}", "git")
    store.delete_chunks(store.chunk_ids(doc.id))
    store.add_chunks(doc.id, source, [f"{source} passage {i}: " + "about what it does " * 6 for i in range(len(vectors))], vectors)


def _org(store, extra=None):
    boiler = unit(0, 0, 0, 0, 0, 0, 0, 1)  # what every project has
    specs = {"anomaly-a": ("Risk", unit(1, 0.2)), "anomaly-b": ("Fraud", unit(1, -0.1)),
             "explain": ("Risk", unit(0, 1)), "recsys": ("Feed", unit(0, 0, 1)), "forecast": ("Ops", unit(0, 0, 0, 1))}
    specs.update(extra or {})
    with store.transaction():
        for name, (team, v) in specs.items():
            store.save_source(name, kind="git", team=team)
            _put(store, name, team, np.stack([boiler, v, unit(*(v[:3] + 0.1))]))
    resolve(store)


def test_the_distinctive_pair_ranks_first_and_filters_apply(tmp_path):
    store = Store(tmp_path)
    _org(store)
    build_catalog(store)
    every = rank_overlaps(store, limit=50, include_same_team=True)
    assert {every[0].a.id, every[0].b.id} == {"anomaly-a", "anomaly-b"}
    assert all(0 <= o.score <= 1 for o in every) and every[0].score > 0.5
    cross = rank_overlaps(store, limit=50)
    assert all(o.a.team != o.b.team for o in cross)
    assert len(every) > len(cross)  # anomaly-a and explain share a team
    strong = rank_overlaps(store, limit=50, min_score=every[0].score)
    assert [(o.a.id, o.b.id) for o in strong] == [(every[0].a.id, every[0].b.id)]
    assert every[0].evidence and every[0].evidence[0]["a"]["passage"]
    store.close()


def test_a_change_to_one_project_recomputes_only_the_pairs_it_is_in(tmp_path, monkeypatch):
    store = Store(tmp_path)
    _org(store)
    build_catalog(store)
    calls = []
    real = pairs.affinity
    monkeypatch.setattr(pairs, "affinity", lambda a, b: calls.append(1) or real(a, b))
    build_catalog(store)
    assert calls == []  # nothing changed: nothing recomputed
    with store.transaction():
        v, boiler = unit(0, 0, 0, 1), unit(0, 0, 0, 0, 0, 0, 0, 1)  # its passages again, and a new one just like them:
        _put(store, "forecast", "Ops", np.stack([boiler, v, unit(*(v[:3] + 0.1)), boiler, v]))  # the centre stays
    before = {r["project_id"]: r["built_at"] for r in store.query("SELECT project_id, built_at FROM project_content")}
    build_catalog(store)
    assert len(calls) == 2 * 4  # forecast against the four others, both ways
    after = {r["project_id"]: r["built_at"] for r in store.query("SELECT project_id, built_at FROM project_content")}
    assert [p for p in after if after[p] != before[p]] in ([], ["forecast"])
    store.close()


def test_min_score_config(tmp_path):
    base = '[guild]\nname = "A"\n[[teams]]\nname = "T"\n[[sources]]\nkind = "git"\nname = "r"\nteam = "T"\nurl = "/r"\n'
    p = tmp_path / "guild.toml"
    p.write_text(base)
    assert load_config(p).overlaps_min_score == 0.5
    p.write_text(base + "[overlaps]\nmin_score = 0.7\n")
    assert load_config(p).overlaps_min_score == 0.7
    for bad, problem in (("min_score = 2", "between 0 and 1"), ('min_score = "high"', "must be a"),
                         ("threshold = 0.5", "unknown field")):
        p.write_text(base + f"[overlaps]\n{bad}\n")
        with pytest.raises(ConfigError) as e:
            load_config(p)
        assert problem in e.value.problem and "min_score" in e.value.fix
