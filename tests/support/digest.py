"""Fixtures shared by the digest tests: the demo's week that just ended, with its questions logged."""
from __future__ import annotations

import sys

import pytest

from index.digest.weekly import last_week

CHANNELS = {"ml-guild": "C0MLGUILD", "home-feed": "C0HOMEFEED", "marketplace": "C0MARKET", "risk": "C0RISK",
            "ml-platform": "C0MLPLATFORM"}  # the demo's digest channels, as the Slack fake knows them


@pytest.fixture(scope="module")
def demo_week(demo_guild, demo_dir):
    """The demo's week that just ended, with its questions logged as `make_demo.py --questions` does."""
    sys.path.insert(0, str(demo_dir))
    import make_demo
    demo_guild.store.conn.execute("DELETE FROM query_log")
    week = last_week(tz=demo_guild.config.digest.tz)
    # a `guildbot serve` test on the shared org catches up the digest its schedule last missed: between Monday
    # 00:00 and the 09:00 run that is the week before this one, and its overlaps would count as announced already
    demo_guild.store.conn.execute("DELETE FROM digest_overlaps WHERE week < ?", [week])
    make_demo.seed_questions(demo_dir / "guild.toml")
    return week
