"""The Guild facade: one object the CLI, the Slack bot and the web page all talk to."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import index.catalog
import index.docvectors
import index.people
import index.profiles
from connectors import SourceContext, connector_class
from index.ambiguity import Ambiguity, find_ambiguous
from index.browse import project_documents
from index.catalog import Project, build_catalog, get_project, list_projects
from index.crawl_lock import CrawlLock
from index.docvectors import doc_centroids
from index.embeddings import Embedder, cache_dir_for
from index.experts import Expert, rank_experts, topic_of
from index.facets import SearchPage, page_of
from index.feedback import POOL, rerank
from index.overlaps import Overlap, rank_overlaps
from index.querycache import QueryVectors
from index.people import DirectoryError, ResolveReport, load_directory, resolve
from index.profiles import Profile, SimilarPerson, build_profiles, find_person, list_people, profile, similar_people
from index.search import Hit, Searcher
from index.store import Store
from index.teams import Team, compose_team
from index.vectors import IndexOptions, VectorIndex

from .config import Config, ConfigError, SourceConfig, load_config

if TYPE_CHECKING:  # the pipeline (chunking, HTML cleaning) loads only for a crawl: answers start faster
    from index.pipeline import SourceReport

Progress = Callable[[str, str, int], None]  # (source, "documents" | "chunks", n)
DERIVING_MODULES = (index.people, index.catalog, index.profiles, index.docvectors)
SEARCH_POOL = 50  # hits a search page filters, counts facets over and pages through (5 pages of 10)
TEAM_OVERLAPS = 50  # the best cross-team pairs a team or project page picks its own from


@dataclass
class CrawlReport:
    sources: list[SourceReport] = field(default_factory=list)
    people: ResolveReport | None = None
    refreshed: int = 0  # stored documents embedded again after an index or model upgrade
    projects: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.sources if not s.ok]

    def total(self, key: str) -> int:
        return sum(getattr(s, key) for s in self.sources)


def _derived_inputs(config: Config, directory: list[dict[str, str]] | None) -> str:
    """A fingerprint of what people resolution and the catalog read besides the documents."""
    sources = [(s.name, s.kind, s.team, str(s.options.get("prefix") or "")) for s in config.sources]
    code = [hashlib.sha256(Path(m.__file__).read_bytes()).hexdigest() for m in DERIVING_MODULES]  # an upgrade rebuilds
    data = [directory, [vars(a) for a in config.aliases], sources, code]
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class Guild:
    def __init__(self, config: Config):
        self.config = config
        self.allow_shrink = False  # set by crawl(allow_shrink=...): forge sources may lose most repositories

    @classmethod
    def from_config(cls, path: str | Path = "guild.toml") -> "Guild":
        return cls(load_config(path))

    # -- parts, built on first use -------------------------------------------------------------
    @cached_property
    def store(self) -> Store:
        return Store(self.config.data_dir)

    @cached_property
    def embedder(self) -> Embedder:
        return Embedder(self.config.model, self.config.backend, cache_dir=cache_dir_for(self.config.data_dir))

    @cached_property
    def vectors(self) -> VectorIndex:
        options = IndexOptions(kind=self.config.vector_index, exact_limit=self.config.exact_limit)
        return VectorIndex(self.store, self.config.data_dir, self.embedder.dim, options)

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.store, self.vectors, QueryVectors(self.embedder))  # a query is embedded once

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

    # -- crawling ------------------------------------------------------------------------------
    def connector(self, source: SourceConfig):
        ctx = SourceContext(name=source.name, team=source.team,
                            work_dir=self.config.data_dir / "sources" / source.name, base_dir=self.config.base_dir,
                            allow_shrink=self.allow_shrink)
        return connector_class(source.kind)(source.options, ctx)

    def crawl(self, only: list[str] | None = None, progress: Progress | None = None,
              on_source: Callable[[SourceConfig], None] | None = None, allow_shrink: bool = False) -> CrawlReport:
        """Crawl every configured source (or those named in `only`), then rebuild people and the
        catalog if anything they are derived from changed. Raises CrawlLocked at once when another
        crawl runs on the same data_dir; `allow_shrink` lets a forge listing lose most repositories."""
        self.allow_shrink = allow_shrink
        with CrawlLock(self.config.data_dir):
            return self._crawl(only, progress, on_source)

    def _crawl(self, only: list[str] | None, progress: Progress | None,
               on_source: Callable[[SourceConfig], None] | None) -> CrawlReport:
        from index.pipeline import crawl_source, refresh_stale

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
        self.vectors.recover()  # a crawl that stopped before writing the vector index
        report.refreshed = refresh_stale(self.store, self.vectors, self.embedder)
        for source in self.config.sources:
            if only and source.name not in only:
                continue
            if on_source:
                on_source(source)
            tick = (lambda what, n, s=source.name: progress(s, what, n)) if progress else None
            # the connector is built inside the pipeline's error handling: a bad source never stops the others
            items = lambda state, s=source: self.connector(s).crawl(state)
            report.sources.append(crawl_source(self.store, self.vectors, self.embedder, source.name, source.kind,
                                               source.team, items, tick))
        self.vectors.flush()  # the crawl's one vector-index write (long crawls also write every few minutes)
        inputs = _derived_inputs(self.config, directory)
        if self.store.derived_stale() or self.store.get_meta("derived_inputs") != inputs:
            report.people = resolve(self.store, directory, self.config.aliases)
            report.projects = self.rebuild_catalog()
            self.store.mark_derived_fresh(inputs)
        else:  # nothing changed: people and catalog are current
            report.people = ResolveReport(identities=self.store.count("identities"), people=self.store.count("people"))
            report.projects = self.store.count("projects")
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
        """Documents for a query; "Helpful" / "Not helpful" votes from Slack boost or demote them."""
        return rerank(self.store, query, self.searcher.search(query, limit=limit + POOL, team=team))[:limit]

    def search_page(self, query: str, team: str | None = None, source: str | None = None, kind: str | None = None,
                    since: str | None = None, page: int = 1, per_page: int = 10) -> SearchPage:
        """One page of documents for the web: the best SEARCH_POOL hits filtered, counted by facet
        and paged. Raises ValueError when `since` is not a date or an age like 30d, 2y."""
        pool = self.search(query, limit=SEARCH_POOL)
        return page_of(query, pool, team, source, kind, since, page, per_page, capped=len(pool) >= SEARCH_POOL)

    def experts(self, question: str, limit: int = 10, team: str | None = None) -> list[Expert]:
        topic = topic_of(question)
        fused, _ = self.searcher.ranked(topic)
        return rank_experts(self.store, fused, limit=limit, team=team)

    # -- catalog and people ------------------------------------------------------------------------
    def rebuild_catalog(self) -> int:
        """Derive the projects and people's profiles again from the index; returns the project count."""
        centroids = doc_centroids(self.store)
        kinds = {s.name: s.kind for s in self.config.sources}
        prefixes = {s.name: str(s.options.get("prefix") or "") for s in self.config.sources}
        projects = build_catalog(self.store, kinds, prefixes, centroids)
        build_profiles(self.store, centroids)
        return len(projects)

    def projects(self, team: str | None = None, topic: str | None = None) -> list[Project]:
        return list_projects(self.store, team=team, topic=topic)

    def project(self, name: str) -> Project | None:
        return get_project(self.store, name)

    def overlaps(self, limit: int = 10) -> list[Overlap]:
        """Pairs of projects in different teams with alike content, most alike first."""
        return rank_overlaps(self.store, limit=limit)

    def people(self) -> list[dict[str, Any]]:
        return list_people(self.store)

    def project_documents(self, project_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """A project's documents, most recently updated first."""
        return project_documents(self.store, project_id, limit)

    def project_overlaps(self, project_id: str) -> list[Overlap]:
        """Cross-team pairs this project is on one side of."""
        return [o for o in self.overlaps(limit=TEAM_OVERLAPS) if project_id in (o.a.id, o.b.id)]

    def teams(self) -> list[Team]:
        """Every declared team with its projects, people, sources and overlaps."""
        projects, people, overlaps = self.projects(), self.people(), self.overlaps(limit=TEAM_OVERLAPS)
        return [compose_team(t.name, t.slack_channel, [s.name for s in self.config.sources if s.team == t.name],
                             projects, people, overlaps) for t in self.config.teams]

    def team(self, name: str) -> Team | None:
        """A declared team by name (case-insensitive); None when no team has that name."""
        declared = self.config.team(name)
        return next((t for t in self.teams() if t.name == declared.name), None) if declared else None

    def person(self, query: str) -> Profile | None:
        """A person by name, email, handle or Slack id; raises AmbiguousPerson when several match."""
        found = find_person(self.store, query)
        return profile(self.store, found) if found else None

    def similar(self, person: str, limit: int = 5) -> list[SimilarPerson]:
        """People in other teams who work on the same things; LookupError when nobody matches `person`."""
        found = find_person(self.store, person)
        if not found:
            raise LookupError(f"nobody matches {person!r}; try a full name or an email")
        return similar_people(self.store, found, limit=limit)

    def ambiguous(self) -> list[Ambiguity]:
        """Identities that could not be placed with confidence."""
        return find_ambiguous(self.store, self.config.aliases)
