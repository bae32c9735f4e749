"""Behaviour every forge connector (GitHub, GitLab) must show, run against its loopback fake.

test_github.py and test_gitlab.py each define a `world` fixture (a World for their flavor) and
import these tests, so both connectors pass the same cases without copies of them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from conftest import write_config
from support.fake_forge import FakeForge, open_guild

ADA = ("Ada Lovelace", "ada@northwind.test")
GRACE = ("Grace Hopper", "grace@northwind.test")


@dataclass
class World:
    """A fake forge, real repositories behind it, and the guild.toml that points at it."""

    fake: FakeForge
    tmp: Path
    make_repo: Callable[[str], Any]
    token_env: str
    source: dict[str, Any]
    repos: dict[str, Any] = field(default_factory=dict)
    guilds: list[Any] = field(default_factory=list)

    def add(self, name: str, files: dict[str, str], *, http: bool = False, **meta: Any) -> Any:
        """A real repository named `name` ("sub/name" puts a GitLab project in a subgroup)."""
        sub, _, short = name.rpartition("/")
        repo = self.make_repo(name.replace("/", "__"))
        repo.commit(*ADA, files, "initial import")
        if http:
            self.fake.git_root = repo.path.parent
        url = self.fake.git_url(repo.path.name) if http else repo.path.as_uri()
        self.fake.add_repo(short, url, subgroup=sub, **meta)
        self.repos[name] = repo
        return repo

    def guild(self, **options: Any):
        g = open_guild(write_config(self.tmp, [{**self.source, **options}], teams=["ML"]))
        self.guilds.append(g)
        return g

    def id(self, repo: str, path: str) -> str:
        return f"{self.source['name']}:{repo}/{path}"

    def ids(self, guild) -> set[str]:
        return guild.store.doc_ids(self.source["name"])


def alpha_beta_gamma(world: World) -> None:
    world.add("alpha", {"README.md": "# Alpha\n\nA recommender for the home feed.\n",
                        "docs/guide.md": "# Guide\n\nTraining with implicit feedback and negative sampling.\n",
                        "docs/old.md": "# Old notes\n\nAn obsolete page about gradient boosted quokkas.\n",
                        "src/model.py": "x = 1\n"},
              description="Home feed recommender", topics=["recsys", "ranking"])
    world.add("beta", {"README.md": "# Beta\n\nDrift monitoring for fraud models.\n",
                       "notes.md": "# Notes\n\nPopulation stability index thresholds.\n"},
              description="Drift monitor", topics=["monitoring"])
    world.add("gamma", {"README.md": "# Gamma\n\nFeature store experiments.\n"})
    world.add("delta", {"README.md": "# Delta\n\nAn archived forecasting prototype.\n"}, archived=True)


def test_crawl_then_edit_add_delete_reprocesses_exactly_three(world):
    alpha_beta_gamma(world)
    guild = world.guild()
    first = guild.crawl().sources[0]
    assert first.ok, first.error
    assert first.added == 7 and first.deleted == 0
    assert world.ids(guild) == {world.id("alpha", p) for p in ("README.md", "docs/guide.md", "docs/old.md",
                                                              "src/model.py")} | \
        {world.id("beta", "README.md"), world.id("beta", "notes.md"), world.id("gamma", "README.md")}

    world.repos["alpha"].commit(*GRACE, {"docs/guide.md": "# Guide\n\nTraining with contrastive pangolin embeddings.\n",
                                         "docs/old.md": None}, "rewrite the guide, drop old notes")
    world.repos["beta"].commit(*GRACE, {"docs/new.md": "# Alerting\n\nPaging rules for the axolotl drift detector.\n"},
                               "add alerting notes")
    second = guild.crawl().sources[0]
    assert second.ok, second.error
    edited, added, deleted = world.id("alpha", "docs/guide.md"), world.id("beta", "docs/new.md"), world.id("alpha", "docs/old.md")
    # the READMEs of alpha and beta are yielded again with new contributors, but their text did not change
    assert sorted(second.reprocessed) == sorted([edited, added, deleted])
    assert (second.added, second.changed, second.deleted, second.unchanged) == (1, 1, 1, 5)

    hits = guild.search("contrastive pangolin embeddings", limit=3)
    assert hits[0].doc_id == edited and "pangolin" in hits[0].snippet and hits[0].path == "docs/guide.md"
    hits = guild.search("axolotl drift detector paging", limit=3)
    assert hits[0].doc_id == added and hits[0].source == world.source["name"]
    assert deleted not in {h.doc_id for h in guild.search("gradient boosted quokkas obsolete", limit=20)}

    third = guild.crawl().sources[0]  # nothing changed anywhere: nothing is reprocessed or deleted
    assert third.ok and third.reprocessed == [] and third.unchanged == 7


def test_readme_carries_project_description_and_topics(world):
    alpha_beta_gamma(world)
    guild = world.guild()
    assert guild.crawl().sources[0].ok
    rows = guild.store.documents([world.id("alpha", "README.md"), world.id("alpha", "docs/guide.md")])
    readme = rows[world.id("alpha", "README.md")]
    meta = json.loads(readme["metadata"])
    assert meta["project"] == "alpha" and meta["repo"] == "alpha"
    assert meta["description"] == "Home feed recommender" and meta["topics"] == ["recsys", "ranking"]
    assert readme["source"] == world.source["name"] and readme["path"] == "README.md" and readme["kind"] == "readme"
    guide = rows[world.id("alpha", "docs/guide.md")]
    assert json.loads(guide["metadata"])["repo"] == "alpha" and guide["path"] == "docs/guide.md"
    assert guide["url"].endswith("/docs/guide.md") and "alpha" in guide["url"] and guide["url"].startswith("https://")

    # new topics on the forge without a commit reach the README's metadata, and re-embed nothing
    world.fake.repos[0]["topics"] = ["recsys", "two-tower"]
    if "tag_list" in world.fake.repos[0]:
        world.fake.repos[0]["tag_list"] = ["recsys", "two-tower"]
    s = guild.crawl().sources[0]
    assert s.ok and s.reprocessed == []
    meta = json.loads(guild.store.documents([world.id("alpha", "README.md")])[world.id("alpha", "README.md")]["metadata"])
    assert meta["topics"] == ["recsys", "two-tower"]


def test_repositories_listed_over_several_pages(world):
    alpha_beta_gamma(world)
    world.fake.page_size = 2
    guild = world.guild()
    s = guild.crawl().sources[0]
    assert s.ok, s.error
    pages = [r for r in world.fake.api_requests() if r["status"] == 200]
    assert len(pages) == 2 and pages[1]["query"]["page"] == ["2"]
    assert {world.id(r, "README.md") for r in ("alpha", "beta", "gamma")} <= world.ids(guild)


def test_archived_repositories_only_on_request(world):
    alpha_beta_gamma(world)
    guild = world.guild()
    guild.crawl()
    assert world.id("delta", "README.md") not in world.ids(guild)
    guild = world.guild(archived=True)
    assert guild.crawl().sources[0].ok
    assert world.id("delta", "README.md") in world.ids(guild)


def test_repository_removed_from_the_org_loses_its_documents(world):
    alpha_beta_gamma(world)
    guild = world.guild()
    assert guild.crawl().sources[0].ok
    beta_dir = [p for p in (world.tmp / "data" / "sources" / world.source["name"]).iterdir() if p.name == "beta"]
    assert beta_dir and (beta_dir[0] / "repo.git").is_dir()
    world.fake.remove_repo("beta")
    s = guild.crawl().sources[0]
    assert s.ok, s.error
    assert s.deleted == 2 and sorted(s.reprocessed) == [world.id("beta", "README.md"), world.id("beta", "notes.md")]
    assert not any(i.startswith(world.id("beta", "")) for i in world.ids(guild))
    assert world.id("alpha", "README.md") in world.ids(guild)
    assert not beta_dir[0].exists()  # its mirror is gone too
    assert "beta" not in guild.store.cursor(world.source["name"])["repos"]


def test_a_listing_that_suddenly_lost_every_or_most_repositories_keeps_the_documents(world):
    alpha_beta_gamma(world)
    guild = world.guild()
    assert guild.crawl().sources[0].ok
    before = world.ids(guild)
    listed = list(world.fake.repos)
    world.fake.repos = []  # e.g. a token that lost its access still answers 200 with an empty list
    s = guild.crawl().sources[0]
    assert not s.ok and "returned 0 repositories where the last crawl had 3" in s.error and "--allow-shrink" in s.error
    assert world.ids(guild) == before and s.deleted == 0
    world.fake.repos = [r for r in listed if r["name"] in ("gamma", "delta")]  # two of three gone
    s = guild.crawl().sources[0]
    assert not s.ok and "2 missing: alpha, beta" in s.error and world.ids(guild) == before
    s = guild.crawl(allow_shrink=True).sources[0]  # `crawl --allow-shrink`: the shrink is real
    assert s.ok and {i.split(":", 1)[1].split("/")[0] for i in world.ids(guild)} == {"gamma"}
    world.fake.repos = listed
    assert guild.crawl().sources[0].ok  # growing back is no shrink


def test_excluded_repository_is_dropped_and_include_limits(world):
    alpha_beta_gamma(world)
    guild = world.guild()
    guild.crawl()
    guild = world.guild(exclude=["gam*"])
    s = guild.crawl().sources[0]
    assert s.ok and s.deleted == 1 and s.reprocessed == [world.id("gamma", "README.md")]
    guild = world.guild(include=["beta"])
    guild.crawl()
    assert {i.split(":", 1)[1].split("/")[0] for i in world.ids(guild)} == {"beta"}


def test_missing_token_is_a_clear_error(world, monkeypatch):
    alpha_beta_gamma(world)
    monkeypatch.delenv(world.token_env)
    s = world.guild().crawl().sources[0]
    assert not s.ok and f"{world.token_env} is not set" in s.error and world.source["name"] in s.error
    assert world.fake.api_requests() == []


def test_rejected_token_is_a_clear_error(world, monkeypatch):
    alpha_beta_gamma(world)
    monkeypatch.setenv(world.token_env, "not-the-token")
    guild = world.guild()
    s = guild.crawl().sources[0]
    assert not s.ok and "HTTP 401" in s.error and f"${world.token_env} was not accepted" in s.error
    assert "not-the-token" not in s.error
    assert guild.sources()[0]["last_error"] == s.error


def test_429_retry_after_is_honoured(world):
    alpha_beta_gamma(world)
    world.fake.fail_next = [(429, {"Retry-After": "1"})]
    s = world.guild().crawl().sources[0]
    assert s.ok, s.error
    calls = world.fake.api_requests()
    assert [c["status"] for c in calls[:2]] == [429, 200]
    assert calls[1]["time"] - calls[0]["time"] >= 0.95  # the HTTP client's own backoff would be 0.5 s


def test_server_errors_and_malformed_json_keep_the_index(world):
    alpha_beta_gamma(world)
    guild = world.guild()
    assert guild.crawl().sources[0].ok
    before = world.ids(guild)
    world.fake.mode = "500"
    s = guild.crawl().sources[0]
    assert not s.ok and "HTTP 500" in s.error and "after 4 attempts" in s.error
    assert world.ids(guild) == before
    world.fake.mode = "malformed"
    s = guild.crawl().sources[0]
    assert not s.ok and "malformed JSON" in s.error
    assert world.ids(guild) == before
    world.fake.mode = "ok"
    s = guild.crawl().sources[0]
    assert s.ok and s.reprocessed == []


def test_one_broken_repository_does_not_stop_the_others(world):
    alpha_beta_gamma(world)
    world.fake.add_repo("ghost", (world.tmp / "nowhere").as_uri())
    guild = world.guild()
    s = guild.crawl().sources[0]
    assert not s.ok and "ghost" in s.error and "1 of 4 repositories failed" in s.error
    assert world.id("alpha", "README.md") in world.ids(guild) and world.id("gamma", "README.md") in world.ids(guild)
    world.fake.remove_repo("ghost")
    s = guild.crawl().sources[0]
    assert s.ok and s.reprocessed == []


def test_token_goes_to_git_over_http_and_nowhere_else(world):
    repo = world.add("secure", {"README.md": "# Secure\n\nPrivate ranking models.\n"}, http=True)
    guild = world.guild()
    s = guild.crawl().sources[0]
    assert s.ok, s.error
    assert world.id("secure", "README.md") in world.ids(guild)
    git_calls = [r for r in world.fake.log if r["path"].startswith("/git/")]
    assert git_calls and all(r["headers"].get("authorization", "").startswith("Basic ") for r in git_calls)
    token = world.fake.token
    stored = json.dumps(guild.store.source(world.source["name"]))
    on_disk = [p for p in (world.tmp / "data" / "sources").rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert token not in stored and on_disk == []
    # and the fake remote really refuses a clone without the token
    repo.commit(*GRACE, {"docs/more.md": "# More\n\nCalibration of ranking scores.\n"})
    world.fake.git_password = "rotated"
    s = guild.crawl().sources[0]
    assert not s.ok and "secure" in s.error and token not in s.error



def ranker_history(world: World) -> Any:
    """A repository whose ranker module Grace built (three commits to it), while Ada made the rest."""
    repo = world.add("alpha", {"README.md": "# Alpha\n\nA recommender for the home feed.\n", "src/app.py": "a = 1\n",
                               "src/util.py": "u = 1\n"})
    for n in range(3):
        repo.commit(*GRACE, {"src/ranker/listwise.py": f"w = {n}\n", "src/ranker/pairwise.py": f"p = {n}\n"},
                    f"listwise quokka ranking loss, step {n}")
    repo.commit(*ADA, {"src/ranker/listwise.py": "w = 9\n"}, "rename a variable")
    for n in range(6):
        repo.commit(*ADA, {"src/app.py": f"a = {n}\n", "src/util.py": f"u = {n}\n"}, f"app plumbing {n}")
    return repo


def test_history_indexes_commits_and_folders_and_answers_who_built_a_part(world):
    repo = ranker_history(world)
    guild = world.guild(history=True)
    first = guild.crawl().sources[0]
    assert first.ok, first.error
    ids = world.ids(guild)
    head = repo.git("rev-parse", "HEAD").strip()
    assert {world.id("alpha", "src/ranker/"), world.id("alpha", f"commit:{head}")} <= ids
    commit = guild.store.documents([world.id("alpha", f"commit:{head}")])[world.id("alpha", f"commit:{head}")]
    assert json.loads(commit["metadata"])["paths"] == ["src/app.py", "src/util.py"]  # repository-relative paths

    experts = guild.experts("who built the listwise quokka ranking loss?")
    assert experts[0].name == GRACE[0]
    assert any("3 of 4 commits to src/ranker/" in e.what for e in experts[0].evidence), [e.what for e in experts[0].evidence]

    second = guild.crawl().sources[0]  # nothing changed: the sweep confirms commits and folders too
    assert second.ok and second.reprocessed == [] and second.deleted == 0
    assert world.ids(guild) == ids


def test_a_new_commit_adds_its_document_and_keeps_the_others(world):
    repo = ranker_history(world)
    guild = world.guild(history=True)
    assert guild.crawl().sources[0].ok
    before = world.ids(guild)
    sha = repo.commit(*GRACE, {"src/ranker/pairwise.py": "p = 7\n"}, "pairwise quokka margin")
    second = guild.crawl().sources[0]
    assert second.ok, second.error
    assert world.ids(guild) == before | {world.id("alpha", f"commit:{sha}")}
