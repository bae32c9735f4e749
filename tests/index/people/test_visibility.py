"""Permission-aware answers: a source's `visibility` decides who sees its documents, and through them
its projects, the people known from it and what is said about them. A real org (git repositories,
a folder wiki, a directory) crawled with the real model; every index function asked as the owner,
as someone allowed and as an outsider."""
from __future__ import annotations

import json

import pytest

from support.guilds import shared_embedder  # noqa: F401
from guildbot.config.loader import ConfigError, load_config
from index.people.visibility import Viewer, admits, directory_team, make_viewer
from support.visibility_org import SECRET, org, vault_urls  # noqa: F401

def urls(hits) -> set[str]:
    return {h.url for h in hits}


# -- rules ------------------------------------------------------------------------------------------
def test_rules_admit_the_right_teams():
    assert admits("public", "Vault", "") and admits("public", "Vault", "Feed")
    assert admits("team", "Vault", "vault") and not admits("team", "Vault", "Feed") and not admits("team", "Vault", "")
    assert admits(("Audit", "Vault"), "Audit", "Vault") and not admits(("Audit",), "Audit", "Feed")
    rules = {"a": ("Feed", "public"), "b": ("Vault", "team"), "c": ("Audit", ("Audit", "Vault"))}
    assert make_viewer(rules, "Vault").sources == {"a", "b", "c"}
    assert make_viewer(rules, "Feed").sources == {"a"}
    assert make_viewer(rules, "").sources == {"a"}
    rows = [{"email": "Ada@Corp.example", "team": "Feed", "slack_id": "U1"}]
    assert directory_team(rows, email="ada@corp.example") == "Feed" and directory_team(rows, slack_id="U1") == "Feed"
    assert directory_team(rows, email="nobody@corp.example") == "" and directory_team(rows) == ""


@pytest.mark.parametrize("value, problem", [
    ('"secret"', "unknown visibility 'secret'"),
    ('["Nowhere"]', "'Nowhere', which is not a declared team"),
    ("[]", "empty list"),
    ("3", "`visibility` must be a str or list"),
])
def test_bad_visibility_is_a_config_error_naming_the_fix(tmp_path, value, problem):
    path = tmp_path / "guild.toml"
    path.write_text(f'[[teams]]\nname = "Feed"\n\n[[sources]]\nkind = "files"\nname = "w"\nteam = "Feed"\n'
                    f'path = "."\nvisibility = {value}\n')
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert problem in str(e.value) and "[[sources]] #1" in str(e.value) and "fix:" in str(e.value)


def test_visibility_values_are_kept():
    from pathlib import Path
    cfg_text = ('[[teams]]\nname = "Feed"\n[[teams]]\nname = "Risk"\n[[sources]]\nkind = "files"\nname = "w"\n'
                'team = "Feed"\npath = "."\nvisibility = ["risk", "Feed"]\n[[sources]]\nkind = "files"\nname = "v"\n'
                'team = "Feed"\npath = "."\n')
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "guild.toml").write_text(cfg_text)
        cfg = load_config(Path(d) / "guild.toml")
    assert cfg.sources[0].visibility == ("Risk", "Feed") and cfg.sources[1].visibility == "public"


# -- viewers --------------------------------------------------------------------------------------
def test_viewer_comes_from_the_directory_by_email_or_slack_id(org):
    assert org.viewer_for(email="cy@corp.example").sources == {"feed", "vault", "audit-wiki"}
    assert org.viewer_for(slack_id="U0DI").sources == {"feed", "audit-wiki"}
    assert org.viewer_for(email="ADA@corp.example").sources == {"feed"}
    assert [s["name"] for s in org.sources(viewer=org.viewer_for(slack_id="U0DI"))] == ["feed", "audit-wiki"]
    stranger = org.viewer_for(email="zed@contractor.example")  # in the index, not in the directory
    assert stranger.sources == {"feed"} and stranger.team == ""


# -- search ----------------------------------------------------------------------------------------
def test_restricted_documents_never_reach_outsiders_in_hits_or_snippets(org):
    owner = org.search(f"{SECRET} ledger", limit=10)
    assert vault_urls(org, answers_only=True) <= urls(owner)
    for viewer in (org.viewer_for(email="ada@corp.example"), org.viewer_for(email="di@corp.example")):
        hits = org.search(f"{SECRET} ledger payment risk", limit=10, viewer=viewer)
        assert not urls(hits) & vault_urls(org)
        assert all(h.source in viewer.sources for h in hits)
        assert not any(SECRET in (h.snippet + h.title).casefold() for h in hits)
    insider = org.search(f"{SECRET} ledger", limit=10, viewer=org.viewer_for(email="cy@corp.example"))
    assert vault_urls(org, answers_only=True) <= urls(insider)
    audit = org.search("audit trail seven years", limit=3, viewer=org.viewer_for(email="di@corp.example"))
    assert audit and audit[0].source == "audit-wiki"
    assert "audit-wiki" not in {h.source for h in org.search("audit trail seven years", limit=10,
                                                             viewer=org.viewer_for(email="bo@corp.example"))}


