"""The GitHub connector against a loopback GitHub REST API fake and real git repositories."""
from __future__ import annotations

import time

import pytest

from support.fake_forge import FakeForge
from support.forge_cases import *  # noqa: F401,F403 - the shared forge cases run here for GitHub
from support.forge_cases import World, alpha_beta_gamma


@pytest.fixture
def world(tmp_path, make_repo, monkeypatch):
    fake = FakeForge("github", "northwind", prefix="/api/v3")  # GitHub Enterprise style api_url
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    w = World(fake, tmp_path, make_repo, "GITHUB_TOKEN",
              {"kind": "github", "name": "gh", "team": "ML", "org": "northwind", "api_url": fake.api_url,
               "history": False})  # files only: the shared cases count documents; forge_cases has history cases
    yield w
    for g in w.guilds:
        g.close()
    fake.stop()


def test_lists_org_repositories_with_the_documented_request(world):
    alpha_beta_gamma(world)
    assert world.guild().crawl().sources[0].ok
    first = world.fake.api_requests()[0]
    assert first["path"] == "/api/v3/orgs/northwind/repos"
    assert first["query"]["per_page"] == ["100"] and first["query"]["type"] == ["all"]
    assert first["headers"]["authorization"] == f"Bearer {world.fake.token}"
    assert first["headers"]["accept"] == "application/vnd.github+json"


def test_user_account_repositories(world):
    alpha_beta_gamma(world)
    source = {k: v for k, v in world.source.items() if k != "org"}
    world.source = {**source, "user": "northwind"}
    s = world.guild().crawl().sources[0]
    assert s.ok, s.error
    assert world.fake.api_requests()[0]["path"] == "/api/v3/users/northwind/repos"


def test_org_and_user_together_or_unknown_org_are_clear_errors(world):
    alpha_beta_gamma(world)
    s = world.guild(user="someone").crawl().sources[0]
    assert not s.ok and "exactly one of `org` and `user`" in s.error
    s = world.guild(org="nobody").crawl().sources[0]
    assert not s.ok and "HTTP 404" in s.error and "no organisation 'nobody'" in s.error


def test_exhausted_rate_limit_waits_for_the_reset(world):
    alpha_beta_gamma(world)
    world.fake.rate_limited_until = time.time() + 1.0
    s = world.guild().crawl().sources[0]
    assert s.ok, s.error
    calls = world.fake.api_requests()
    assert calls[0]["status"] == 403 and calls[1]["status"] == 200
    assert calls[1]["time"] >= world.fake.rate_limited_until


def test_rate_limit_resetting_far_away_is_a_clear_error(world):
    alpha_beta_gamma(world)
    world.fake.rate_limited_until = time.time() + 3600
    t0 = time.time()
    s = world.guild().crawl().sources[0]
    assert time.time() - t0 < 30
    assert not s.ok and "rate limit exhausted" in s.error and "resets in" in s.error
    assert len(world.fake.api_requests()) == 1
