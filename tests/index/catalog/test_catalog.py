"""The project catalog: parsing project files, grouping documents, where each field comes from, overlaps."""
import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from connectors.base import Contributor, Document, SourceContext
from connectors.git import GitConnector
from connectors.common.projectfiles import parse_catalog_info, parse_package_keywords, project_files, project_metadata
from guildbot.cli.main import main
from index.catalog.build import (DeclaredProject, ProjectKey, build_catalog, codeowners_owners, doc_projects, first_section,
                           get_project, group_documents, list_projects, merge_units, norm_project_name, owner_identity,
                           parse_codeowners, project_members, status_of)
from index.catalog.overlaps import rank_overlaps
from index.people.resolve import resolve
from index.storage.sqlite.store import Store

BOTS = ("dependabot", "github-actions", "[bot]")


# -- project files -------------------------------------------------------------------------------
def test_codeowners_catch_all_rule_gives_the_owners():
    text = """# comment
* @acme/old-team
/docs/   @writer
*   @acme/home-feed   @ada     # the last matching rule wins
[Section] @ignored
/src/my\\ dir/ @bob
"""
    rules = parse_codeowners(text)
    assert rules[-1] == ("/src/my dir/", ["@bob"])
    assert codeowners_owners(rules) == ["@acme/home-feed", "@ada"]


def test_codeowners_without_catch_all_lists_owners_most_rules_first():
    rules = parse_codeowners("/a/ @x @y\n/b/ @y\n/c/ @z\n")
    assert codeowners_owners(rules) == ["@y", "@x", "@z"]


def test_owner_identity_tells_people_from_teams():
    assert owner_identity("@acme/home-feed") is None
    assert owner_identity("group:default/marketplace") is None
    assert owner_identity("marketplace") is None  # a bare Backstage owner is a group
    assert owner_identity("@ada-l") == {"username": "ada-l"}
    assert owner_identity("user:default/ada-l") == {"username": "ada-l"}
    assert owner_identity("Ada@Corp.example") == {"email": "ada@corp.example"}


def test_catalog_info_picks_the_component_and_its_fields():
    text = """apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: recs}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ranker
  description: Ranks things.
  tags: [ranking, ml]
  links: [{url: "https://x.example/dash", title: Dashboard}]
spec: {owner: "group:feed", lifecycle: production}
"""
    info = parse_catalog_info(text)
    assert info == {"name": "ranker", "description": "Ranks things.", "tags": ["ranking", "ml"], "owner": "group:feed",
                    "lifecycle": "production", "links": [{"title": "Dashboard", "url": "https://x.example/dash"}]}
    assert "error" in parse_catalog_info("metadata: [unclosed")
    assert parse_catalog_info("") == {}


def test_package_keywords_from_pyproject_and_setup_cfg():
    assert parse_package_keywords("pyproject.toml", '[project]\nname = "x"\nkeywords = ["drift", "monitoring"]\n') == \
        ["drift", "monitoring"]
    assert parse_package_keywords("setup.cfg", "[metadata]\nkeywords = drift, psi\n  alerts\n") == ["drift", "psi", "alerts"]
    assert parse_package_keywords("pyproject.toml", "not toml [") == []


def test_project_metadata_looks_for_codeowners_in_github_order():
    paths = ["docs/CODEOWNERS", "CODEOWNERS", "src/x.py", "catalog-info.yaml"]
    assert project_files(paths) == ["CODEOWNERS", "docs/CODEOWNERS", "catalog-info.yaml"]
    meta = project_metadata({"docs/CODEOWNERS": "* @docs", "CODEOWNERS": "* @root",
                             "catalog-info.yaml": "metadata: {name: x}\nspec: {owner: team-x}\n"})
    assert meta["codeowners"] == "* @root" and meta["codeowners_path"] == "CODEOWNERS"
    assert meta["catalog_info"] == {"name": "x", "owner": "team-x"}