def test_owner_answers_are_unchanged_by_the_viewer_machinery(org):
    from index.expertise.experts import rank_experts
    from index.people.visibility import effective

    everything = Viewer(frozenset(s.name for s in org.config.sources))
    for q in ("feed ranking features", f"{SECRET} ledger"):  # the index functions, filtering with every source
        assert [h.public() for h in org.searcher.search(q)] == [h.public() for h in org.searcher.search(q, viewer=everything)]
        plain, filtered = org.searcher.ranked(q)[0], org.searcher.ranked(q, viewer=everything)[0]
        assert plain == filtered
        assert [e.public() for e in rank_experts(org.store, plain)] == \
            [e.public() for e in rank_experts(org.store, filtered, viewer=everything)]
    # a viewer who may see every stored source is answered without filtering at all
    assert effective(org.store, everything) is None and effective(org.store, None) is None
    assert effective(org.store, org.viewer_for(email="bo@corp.example")) is not None


# -- experts ------------------------------------------------------------------------------------------
def test_who_reveals_nobody_known_only_through_restricted_sources(org):
    owner = [e.name for e in org.experts(f"who knows the {SECRET} ledger")]
    assert "Zed Quill" in owner and "Cy Moss" in owner
    feed = org.viewer_for(email="bo@corp.example")
    for e in org.experts(f"who knows the {SECRET} ledger", viewer=feed):
        assert e.name not in ("Zed Quill", "Cy Moss")
        assert all(ev.source in feed.sources for ev in e.evidence)
        assert "ada.private@home.example" not in e.emails
    ada = next(e for e in org.experts("who knows the feed ranker", viewer=feed) if e.name == "Ada Lind")
    assert ada.emails == ["ada@corp.example"]
    ada_owner = next(e for e in org.experts("who knows the feed ranker") if e.name == "Ada Lind")
    assert "ada.private@home.example" in ada_owner.emails  # the owner sees the merged identity
    vault = org.viewer_for(email="cy@corp.example")
    assert "Zed Quill" in [e.name for e in org.experts(f"who knows the {SECRET} ledger", viewer=vault)]


def test_expert_scores_come_from_visible_documents_only(org):
    feed = org.viewer_for(email="bo@corp.example")
    scores = {e.name: e.score for e in org.experts("who knows payment risk scores", viewer=feed)}
    owner = {e.name: e.score for e in org.experts("who knows payment risk scores")}
    assert "Cy Moss" in owner and "Cy Moss" not in scores


# -- catalog and overlaps --------------------------------------------------------------------------------
def test_projects_project_pages_and_overlaps_hide_restricted_projects(org):
    feed = org.viewer_for(email="ada@corp.example")
    owner = {p.source for p in org.projects()}
    assert {"feed", "vault", "audit-wiki"} <= owner
    seen = org.projects(viewer=feed)
    assert {p.source for p in seen} == {"feed"}
    assert not any(SECRET in (p.summary + " ".join(p.topics)).casefold() for p in seen)
    assert org.projects(topic=SECRET, viewer=feed) == []
    vault = next(p for p in org.projects() if p.source == "vault")
    assert org.project(vault.id) is not None and org.project(vault.id, viewer=feed) is None
    assert org.project(vault.name, viewer=feed) is None
    assert org.project(vault.id, viewer=org.viewer_for(email="cy@corp.example")) is not None
    # three projects are too few for the overlap calibration (index/catalog/pairs.py) to find any: store the
    # pairs it would, so that there are restricted overlaps to hide
    with org.store.transaction():
        for a, b in (("feed", "vault"), ("audit-wiki", "vault"), ("audit-wiki", "feed")):
            org.store.conn.execute("INSERT INTO project_pairs (a, b, lead, score) VALUES (?, ?, 0.3, 0.9) "
                                   "ON CONFLICT (a, b) DO UPDATE SET lead = excluded.lead, score = excluded.score", (a, b))
    pairs = org.overlaps(limit=20)
    assert any("vault" in (o.a.source, o.b.source) for o in pairs)
    for viewer in (feed, org.viewer_for(email="di@corp.example")):
        for o in org.overlaps(limit=20, viewer=viewer):
            assert o.a.source in viewer.sources and o.b.source in viewer.sources
            assert SECRET not in json.dumps(o.public()).casefold()


