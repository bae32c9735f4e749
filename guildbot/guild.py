"""The Guild facade: one object the CLI, the Slack bot and the web page all talk to for answers
(search, experts, people), the catalog and the crawl.

The digest and the syncs are services beside it (guildbot/digest/service.py `digest_for`,
guildbot/syncs/service.py `syncs_for`): each is built with this guild's store and asks the guild
only for answers, so this class holds no digest or sync state."""
from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import index.catalog.build
import index.digest.weekly
import index.embedding.docvectors
import index.catalog.keywords
import index.catalog.pairs
import index.people.resolve
import index.expertise.profiles
import index.catalog.content
from index.retrieval import querylog
from connectors import SourceContext, connector_class
from index.storage.factory import (GENERATION_KEY, LAGGING_KEY, IndexOptions, SeenEvents, Store, VectorIndex, crawl_lock,
                                   open_seen_events, open_store, open_vectors)
from index.people.ambiguity import Ambiguity, find_ambiguous
from index.catalog.browse import project_documents
from index.catalog.build import DeclaredProject, Project, build_catalog, doc_projects, get_project, list_projects
from index.embedding.docvectors import doc_centroids
from index.embedding.embedder import Embedder, cache_dir_for
from index.expertise.experts import Expert, beyond_the_name, rank_experts, topic_of
from index.retrieval.facets import SearchPage, page_of
from index.retrieval.feedback import POOL, record_feedback, rerank
from index.catalog.overlaps import Overlap, rank_overlaps
from index.embedding.querycache import QueryVectors
from index.people.resolve import DirectoryError, ResolveReport, load_directory, resolve
from index.expertise.profiles import (AmbiguousPerson, Profile, SimilarPerson, build_profiles, find_person, list_people, profile, similar_people,
                            suggest_names)
from index.retrieval.search import Hit, Searcher
from index.catalog.teams import Team, compose_team
from index.people.visibility import Viewer, directory_team, effective, make_viewer, trim_identity_lists

from index.storage import asks as asks_store, consent as consent_store, insights as insights_store, people as people_store, syncs as sync_store
from index.retrieval.feedback import query_key

from guildbot import consent as load
from guildbot.config.loader import Config, ConfigError, SourceConfig, load_config

if TYPE_CHECKING:  # the pipeline (chunking, HTML cleaning) loads only for a crawl: answers start faster
    from index.ingest.pipeline import SourceReport

Progress = Callable[[str, str, int], None]  # (source, "documents" | "chunks", n)
DERIVING_MODULES = (index.people.resolve, index.catalog.build, index.expertise.profiles, index.embedding.docvectors, index.catalog.content, index.catalog.pairs,
                    index.catalog.keywords)