def test_git_readme_carries_project_files_and_follows_an_incremental_change(make_repo, tmp_path):
    repo = make_repo("svc")
    repo.commit("Ada Lovelace", "ada@acme.example", {"README.md": "# svc\n\nA service.\n",
                                                     "docs/CODEOWNERS": "* @ada\n",
                                                     "setup.cfg": "[metadata]\nkeywords = ranking\n"})
    ctx = SourceContext(name="svc", team="T", work_dir=tmp_path / "work", base_dir=tmp_path)
    conn = GitConnector({"url": str(repo.path)}, ctx)
    items = list(conn.crawl(None))
    readme = next(i for i in items if isinstance(i, Document) and i.kind == "readme")
    assert readme.metadata["codeowners"] == "* @ada\n" and readme.metadata["codeowners_path"] == "docs/CODEOWNERS"
    assert readme.metadata["keywords"] == ["ranking"]
    state = items[-1].state
    repo.commit("Bob Stone", "bob@acme.example", {".github/CODEOWNERS": "* @bob\n"})  # README untouched
    readme = next(i for i in conn.crawl(state) if isinstance(i, Document) and i.kind == "readme")
    assert readme.metadata["codeowners"] == "* @bob\n" and readme.metadata["codeowners_path"] == ".github/CODEOWNERS"


# -- pure helpers ----------------------------------------------------------------------------------
def test_status_from_the_last_activity():
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert status_of((now - timedelta(days=179)).isoformat(), now) == "active"
    assert status_of((now - timedelta(days=181)).isoformat(), now) == "dormant"
    assert status_of(None, now) == "unknown"
    assert status_of("2024-12-31T00:00:00", now) == "active"  # naive dates are UTC


def test_first_section_skips_the_title_and_stops_at_the_next_heading():
    text = "feed-ranker\n\nThe Home Feed recommender.\n\nIt ranks posts\nfor members.\n\nHow it works\n\nSteps."
    assert first_section(text, "feed-ranker") == "The Home Feed recommender. It ranks posts for members."
    long = "Title\n\n" + "This sentence is long enough to matter. " * 30
    summary = first_section(long, "Title", limit=100)
    assert len(summary) <= 100 and summary.endswith(".")


def test_grouping_repositories_and_wiki_project_spaces():
    docs = [
        {"id": "r:README.md", "source": "r", "path": "README.md", "metadata": {"repo": "r"}},
        {"id": "org:a/README.md", "source": "org", "path": "README.md", "metadata": {"repo": "a"}},
        {"id": "w:1", "source": "w", "path": "Home Feed/Ranker/Experiments", "metadata": {"namespace": 0}},
        {"id": "w:2", "source": "w", "path": "Home Feed/Ranker", "metadata": {}},  # the project's main page
        {"id": "w:3", "source": "w", "path": "Home Feed/Onboarding", "metadata": {}},
        {"id": "w:4", "source": "w", "path": "Help:Home Feed/Ranker/FAQ", "metadata": {"namespace": 12}},
        {"id": "f:1", "source": "f", "path": "retrieval/notes.md", "metadata": {}},
        {"id": "f:2", "source": "f", "path": "retrieval.md", "metadata": {}},
        {"id": "f:3", "source": "f", "path": "welcome.md", "metadata": {}},
        {"id": "web:1", "source": "web", "path": "docs/guide/a.html", "metadata": {}},
        {"id": "c:1", "source": "c", "path": "Home / Page", "metadata": {"space": "ML"}},
    ]
    kinds = {"r": "git", "org": "github", "w": "mediawiki", "f": "files", "web": "web", "c": "confluence"}
    groups = group_documents(docs, kinds, {"w": "Home Feed/"})
    got = {(k.id, k.name, k.kind): sorted(d["id"] for d in v) for k, v in groups.items()}
    assert got == {
        ("r", "r", "repository"): ["r:README.md"],
        ("org/a", "a", "repository"): ["org:a/README.md"],
        ("w/Ranker", "Ranker", "space"): ["w:1", "w:2", "w:4"],
        ("w", "w", "space"): ["w:3"],
        ("f/retrieval", "retrieval", "space"): ["f:1", "f:2"],
        ("f", "f", "space"): ["f:3"],
        ("web", "web", "space"): ["web:1"],
        ("c/ML", "ML", "space"): ["c:1"],
    }


