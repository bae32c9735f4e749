"""The GitLab connector against a loopback GitLab REST API fake and real git repositories."""
from __future__ import annotations

import json

import pytest

from support.fake_forge import FakeForge
from support.forge_cases import *  # noqa: F401,F403 - the shared forge cases run here for GitLab
from support.forge_cases import World, alpha_beta_gamma


@pytest.fixture
def world(tmp_path, make_repo, monkeypatch):
    fake = FakeForge("gitlab", "northwind/search")  # a nested group: its path is URL-encoded in the API path
    monkeypatch.setenv("GITLAB_TOKEN", fake.token)
    w = World(fake, tmp_path, make_repo, "GITLAB_TOKEN",
              {"kind": "gitlab", "name": "gl", "team": "ML", "group": "northwind/search", "api_url": fake.api_url,
               "history": False})  # files only: the shared cases count documents; forge_cases has history cases
    yield w
    for g in w.guilds:
        g.close()
    fake.stop()


def test_lists_group_projects_with_the_documented_request(world):
    alpha_beta_gamma(world)
    assert world.guild().crawl().sources[0].ok
    first = world.fake.api_requests()[0]
    assert first["path"] == "/api/v4/groups/northwind%2Fsearch/projects"
    assert first["query"]["include_subgroups"] == ["true"] and first["query"]["per_page"] == ["100"]
    assert first["query"]["archived"] == ["false"]
    assert first["headers"]["private-token"] == world.fake.token


def test_subgroup_projects_are_named_by_their_path_below_the_group(world):
    world.add("ml/ranker", {"README.md": "# Ranker\n\nLearning to rank for search.\n", "docs/eval.md": "# Eval\n\nNDCG.\n"},
              description="Search ranker", topics=["ltr"])
    guild = world.guild()
    assert guild.crawl().sources[0].ok
    assert world.ids(guild) == {"gl:ml/ranker/README.md", "gl:ml/ranker/docs/eval.md"}
    meta = json.loads(guild.store.documents(["gl:ml/ranker/README.md"])["gl:ml/ranker/README.md"]["metadata"])
    assert meta["project"] == "ml/ranker" and meta["topics"] == ["ltr"] and meta["description"] == "Search ranker"
    assert (world.tmp / "data" / "sources" / "gl" / "ml%2Franker" / "repo.git").is_dir()


def test_link_header_pagination_is_followed_too(world):
    alpha_beta_gamma(world)
    world.fake.links, world.fake.page_size = True, 1
    s = world.guild().crawl().sources[0]
    assert s.ok and s.added == 7
    assert [c["query"].get("page", ["1"])[0] for c in world.fake.api_requests()] == ["1", "2", "3"]


def test_older_gitlab_tag_list_gives_the_topics(world):
    world.add("legacy", {"README.md": "# Legacy\n\nOld search stack.\n"}, topics=["solr"])
    del world.fake.repos[0]["topics"]
    guild = world.guild()
    assert guild.crawl().sources[0].ok
    meta = json.loads(guild.store.documents(["gl:legacy/README.md"])["gl:legacy/README.md"]["metadata"])
    assert meta["topics"] == ["solr"]
