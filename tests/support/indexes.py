"""A Searcher over a handful of Documents: a real store (SQLite, or Postgres for the tests that ask),
real vectors and the real embedding model, filled by the crawl pipeline as one full sweep of a source."""
from __future__ import annotations

from pathlib import Path

from connectors.base import Checkpoint, Document
from index.embedding.embedder import Embedder
from index.ingest.pipeline import crawl_source
from index.retrieval.search import Searcher
from index.storage.factory import open_store, open_vectors


def searcher_over(root: Path, docs: list[Document], source: str = "s", team: str = "Team",
                  database: str = "") -> Searcher:
    """Index `docs` in `root` (or the Postgres at `database`) and return a Searcher on them; the caller
    closes `searcher.store`."""
    store, embedder = open_store(root, database), Embedder()
    vectors = open_vectors(store, root, embedder.dim)

    def items(state):
        yield from docs
        yield Checkpoint({}, full_sweep=True)

    crawl_source(store, vectors, embedder, source, "files", team, items)
    return Searcher(store, vectors, embedder)