def test_a_space_joins_the_repository_it_documents():
    repo, other = ProjectKey("darts", "darts", "repository", "darts"), ProjectKey("tsl", "tsl", "repository", "tsl")
    space = ProjectKey("wiki/Darts", "Darts", "space", "wiki")
    site = ProjectKey("darts-docs", "darts-docs", "space", "darts-docs")
    notes = ProjectKey("wiki/Notes", "Notes", "space", "wiki")
    linked = ProjectKey("conf/FC", "FC", "space", "conf")
    entries = merge_units([space, repo, other, site, notes, linked], mentions={"conf/FC": {"tsl": 5, "darts": 1}})
    assert entries[repo] == [repo, site, space]  # same normalised name: one entry, the repository first
    assert entries[other] == [other, linked]  # most of its pages link to the tsl repository
    assert entries[notes] == [notes] and len(entries) == 3
    assert norm_project_name("Light-FM docs") == norm_project_name("lightfm") == "lightfm"
    declared = merge_units([space, repo, other, notes], [DeclaredProject("Forecasting", ("tsl", "wiki/notes"))])
    assert declared[ProjectKey("Forecasting", "Forecasting", "repository", "tsl")] == [other, notes]
    assert declared[repo] == [repo, space]


def test_projects_config_declares_one_project_from_several_sources(tmp_path):
    from guildbot.config.loader import ConfigError, load_config
    base = ('[guild]\nname = "A"\n[[teams]]\nname = "T"\n[[sources]]\nkind = "git"\nname = "r"\nteam = "T"\n'
            'url = "/r"\n[[sources]]\nkind = "files"\nname = "w"\nteam = "T"\npath = "w"\n')
    p = tmp_path / "guild.toml"
    p.write_text(base + '[[projects]]\nname = "Ranker"\nsources = ["r", "w/Ranker"]\n')
    cfg = load_config(p)
    assert [(x.name, x.sources) for x in cfg.projects] == [("Ranker", ["r", "w/Ranker"])]
    for bad, problem in (('name = "X"\nsources = ["nope"]', "names no configured source"),
                         ('name = "X"\nsources = []', "non-empty list"), ('sources = ["r"]', "missing required field"),
                         ('name = "X"\nsources = ["r"]\nteam = "T"', "unknown field")):
        p.write_text(base + "[[projects]]\n" + bad + "\n")
        with pytest.raises(ConfigError) as e:
            load_config(p)
        assert problem in e.value.problem and e.value.entry.startswith("[[projects]] #1") and e.value.fix


def test_a_wiki_space_and_its_repository_are_one_project_for_experts_too(tmp_path):
    store = Store(tmp_path)
    with store.transaction():
        store.save_source("lightfm", kind="git", team="Recs")
        store.save_source("wiki", kind="mediawiki", team="Recs")
        _doc(store, "lightfm:README.md", "lightfm", "Recs", "LightFM is a recommender.",
             [Contributor("Ada Lovelace", "ada@x.example", role="committer", count=40)],
             kind="readme", path="README.md", metadata={"repo": "lightfm"}, src_kind="git")
        _doc(store, "wiki:Recs/LightFM/docs/index", "wiki", "Recs", "How to use LightFM.",
             [Contributor("Bob Stone", "bob@x.example", role="editor", count=4)],
             kind="wiki_page", path="Recs/LightFM/docs/index", src_kind="mediawiki")
    resolve(store)
    assert doc_projects(store, ["wiki:Recs/LightFM/docs/index"]) == {"wiki:Recs/LightFM/docs/index": "wiki"}  # not built yet
    build_catalog(store, prefixes={"wiki": "Recs/"})
    [p] = list_projects(store)
    assert p.id == "lightfm" and [s["id"] for s in p.sources] == ["lightfm", "wiki/LightFM"]
    assert doc_projects(store, ["wiki:Recs/LightFM/docs/index", "lightfm:README.md"]) == {
        "wiki:Recs/LightFM/docs/index": "lightfm", "lightfm:README.md": "lightfm"}
    people = {store.query("SELECT name FROM people WHERE id = ?", [m["person_id"]])[0]["name"]: m["n"]
              for m in project_members(store, "lightfm")}
    assert people == {"Ada Lovelace": 40, "Bob Stone": 4}  # commits to the repository, edits to its space
    store.close()


