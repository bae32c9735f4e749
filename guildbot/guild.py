"""The Guild facade: one object the CLI, the Slack bot and the web page all talk to."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from connectors import SourceContext, connector_class
from index.embeddings import Embedder
from index.experts import Expert, rank_experts, topic_of
from index.people import DirectoryError, ResolveReport, load_directory, resolve
from index.pipeline import SourceReport, crawl_source
from index.search import Hit, Searcher
from index.store import Store
from index.vectors import VectorIndex

from .config import Config, ConfigError, SourceConfig, load_config

Progress = Callable[[str, str, int], None]  # (source, "documents" | "chunks", n)


@dataclass
class CrawlReport:
    sources: list[SourceReport] = field(default_factory=list)
    people: ResolveReport | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.sources if not s.ok]

    def total(self, key: str) -> int:
        return sum(getattr(s, key) for s in self.sources)


class Guild:
    def __init__(self, config: Config):
        self.config = config

    @classmethod
    def from_config(cls, path: str | Path = "guild.toml") -> "Guild":
        return cls(load_config(path))

    # -- parts, built on first use -------------------------------------------------------------
    @cached_property
    def store(self) -> Store:
        return Store(self.config.data_dir)

    @cached_property
    def embedder(self) -> Embedder:
        return Embedder(self.config.model)

    @cached_property
    def vectors(self) -> VectorIndex:
        return VectorIndex(self.store, self.config.data_dir, self.embedder.dim)

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.store, self.vectors, self.embedder)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

    # -- crawling ------------------------------------------------------------------------------
    def connector(self, source: SourceConfig):
        ctx = SourceContext(name=source.name, team=source.team,
                            work_dir=self.config.data_dir / "sources" / source.name, base_dir=self.config.base_dir)
        return connector_class(source.kind)(source.options, ctx)

    def crawl(self, only: list[str] | None = None, progress: Progress | None = None,
              on_source: Callable[[SourceConfig], None] | None = None) -> CrawlReport:
        """Crawl every configured source (or those named in `only`), then re-resolve people."""
        t0 = time.perf_counter()
        report = CrawlReport()
        unknown = set(only or []) - {s.name for s in self.config.sources}
        if unknown:
            raise ConfigError(self.config.path, "", f"no source named {', '.join(sorted(unknown))}",
                              f"use one of: {', '.join(s.name for s in self.config.sources)}")
        directory = None
        if self.config.directory:
            try:
                directory = load_directory(self.config.directory)
            except DirectoryError as e:
                raise ConfigError(self.config.path, "[people] directory", str(e), "fix the CSV and crawl again")
        for source in self.config.sources:
            if only and source.name not in only:
                continue
            if on_source:
                on_source(source)
            tick = (lambda what, n, s=source.name: progress(s, what, n)) if progress else None
            connector = self.connector(source)
            report.sources.append(crawl_source(self.store, self.vectors, self.embedder, source.name, source.kind,
                                               source.team, connector.crawl, tick))
        report.people = resolve(self.store, directory, self.config.aliases)
        report.seconds = round(time.perf_counter() - t0, 2)
        return report

    def sources(self) -> list[dict[str, Any]]:
        """Configured sources with their last crawl, document count and last error."""
        stored = {s["name"]: s for s in self.store.sources()}
        return [{"name": s.name, "kind": s.kind, "team": s.team,
                 "documents": stored.get(s.name, {}).get("documents", 0),
                 "last_crawl_at": stored.get(s.name, {}).get("last_crawl_at"),
                 "last_success_at": stored.get(s.name, {}).get("last_success_at"),
                 "last_error": stored.get(s.name, {}).get("last_error")} for s in self.config.sources]

    # -- answers -------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10, team: str | None = None) -> list[Hit]:
        return self.searcher.search(query, limit=limit, team=team)

    def experts(self, question: str, limit: int = 10, team: str | None = None) -> list[Expert]:
        topic = topic_of(question)
        fused, _ = self.searcher.ranked(topic)
        return rank_experts(self.store, fused, limit=limit, team=team)
