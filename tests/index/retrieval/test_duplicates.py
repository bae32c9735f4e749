"""One result per text: a guide kept in a git repository and mirrored on the team's wiki (a real
MediaWiki, tests/support/mediawiki.py) is one search result that lists its other location."""
from __future__ import annotations

from conftest import write_config
from guildbot import Guild
from guildbot.cli import main as cli
from support.mediawiki import mediawiki  # noqa: F401 (session fixture)

GUIDE = """# Canary releases for the ranking service

Every ranking model reaches production through a canary. The new model serves two percent of
the feed traffic for one full day while the old one serves the rest.

## What the canary watches

The canary compares click-through rate, dwell time and the share of empty feeds between the two
models. A drop of more than one percent in click-through rate, or any rise in empty feeds, stops
the rollout and pages the on-call engineer of the ranking team.

## Promoting the model

After a clean day the canary grows to twenty percent, then to half of the traffic, and finally
replaces the old model. Each step waits for a fresh day of metrics before it is taken.
"""

WIKI = """Every ranking model reaches production through a canary. The new model serves two percent of
the feed traffic for one full day while the old one serves the rest.

== What the canary watches ==
The canary compares click-through rate, dwell time and the share of empty feeds between the two
models. A drop of more than one percent in click-through rate, or any rise in empty feeds, stops
the rollout and pages the on-call engineer of the ranking team.

== Promoting the model ==
After a clean day the canary grows to twenty percent, then to half of the traffic, and finally
replaces the old model. Each step waits for a fresh day of metrics before it is taken.
"""

OTHER = """# Feature store freshness

Features older than six hours are recomputed by the nightly backfill; the ranking service reads
them through the online store and falls back to defaults when a feature is missing.
"""


def test_a_page_mirrored_in_a_repository_and_a_wiki_is_one_result(mediawiki, tmp_path, make_repo, capsys):
    repo = make_repo("ranking")
    repo.commit("Ada Lovelace", "ada@example.com", {"guides/canary.md": GUIDE, "guides/features.md": OTHER})
    title = "Mirror/Ranking/Canary releases"
    mediawiki.edit(title, WIKI)
    try:
        config = write_config(tmp_path, [
            {"kind": "git", "name": "ranking", "team": "Home Feed", "url": str(repo.path)},
            {"kind": "mediawiki", "name": "wiki-mirror", "team": "Home Feed", "url": mediawiki.api, "prefix": "Mirror/"}])
        guild = Guild.from_config(config)
        try:
            report = guild.crawl()
            assert not report.failed, [s.error for s in report.failed]
            hits = guild.search("how does a canary rollout of a ranking model work", limit=10)
            canary = [h for h in hits if "canary" in (h.title + h.path).casefold()]
            assert len(canary) == 1, [(h.title, h.source) for h in hits]
            assert canary[0].source == "wiki-mirror"  # the published page stands for the group
            assert [c["source"] for c in canary[0].copies] == ["ranking"]
            assert hits[0] is canary[0]
            # without the fingerprints the two would both be listed: the collapse is what makes it one
            assert {h.source for h in guild.searcher.search("canary rollout ranking model", limit=10, floor=False)
                    if "canary" in (h.title + h.path).casefold()} == {"wiki-mirror"}
        finally:
            guild.close()
        # the command line names the other location under the one result
        assert cli.main(["--config", str(config), "search", "how does a canary rollout of a ranking model work"]) == 0
        out = capsys.readouterr().out
        also = [line for line in out.splitlines() if line.strip().startswith("also at:")]
        assert len(also) == 1 and "guides/canary.md" in also[0] and "(ranking)" in also[0], out
    finally:
        mediawiki.delete(title)