# -- building from a store --------------------------------------------------------------------------
def _doc(store, doc_id, source, team, text, contributors, kind="doc", path="", metadata=None, src_kind="files"):
    store.put_document(Document(id=doc_id, source=source, team=team, kind=kind, title=doc_id, text=text,
                                path=path or doc_id, metadata=metadata or {}, contributors=contributors), "h", src_kind)


def _vec(store, doc_id, values):
    v = np.asarray(values, dtype="float32")
    store.add_chunks(doc_id, doc_id, ["what this service does, in a sentence long enough to count as prose " * 2], [v / np.linalg.norm(v)])


def test_owners_fall_back_to_top_contributors_and_same_team_pairs_never_overlap(tmp_path):
    store = Store(tmp_path)
    with store.transaction():
        store.save_source("a", kind="git", team="A")
        for src, team, vec in (("a", "A", [1, 0, 0]), ("b", "A", [1, 0.1, 0]), ("c", "C", [0.9, 0.3, 0])):
            _doc(store, f"{src}:README.md", src, team, "A service.", [
                Contributor("Ada Lovelace", "ada@x.example", count=5), Contributor("Bob Stone", "bob@x.example", count=9),
                Contributor("dependabot[bot]", "1+dependabot[bot]@users.noreply.github.com", count=50)],
                kind="readme", path="README.md", metadata={"repo": src}, src_kind="git")
            _vec(store, f"{src}:README.md", vec)
    resolve(store)
    build_catalog(store)
    p = get_project(store, "a")
    assert p.owners == ["Bob Stone", "Ada Lovelace"] and p.provenance["owners"] == "top contributors"
    assert not any(b in json.dumps(p.public()) for b in BOTS)
    pairs = [(o.a.id, o.b.id) for o in rank_overlaps(store, limit=10)]
    assert pairs == [("b", "c"), ("a", "c")]  # b points closer to c than a does; a and b share a team
    store.close()


# -- the demo org -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_projects(demo_guild):
    return {p.name: p for p in demo_guild.projects()}


def test_every_repository_and_wiki_space_is_a_project_with_team_owners_and_summary(demo_guild, demo_dir, capsys):
    assert main(["--config", str(demo_dir / "guild.toml"), "projects", "--json"]) == 0
    projects = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    sources = {s.name: s for s in demo_guild.config.sources}
    assert set(projects) == set(sources)  # each demo repo is a project, each flat wiki folder is one space
    for name, p in projects.items():
        assert p["team"] == sources[name].team
        assert p["kind"] == ("repository" if sources[name].kind == "git" else "space")
        assert p["owners"] and p["summary"], name
        assert p["first_activity"] and p["last_activity"] and p["status"] in ("active", "dormant")
        assert not any(b in json.dumps(p) for b in BOTS)


def test_owners_from_codeowners(demo_projects):
    p = demo_projects["feed-ranker"]
    assert p.provenance["owners"] == ".github/CODEOWNERS"
    assert p.owners == ["@acme/home-feed", "@priya-raman"]
    assert p.owner_people == ["Priya Raman"]  # '@priya-raman' resolved to the person, the team handle not


def test_owners_from_catalog_info_spec_owner(demo_projects):
    p = demo_projects["similar-items"]
    assert p.provenance["owners"] == "catalog-info.yaml spec.owner"
    assert p.owners == ["group:marketplace-discovery"]


def test_owners_from_top_contributors_without_either_file(demo_projects):
    p = demo_projects["drift-watch"]
    assert p.provenance["owners"] == "top contributors"
    assert p.owners == [c["name"] for c in p.contributors[:len(p.owners)]]
    assert p.owners[0] == "Sam Okafor"  # most commits in drift-watch


def test_summary_sources(demo_projects):
    assert demo_projects["similar-items"].provenance["summary"] == "catalog-info.yaml metadata.description"
    assert demo_projects["similar-items"].summary.startswith("Item-to-item recommendations")
    assert demo_projects["feed-ranker"].provenance["summary"] == "README.md"
    assert demo_projects["feed-ranker"].summary.startswith("The Home Feed recommender")
    assert demo_projects["wiki-risk"].provenance["summary"].startswith("page ")