# -- people ---------------------------------------------------------------------------------------------
def test_profiles_show_only_visible_work_and_identities(org):
    feed = org.viewer_for(email="bo@corp.example")
    full = org.person("ada@corp.example")
    assert "vault" in {p["name"] for p in full.projects} and "ada.private@home.example" in full.emails
    ada = org.person("ada@corp.example", viewer=feed)
    text = json.dumps(ada.public()).casefold()
    assert SECRET not in text and "vault" not in text and "ada.private@home.example" not in text
    assert {p["name"] for p in ada.projects} == {"feed"}
    assert ada.recent and all(r["project"] == "feed" for r in ada.recent)
    # the private email names Ada only to the owner and the vault team
    assert org.person("ada.private@home.example", viewer=feed) is None
    assert org.person("ada.private@home.example", viewer=org.viewer_for(email="cy@corp.example")).name == "Ada Lind"


def test_a_person_known_only_through_restricted_sources_is_not_found(org):
    feed = org.viewer_for(email="bo@corp.example")
    assert org.person("Zed Quill") is not None
    assert org.person("Zed Quill", viewer=feed) is None
    assert "Zed Quill" not in {p["name"] for p in org.people(viewer=feed)}
    assert "Zed Quill" in {p["name"] for p in org.people()}
    with pytest.raises(LookupError):
        org.similar("Zed Quill", viewer=feed)
    cy = org.person("Cy Moss", viewer=feed)  # in the directory: known, but none of the work shows
    assert cy.team == "Vault" and cy.projects == [] and cy.recent == [] and cy.topics == []


def test_similar_people_use_visible_work_only(org):
    audit = org.viewer_for(email="di@corp.example")  # sees feed and the audit wiki, not the vault
    owner = [s.name for s in org.similar("Bo Berg", limit=10)]
    assert "Cy Moss" in owner and "Zed Quill" in owner
    assert [s.name for s in org.similar("Bo Berg", limit=10, viewer=org.viewer_for(email="cy@corp.example"))] == owner
    assert not {"Cy Moss", "Zed Quill"} & {s.name for s in org.similar("Bo Berg", limit=10, viewer=audit)}
    ada = next(s for s in org.similar("Cy Moss", limit=10) if s.name == "Ada Lind")
    assert any("ledger" in e["title"].casefold() for e in ada.evidence)  # the owner sees Ada's vault work
    assert org.similar("Cy Moss", limit=10, viewer=audit) == []  # Cy's visible work: none
    for s in org.similar("Ada Lind", limit=10, viewer=audit):
        assert s.name != "Zed Quill" and SECRET not in json.dumps(s.public()).casefold()


# -- the CLI --------------------------------------------------------------------------------------------
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    from guildbot.cli.main import main
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_as_email_answers_as_that_person_sees_it(org, capsys):
    cfg = str(org.config.path)
    _, out, _ = run_cli(capsys, "--config", cfg, "search", f"{SECRET} ledger", "--json")
    assert vault_urls(org) & {h["url"] for h in json.loads(out)}
    _, out, _ = run_cli(capsys, "--config", cfg, "search", f"{SECRET} ledger", "--json", "--as", "bo@corp.example")
    assert not vault_urls(org) & {h["url"] for h in json.loads(out)}
    _, out, _ = run_cli(capsys, "--config", cfg, "who", f"who knows the {SECRET} ledger", "--json", "--as", "bo@corp.example")
    assert "Zed Quill" not in {e["name"] for e in json.loads(out)}
    _, out, _ = run_cli(capsys, "--config", cfg, "projects", "--json", "--as", "bo@corp.example")
    assert {p["source"] for p in json.loads(out)} == {"feed"}
    code, _, err = run_cli(capsys, "--config", cfg, "project", "vault", "--as", "bo@corp.example")
    assert code == 2 and "no project named 'vault'" in err
    _, out, _ = run_cli(capsys, "--config", cfg, "overlaps", "--json", "--as", "bo@corp.example")
    assert "vault" not in out
    code, _, err = run_cli(capsys, "--config", cfg, "person", "Zed Quill", "--as", "bo@corp.example")
    assert code == 2 and "nobody matches" in err
    _, out, _ = run_cli(capsys, "--config", cfg, "person", "Ada Lind", "--json", "--as", "bo@corp.example")
    assert SECRET not in out.casefold() and "vault" not in out
    code, _, err = run_cli(capsys, "--config", cfg, "similar", "Zed Quill", "--as", "bo@corp.example")
    assert code == 2
    _, out, _ = run_cli(capsys, "--config", cfg, "people", "--json", "--as", "bo@corp.example")
    assert "Zed Quill" not in out
    _, out, err = run_cli(capsys, "--config", cfg, "search", f"{SECRET} ledger", "--json", "--as", "who@else.example")
    assert "not in the people directory" in err and not vault_urls(org) & {h["url"] for h in json.loads(out)}
    _, out, _ = run_cli(capsys, "--config", cfg, "search", f"{SECRET} ledger", "--json", "--as", "cy@corp.example")
    assert vault_urls(org) & {h["url"] for h in json.loads(out)}