SEARCH_POOL = 50  # hits a search page filters, counts facets over and pages through (5 pages of 10)
TEAM_OVERLAPS = 50  # the best cross-team pairs a team or project page picks its own from
EXPERT_POOL = 15  # experts ranked beyond the limit, so consent and the weekly budget have people to move up
SUGGESTING_SURFACES = ("slack", "web")  # answers people act on: their first person counts against the budget
BUDGET_WINDOW = timedelta(days=7)
SUGGESTION_REPEAT = timedelta(minutes=10)  # the same asker's same question within this counts once
BUS_WINDOW, BUS_INACTIVE = timedelta(days=365), timedelta(days=180)  # the bus factor's year, and "inactive"
BUS_SHARE, BUS_MIN_COMMITS = 0.5, 3  # one person made most (more than half) of a project's year of commits, at least 3
GAPS_LOOKED_AT = 15  # the weakest questions a person's "questions you may answer" is chosen from


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
    projects = [(p.name, p.sources) for p in config.projects]
    data = [directory, [vars(a) for a in config.aliases], sources, code, projects]
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
        return open_store(self.config.data_dir, self.config.database)

    @cached_property
    def embedder(self) -> Embedder:
        return Embedder(self.config.model, self.config.backend, cache_dir=cache_dir_for(self.config.data_dir))

    @cached_property
    def vectors(self) -> VectorIndex:
        options = IndexOptions(kind=self.config.vector_index, exact_limit=self.config.exact_limit)
        return open_vectors(self.store, self.config.data_dir, self.embedder.dim, options)

    @cached_property
    def question_vectors(self) -> QueryVectors:
        """Questions' embeddings, cached: search, experts, consent and the query log embed a question once."""
        return QueryVectors(self.embedder)

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.store, self.vectors, self.question_vectors)

    @cached_property
    def seen_events(self) -> SeenEvents:
        return open_seen_events(self.store)

    def close(self) -> None:
        if "seen_events" in self.__dict__:
            self.seen_events.close()
        if "store" in self.__dict__:
            self.store.close()

    def refresh(self) -> bool:
        """Pick up a crawl another process finished since the last call: SQLite is shared, but the
        FAISS index is held in memory, so reload it when its generation moved on, or while a running
        crawl's chunks are committed ahead of its next file (reloading adds them from SQLite). True if reloaded."""
        if "vectors" not in self.__dict__:
            return False
        generation = self.store.get_meta(GENERATION_KEY)
        if self.store.get_meta(LAGGING_KEY) == "1":  # a crawl elsewhere committed chunks its file lacks yet
            generation = f"{generation}+{self.store.count('chunks')}"
        last = self.__dict__.get("_generation")
        self.__dict__["_generation"] = generation
        if last is None or generation == last:
            return False
        self.vectors.reload()
        return True

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
        names = [s.name for s in self.config.sources if not only or s.name in only]
        with crawl_lock(self.store, self.config.data_dir, names):
            return self._crawl(only, progress, on_source)

    def _crawl(self, only: list[str] | None, progress: Progress | None,
               on_source: Callable[[SourceConfig], None] | None) -> CrawlReport:
        from index.ingest.pipeline import Crawl, refresh_stale

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
        crawl = Crawl(self.store, self.vectors, self.embedder)  # one source is read while the one before encodes
        for source in self.config.sources:
            if only and source.name not in only:
                continue
            if on_source:
                on_source(source)
            tick = (lambda what, n, s=source.name: progress(s, what, n)) if progress else None
            # the connector is built inside the pipeline's error handling: a bad source never stops the others
            items = lambda state, s=source: self.connector(s).crawl(state)
            crawl.source(source.name, source.kind, source.team, items, tick)
        report.sources = crawl.finish()  # the last sources' windows were still encoding
        self.vectors.flush()  # the crawl's one vector-index write (long crawls also write every few minutes)
        index.digest.weekly.note_first_seen(self.store)  # so a later edit of a page is not "new" in a digest
        self.embedder.wait_for_question_model()
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

    def sources(self, viewer: Viewer | None = None) -> list[dict[str, Any]]:
        """Configured sources (those `viewer` may see) with their last crawl, document count and last error."""
        stored = {s["name"]: s for s in self.store.sources()}
        return [{"name": s.name, "kind": s.kind, "team": s.team,
                 "documents": stored.get(s.name, {}).get("documents", 0),
                 "last_crawl_at": stored.get(s.name, {}).get("last_crawl_at"),
                 "last_success_at": stored.get(s.name, {}).get("last_success_at"),
                 "last_error": stored.get(s.name, {}).get("last_error")} for s in self.config.sources
                if viewer is None or viewer.sees(s.name)]

    # -- answers -------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10, team: str | None = None, viewer: Viewer | None = None, *,
               surface: str | None = "api", asker: str | None = None) -> list[Hit]:
        """Documents for a query; "Helpful" / "Not helpful" votes from Slack boost or demote them.
        The question goes to the query log under `surface` ("slack", "web", "cli"; None: not logged),
        asked by `asker` (a Slack id, email or name; default the viewer's)."""
        hits = self.searcher.search(query, limit=limit + POOL, team=team, viewer=self._scope(viewer))
        hits = rerank(self.store, query, hits)[:limit]
        self._log_question(query, surface, asker or (viewer.who if viewer else None), "search", [h.doc_id for h in hits])
        return hits

    def search_page(self, query: str, team: str | None = None, source: str | None = None, kind: str | None = None,
                    since: str | None = None, page: int = 1, per_page: int = 10,
                    viewer: Viewer | None = None, *, asker: str | None = None) -> SearchPage:
        """One page of documents for the web: the best SEARCH_POOL hits filtered, counted by facet
        and paged. Raises ValueError when `since` is not a date or an age like 30d, 2y."""
        pool = self.search(query, limit=SEARCH_POOL, viewer=viewer, surface="web", asker=asker)
        return page_of(query, pool, team, source, kind, since, page, per_page, capped=len(pool) >= SEARCH_POOL)

    def experts(self, question: str, limit: int = 10, team: str | None = None, viewer: Viewer | None = None, *,
                surface: str | None = "api", asker: str | None = None) -> list[Expert]:
        """People to ask, best first: never someone who opted out, is paused, or hid the question's topic;
        someone suggested more than [people] weekly_budget times in 7 days gives way to a person of nearly
        equal score (guildbot/consent.py). On Slack and the web the first person counts as suggested."""
        topic = topic_of(question)
        asker = asker or (viewer.who if viewer else None)
        viewer = self._scope(viewer)
        fused, _ = self.searcher.ranked(topic, viewer=viewer)
        ranked = sorted(fused, key=lambda d: -fused[d])
        if not self.searcher.clears_floor(topic, ranked):
            fused = {}  # nothing matched well: no people are guessed from weak matches either
        if fused:
            fused = beyond_the_name(self.store, topic, fused, lambda rest: self.searcher.ranked(rest, viewer=viewer)[0])
        pool = rank_experts(self.store, fused, limit=limit + EXPERT_POOL, team=team, viewer=viewer, topic=topic)
        experts = self._consented(pool, topic)[:limit]
        for e in experts if viewer is not None else []:
            e.emails, e.aliases = trim_identity_lists(self.store, e.person_id, e.emails, e.aliases, viewer)
        if surface in SUGGESTING_SURFACES and experts and question.strip():
            self._note_suggested(experts[:1], surface, asker, question)
        self._log_question(question, surface, asker, "experts", ranked, topic, len(experts))
        return experts

    # -- consent and load (guildbot/consent.py; index/storage/consent.py, asks.py) ------------------------------
    def _consented(self, experts: list[Expert], topic: str) -> list[Expert]:
        """Experts without the people who said no (to everything, for now, or to this topic), spread by load."""
        rows = consent_store.all_rows(self.store)
        kept, vector = [], None
        for e in experts:
            row = rows.get(e.person_id)
            if row and (row["opted_out"] or row["paused_until"]):
                continue
            if row and row["hidden_topics"]:
                if vector is None:
                    vector = self.question_vectors.encode_query([topic])[0]
                if load.hides(row["hidden_topics"], topic, vector, self.question_vectors.encode_query):
                    continue
            kept.append(e)
        budget = self.config.weekly_budget
        if budget <= 0 or not kept:
            return kept
        return load.spread(kept, self.suggestion_counts([e.person_id for e in kept]), budget, self.config.tie_band)

    def _note_suggested(self, experts: list[Expert], surface: str, asker: str | None, question: str) -> None:
        """Count a suggestion against each person's weekly budget, once per asker and question words in
        SUGGESTION_REPEAT (a page of results again, or a reload, is not a new introduction); never lets it
        cost the answer."""
        try:
            key = query_key(question)
            since = (datetime.now(timezone.utc) - SUGGESTION_REPEAT).isoformat(timespec="seconds")
            if asker and surface != "ask" and asks_store.suggested_lately(self.store, asker, key, surface, since):
                return
            team = querylog.asker_team(self.store, asker)
            asks_store.record_suggestions(self.store, [
                {"person_id": e.person_id, "surface": surface, "asker": asker or "", "asker_team": team,
                 "person_team": e.team or "", "qkey": key} for e in experts])
        except Exception as e:  # noqa: BLE001 - a locked or read-only database must not cost the answer
            logging.getLogger("guildbot").warning("could not count the suggestion: %s", e)

    def consent(self, person_id: str) -> consent_store.ConsentRow:
        """What a person lets guildbot do: opted out, paused until, hidden topics."""
        return consent_store.get(self.store, person_id)

    def set_consent(self, person_id: str, *, opted_out: bool | None = None, pause_days: int | None = None,
                    resume: bool = False, hide: str | None = None, show: str | None = None) -> consent_store.ConsentRow:
        """Change a person's consent. Opting out (or back in) is mirrored into the syncs' opt-out list, so
        no sync is planned with them either. Raises ValueError for a pause that is not 1 to 365 days."""
        store = self.store
        row = consent_store.get(store, person_id)
        if opted_out is not None:
            row = consent_store.set_opted_out(store, person_id, opted_out)
            sync_store.set_optout(store, consent_store.person_keys(store, [person_id])[person_id], opted_out)
        if pause_days is not None:
            days = load.checked_pause(pause_days)
            row = consent_store.set_paused_until(store, person_id, datetime.now(timezone.utc) + timedelta(days=days))
        if resume:
            row = consent_store.set_paused_until(store, person_id, None)
        if hide:
            row = consent_store.set_hidden(store, person_id, hide, True)
        if show:
            row = consent_store.set_hidden(store, person_id, show, False)
        return row

    def consent_list(self) -> list[dict[str, Any]]:
        """Everyone who stopped, paused or hid a topic, with their name, by name."""
        rows = consent_store.all_rows(self.store)
        names = people_store.people_by_id(self.store, list(rows))
        out = [{**r, "name": (names.get(pid) or {}).get("name") or ""} for pid, r in rows.items()
               if r["opted_out"] or r["paused_until"] or r["hidden_topics"]]
        return sorted(out, key=lambda r: (r["name"].casefold(), r["person_id"]))

    def unavailable_keys(self) -> set[str]:
        """Everyone who opted out or is paused now, by person id, email and Slack id: the digest and the
        syncs leave these people out (index/storage/consent.py)."""
        return consent_store.unavailable_keys(self.store)

    def suggestion_counts(self, person_ids: list[str]) -> dict[str, int]:
        """How often each person was suggested in the last 7 days."""
        since = (datetime.now(timezone.utc) - BUDGET_WINDOW).isoformat(timespec="seconds")
        return asks_store.suggestion_counts(self.store, person_ids, since)

    def questions_for(self, person_id: str, days: int = 28, limit: int = 5, viewer: Viewer | None = None) -> list[dict[str, Any]]:
        """Questions from others in the last `days` that went without a good answer and that this person
        is among the first people to ask about: "questions you may answer" (never when they opted out)."""
        end = datetime.now(timezone.utc) + timedelta(seconds=1)  # the log keeps whole seconds: include this one
        asked = querylog.questions(self.store, end - timedelta(days=days), end)
        me = people_store.people_by_id(self.store, [person_id]).get(person_id)
        askers = [person_id, *(json.loads(me["emails"] or "[]") if me else []), (me or {}).get("slack_id") or "",
                  (me or {}).get("name") or ""]
        own = asks_store.own_question_keys(self.store, askers, (end - timedelta(days=days)).isoformat(timespec="seconds"))
        out = []
        for gap in querylog.gaps(asked, self.config.query_log.weak_below)[:GAPS_LOOKED_AT]:
            if query_key(gap.question) in own:
                continue  # their own question
            experts = self.experts(gap.question, limit=3, viewer=viewer, surface=None)
            if any(e.person_id == person_id and e.score > 0 for e in experts):
                out.append({"question": gap.question, "asked": gap.asked, "teams": gap.teams})
            if len(out) >= limit:
                break
        return out

    def syncs_of(self, person: Profile, now: datetime | None = None) -> list[dict[str, Any]]:
        """Upcoming syncs this person is invited to, soonest first."""
        keys = {person.person_id, person.slack_id, *(e.casefold() for e in person.emails)} - {""}
        found = sync_store.upcoming(self.store, now or datetime.now(timezone.utc))
        return [s for s in found if any({m.get("slack_id", ""), (m.get("email") or "").casefold(), m.get("person_id", "")} & keys
                                        for m in s.get("members") or [])]

    # -- bus factor -------------------------------------------------------------------------------------------------
    def at_risk(self, team: str | None = None, viewer: Viewer | None = None) -> list[dict[str, Any]]:
        """Projects at risk: one person made most of the last year's commits and has left (not in the people
        directory) or been inactive for 180 days; each with the next most knowledgeable people (never someone
        who opted out or paused). "Now" is the newest activity in the index when that is earlier, so an index
        of old history is judged by its own calendar."""
        visible = {p.id: p for p in self.projects(team=team, viewer=viewer)}
        if not visible:
            return []
        newest = insights_store.newest_activity(self.store)
        now = datetime.now(timezone.utc)
        if newest:
            try:
                stamp = datetime.fromisoformat(newest.replace("Z", "+00:00"))
                now = min(now, stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc))
            except ValueError:
                pass
        since = (now - BUS_WINDOW).isoformat(timespec="seconds")
        quiet_since = (now - BUS_INACTIVE).isoformat(timespec="seconds")
        people = insights_store.people_activity(self.store)
        by_project: dict[str, list[dict[str, Any]]] = {}
        for r in insights_store.project_commits(self.store, since):
            if r["project_id"] in visible:
                by_project.setdefault(r["project_id"], []).append(r)
        away = consent_store.unavailable(self.store)
        has_directory = bool(self.config.directory)
        out = []
        for pid, rows in by_project.items():
            recent = sum(r["recent"] or 0 for r in rows)
            top = max(rows, key=lambda r: (r["recent"] or 0, r["total"] or 0))
            share = (top["recent"] or 0) / recent if recent else 0.0
            who = people.get(top["person_id"])
            if who is None or recent < BUS_MIN_COMMITS or share <= BUS_SHARE:
                continue
            left = has_directory and not who["in_directory"]
            inactive = not who["last_at"] or who["last_at"] < quiet_since
            if not (left or inactive):
                continue
            others = sorted((r for r in rows if r["person_id"] != top["person_id"] and r["person_id"] not in away
                             and r["person_id"] in people), key=lambda r: (-(r["total"] or 0), r["person_id"]))[:3]
            out.append({"project": visible[pid].name, "project_id": pid, "team": visible[pid].team,
                        "person": {"id": top["person_id"], "name": who["name"], "team": who["team"]},
                        "share": round(share, 3), "commits": recent,
                        "reason": "has left (not in the people directory)" if left else
                                  f"has been inactive since {(who['last_at'] or '')[:10] or 'ever'}",
                        "next": [{"id": r["person_id"], "name": people[r["person_id"]]["name"],
                                  "team": people[r["person_id"]]["team"], "commits": r["total"] or 0} for r in others]})
        return sorted(out, key=lambda x: (-x["share"], x["project"]))

    # -- conversations guildbot started (index/storage/asks.py) ---------------------------------------------------
    def remember_thread(self, channel: str, thread_ts: str, kind: str = "answer", ref: str = "") -> None:
        """A Slack thread guildbot answered in (a reply there is a follow-up), or an "Ask them" message's thread."""
        asks_store.remember_thread(self.store, channel, thread_ts, kind, ref)

    def slack_thread(self, channel: str, thread_ts: str) -> asks_store.ThreadRow | None:
        return asks_store.thread(self.store, channel, thread_ts)

    def record_ask(self, ask_id: str, *, asker: str, question: str, people: list[Expert],
                   sent: dict[str, dict[str, str]]) -> None:
        """A question sent to people with "Ask them": kept for insights, and each person sent it counts as suggested."""
        team = querylog.asker_team(self.store, asker)
        asks_store.add_ask(self.store, ask_id, asker=asker, asker_team=team, question=question,
                           people=[{"person_id": e.person_id, "name": e.name, "team": e.team, "slack_id": e.slack_id}
                                   for e in people], sent=sent)
        self._note_suggested(people, "ask", asker, question)

    def ask(self, ask_id: str) -> asks_store.AskRow | None:
        return asks_store.get_ask(self.store, ask_id)

    def ask_answered(self, ask_id: str, by: str) -> bool:
        """Note the first answer to an ask; True only the first time (the asker is told once)."""
        return asks_store.mark_answered(self.store, ask_id, by)

    def whoami(self, slack_id: str = "", email: str = "") -> Profile | None:
        """The person a Slack user or a signed-in email is, with their full profile (they see themselves);
        None when the directory and the index know neither."""
        for key in (slack_id, email):
            if not key:
                continue
            try:
                found = find_person(self.store, key)
            except AmbiguousPerson:  # several people share it: not one person
                found = None
            if found:
                return profile(self.store, found)
        return None

    def _log_question(self, question: str, surface: str | None, asker: str | None, kind: str, doc_ids: list[str],
                      topic: str | None = None, results: int | None = None) -> None:
        """One entry in the query log (index/retrieval/querylog.py); never lets logging break an answer."""
        if not surface or not question.strip():
            return
        try:
            vector = self.question_vectors.encode_query([topic or question])[0]
            querylog.record(self.store, question, surface, kind, querylog.strength(self.store, vector, doc_ids),
                            len(doc_ids) if results is None else results, asker=asker,
                            retention_days=self.config.query_log.retention_days)
        except Exception as e:  # noqa: BLE001 - a locked or read-only database must not cost the answer
            logging.getLogger("guildbot").warning("could not log the question: %s", e)

    # -- who asks (index/people/visibility.py) ------------------------------------------------------------
    def viewer_for(self, email: str = "", slack_id: str = "") -> Viewer:
        """What the person with this email or Slack id may see: the sources their directory team is
        allowed; public sources only when the directory does not know them."""
        rules = {s.name: (s.team, s.visibility) for s in self.config.sources}
        return make_viewer(rules, directory_team(self._directory(), email=email, slack_id=slack_id), email or slack_id)

    def _scope(self, viewer: Viewer | None) -> Viewer | None:
        return effective(self.store, viewer)

    def _directory(self) -> list[dict[str, str]]:
        """The people directory, read again when the file changes (a team move counts at once)."""
        path = self.config.directory
        if not path:
            return []
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return []
        cached = self.__dict__.get("_directory_cache")
        if not cached or cached[0] != stamp:
            try:
                cached = (stamp, load_directory(path))
            except DirectoryError:
                cached = (stamp, [])  # an unreadable directory grants nothing beyond public sources
            self.__dict__["_directory_cache"] = cached
        return cached[1]

    # -- catalog and people ------------------------------------------------------------------------
    def rebuild_catalog(self) -> int:
        """Derive the projects and people's profiles again from the index; returns the project count."""
        centroids = doc_centroids(self.store)
        kinds = {s.name: s.kind for s in self.config.sources}
        prefixes = {s.name: str(s.options.get("prefix") or "") for s in self.config.sources}
        declared = [DeclaredProject(p.name, tuple(p.sources)) for p in self.config.projects]
        projects = build_catalog(self.store, kinds, prefixes, centroids, declared, self.embedder.encode, self.config.model)
        build_profiles(self.store, centroids, self.config.model)
        return len(projects)

    def projects(self, team: str | None = None, topic: str | None = None, viewer: Viewer | None = None) -> list[Project]:
        return list_projects(self.store, team=team, topic=topic, viewer=self._scope(viewer))

    def projects_of(self, doc_ids: list[str], viewer: Viewer | None = None) -> dict[str, Project]:
        """doc id -> the catalog project it belongs to, for the projects this viewer may see; a
        document outside every visible project is left out (the search page links each result's project)."""
        if not doc_ids:
            return {}
        visible = {p.id: p for p in self.projects(viewer=viewer)}
        return {doc_id: visible[pid] for doc_id, pid in doc_projects(self.store, doc_ids).items() if pid in visible}

    def project(self, name: str, viewer: Viewer | None = None) -> Project | None:
        return get_project(self.store, name, viewer=self._scope(viewer))

    def overlaps(self, limit: int = 10, include_same_team: bool = False, min_score: float | None = None,
                 viewer: Viewer | None = None) -> list[Overlap]:
        """Pairs of projects (in different teams unless `include_same_team`) doing alike things, most alike
        first; never a pair below `[overlaps] min_score` (a higher `min_score` may narrow it further)."""
        floor = max(self.config.overlaps_min_score, min_score or 0.0)
        found = rank_overlaps(self.store, limit=limit, min_score=floor, include_same_team=include_same_team,
                              viewer=self._scope(viewer))
        away = consent_store.unavailable(self.store)
        if not away:
            return found

        def without(p: Project) -> Project:  # an overlap's people are people to talk to: never one who said no
            return replace(p, contributors=[c for c in p.contributors if c.get("person_id") not in away])
        return [replace(o, a=without(o.a), b=without(o.b)) for o in found]

    def people(self, viewer: Viewer | None = None) -> list[dict[str, Any]]:
        return list_people(self.store, viewer=self._scope(viewer))

    def project_documents(self, project_id: str, limit: int = 50, viewer: Viewer | None = None) -> list[dict[str, Any]]:
        """A project's documents, most recently updated first; none when `viewer` may not see the project."""
        if self.project(project_id, viewer=viewer) is None:
            return []
        return project_documents(self.store, project_id, limit)

    def project_overlaps(self, project_id: str, viewer: Viewer | None = None) -> list[Overlap]:
        """Cross-team pairs this project is on one side of."""
        return [o for o in self.overlaps(limit=TEAM_OVERLAPS, viewer=viewer) if project_id in (o.a.id, o.b.id)]

    def teams(self, viewer: Viewer | None = None) -> list[Team]:
        """Every declared team with its projects, people, sources and overlaps (as `viewer` may see them)."""
        projects, people = self.projects(viewer=viewer), self.people(viewer=viewer)
        overlaps = self.overlaps(limit=TEAM_OVERLAPS, viewer=viewer)
        visible = [s for s in self.config.sources if viewer is None or viewer.sees(s.name)]
        return [compose_team(t.name, t.slack_channel, [s.name for s in visible if s.team == t.name],
                             projects, people, overlaps) for t in self.config.teams]

    def team(self, name: str, viewer: Viewer | None = None) -> Team | None:
        """A declared team by name (case-insensitive); None when no team has that name."""
        declared = self.config.team(name)
        return next((t for t in self.teams(viewer=viewer) if t.name == declared.name), None) if declared else None

    def person(self, query: str, viewer: Viewer | None = None) -> Profile | None:
        """A person by name, email, handle or Slack id; raises AmbiguousPerson when several match."""
        viewer = self._scope(viewer)
        found = find_person(self.store, query, viewer=viewer)
        if not found:
            return None
        shown = profile(self.store, found, viewer=viewer)
        hidden = {t.casefold() for t in consent_store.get(self.store, shown.person_id)["hidden_topics"]}
        shown.topics = [t for t in shown.topics if t.casefold() not in hidden]  # a hidden topic is not shown either
        return shown

    def similar(self, person: str, limit: int = 5, viewer: Viewer | None = None) -> list[SimilarPerson]:
        """People in other teams who work on the same things; LookupError when nobody matches `person`."""
        viewer = self._scope(viewer)
        found = find_person(self.store, person, viewer=viewer)
        if not found:
            raise LookupError(f"nobody matches {person!r}; try a full name or an email")
        out = similar_people(self.store, found, limit=limit + EXPERT_POOL, viewer=viewer)
        away = consent_store.unavailable(self.store)  # never suggest someone who opted out or paused
        return [s for s in out if s.person_id not in away][:limit]

    def suggest_people(self, query: str, viewer: Viewer | None = None) -> list[str]:
        """Names close to a query that matched nobody."""
        return suggest_names(self.store, query, viewer=self._scope(viewer))

    def document_count(self) -> int:
        return self.store.count("documents")

    # -- what surfaces record ------------------------------------------------------------------------
    def record_feedback(self, doc_id: str, query: str, value: int, user: str) -> str:
        """Store a "Helpful" (+1) / "Not helpful" (-1) vote; returns the document's title."""
        record_feedback(self.store, doc_id, query, value, user)
        row = self.store.documents([doc_id]).get(doc_id)
        return row["title"] if row else doc_id

    def first_delivery(self, key: str) -> bool:
        """True the first time any process on this data_dir offers `key` (a Slack event id) within
        an hour; raises sqlite3.Error when the database is too busy to say."""
        return self.seen_events.first(key)

    def ambiguous(self) -> list[Ambiguity]:
        """Identities that could not be placed with confidence."""
        return find_ambiguous(self.store, self.config.aliases)