def test_topics_sources(demo_guild, demo_projects):
    similar = demo_projects["similar-items"]
    assert similar.topic_sources["catalog-info.yaml tags"] == ["recommendations", "matrix-factorization", "listings"]
    assert similar.topics[:3] == ["recommendations", "matrix-factorization", "listings"]
    phrases = similar.topic_sources["key phrases"]
    assert phrases and all(p == p.strip() and 1 <= len(p.split()) <= 3 for p in phrases)
    ranker = demo_projects["feed-ranker"]
    assert list(ranker.topic_sources) == ["key phrases"]
    assert "feed-ranker" not in ranker.topics and "feed ranker" not in ranker.topics  # its own name is no topic
    assert not {"ranker", "serie", "txt", "readme"} & {t.casefold() for t in ranker.topics}
    assert [p.name for p in demo_guild.projects(topic="matrix")] == ["similar-items"]
    assert {p.name for p in demo_guild.projects(team="risk")} == {"drift-watch", "wiki-risk"}


def test_activity_dates_and_status(demo_guild, demo_projects):
    p = demo_projects["feed-ranker"]
    assert p.first_activity.startswith("2023-02-01") and p.last_activity.startswith("2024-05-06")
    by_then = {q.name: q.status for q in list_projects(demo_guild.store, now=datetime(2024, 6, 1, tzinfo=timezone.utc))}
    later = {q.name: q.status for q in list_projects(demo_guild.store, now=datetime(2025, 6, 1, tzinfo=timezone.utc))}
    assert by_then["feed-ranker"] == "active" and later["feed-ranker"] == "dormant"


def test_links(demo_projects):
    links = demo_projects["similar-items"].links
    assert links[0]["url"].endswith("README.md")
    assert {"title": "Serving dashboard", "url": "https://grafana.acme.example/d/similar-items"} in links


def test_the_planted_cross_team_overlap_ranks_first(demo_guild, demo_dir, capsys):
    overlaps = demo_guild.overlaps(limit=5)
    assert {overlaps[0].a.name, overlaps[0].b.name} == {"feed-ranker", "similar-items"}
    assert all(o.a.team != o.b.team for o in overlaps)
    assert overlaps[0].score > overlaps[1].score
    assert main(["--config", str(demo_dir / "guild.toml"), "overlaps", "--json", "--limit", "1"]) == 0
    top = json.loads(capsys.readouterr().out)[0]
    assert {top["a"]["project"], top["b"]["project"]} == {"feed-ranker", "similar-items"}
    people = {x["name"] for side in ("a", "b") for x in top[side]["people"]}
    assert {"Priya Raman", "Omar Haddad"} <= people
    assert top["evidence"] and top["evidence"][0]["a"]["url"] and top["evidence"][0]["b"]["url"]
    assert top["evidence"][0]["a"]["passage"] and top["shared_topics"]  # explained by passages and key phrases
    from index.catalog.keywords import phrase_key
    from index.catalog.content import load_all
    contents = load_all(demo_guild.store)
    for t in top["shared_topics"]:  # each shared topic is a candidate key phrase of both sides
        assert all(phrase_key(t) in contents[side[x]["id"]].candidates for side in [top] for x in ("a", "b"))
    assert main(["--config", str(demo_dir / "guild.toml"), "overlaps", "--json", "--include-same-team", "--limit", "50"]) == 0
    every = json.loads(capsys.readouterr().out)
    floor = demo_guild.config.overlaps_min_score
    assert any(o["same_team"] for o in every) and all(floor <= o["score"] <= 1 for o in every)
    ids = {p.id for p in demo_guild.projects()}
    assert all(o["a"]["project"] in ids and o["b"]["project"] in ids for o in every)
    assert len(every) < len(ids) * (len(ids) - 1) // 2  # weak pairs stay out


def test_project_lookup_by_name(demo_guild, demo_dir, capsys):
    assert demo_guild.project("Similar-Items").id == "similar-items"
    assert demo_guild.project("nope") is None
    assert main(["--config", str(demo_dir / "guild.toml"), "project", "nope"]) == 2
