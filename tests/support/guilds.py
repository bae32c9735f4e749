"""A Guild on a guild.toml written in tmp_path, sharing one real embedding model per test session.

Loading all-MiniLM-L6-v2 takes seconds; every Guild here gets the same loaded Embedder (the
real model, not a stand-in) so that crawl-and-search tests stay quick.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from guildbot import Guild
from index.embedding.embedder import Embedder


@pytest.fixture(scope="session")
def shared_embedder() -> Embedder:
    embedder = Embedder()
    embedder.encode(["warm up"])
    return embedder


def open_guild(config: Path, embedder: Embedder) -> Guild:
    guild = Guild.from_config(config)
    guild.__dict__["embedder"] = embedder  # Guild.embedder is a cached_property: seed it
    return guild


def hit_urls(guild: Guild, query: str, limit: int = 3) -> list[str]:
    return [h.url for h in guild.search(query, limit=limit)]
