"""Crawls for the kill tests, forked from a process that loaded the real model once.

multiprocessing's forkserver imports this module before it forks anything (set_forkserver_preload),
so every crawl it forks starts with the model in memory and can be killed at any moment of its
work, not during start-up. No inference runs before the fork: each child starts its own.
"""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from index.embedding.embedder import Embedder  # noqa: E402

EMBEDDER = Embedder()
EMBEDDER.model  # loaded at import, in the forkserver


def ready() -> None:
    """A no-op child: the forkserver, with the model loaded, is up once it ran."""


def crawl(config: str, commit_docs: int, embed_batch: int) -> None:
    """One uninterrupted-unless-killed crawl, committing every `commit_docs` documents."""
    import torch

    import index.ingest.pipeline as pipeline
    from guildbot.guild import Guild

    torch.set_num_threads(1)  # many small encode calls: one thread each wastes least on a shared machine

    pipeline.COMMIT_DOCS, pipeline.EMBED_BATCH = commit_docs, embed_batch
    guild = Guild.from_config(config)
    guild.embedder = EMBEDDER
    report = guild.crawl()
    guild.close()
    if report.failed:
        raise SystemExit(f"crawl failed: {[s.error for s in report.failed]}")
