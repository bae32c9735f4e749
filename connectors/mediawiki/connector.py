"""MediaWiki through its action API (api.php).

A first crawl enumerates the pages in scope (list=allpages per namespace with the title prefix,
or list=categorymembers), fetches their current wikitext in batches and each page's revision
history for its contributors, and ends with a full-sweep Checkpoint. Later crawls read
list=recentchanges since the server time the previous crawl started at: edited, created,
moved, deleted and restored pages are looked up again by page id and title, re-fetched when
their latest revision changed, and reported Deleted when they left the scope.

The state is {"v", "scope", "rc_timestamp", "complete", "pages": {pageid: [title, revid]}}.
Intermediate checkpoints during a full crawl store complete=False: an interrupted crawl is read
again whole, but pages whose latest revision is the one already stored are reported Unchanged
instead of being fetched again. The same happens when recent changes may have expired
(MediaWiki keeps them for $wgRCMaxAge, 90 days by default) or the configured scope changed.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator
from urllib.parse import quote, urlsplit

from connectors.base import Checkpoint, Contributor, Deleted, Document, Field, Item, SourceContext, SourceError, Unchanged, is_bot, make_id
from connectors.common.text import MAX_TEXT_CHARS, squeeze
from connectors.mediawiki.api import PASSWORD_ENV, USER_ENV, Api
from connectors.mediawiki.wikitext import wikitext_parts

STATE_VERSION = 1
MAX_BATCH = 50  # titles or page ids per request: the API's limit for accounts without apihighlimits
CHECKPOINT_EVERY = 200  # pages between two checkpoints of a long crawl
RC_OVERLAP = timedelta(minutes=2)  # re-read this much before the stored time: changes land late
RC_MAX_AGE_DAYS = 90  # MediaWiki's default $wgRCMaxAge
TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _ts(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, TS_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


@dataclass
class _Site:
    """What the wiki says about itself: used to normalise titles and hide file/category links."""

    now: str
    first_letter: bool
    namespaces: dict[int, str]  # id -> local name
    hidden: set[str]  # lower-case names and aliases of the File, Media and Category namespaces
    category_names: set[str]  # lower-case names and aliases of the Category namespace


@dataclass
class _PageRef:
    pageid: int
    title: str
    revid: int


# -- the connector -------------------------------------------------------------------------------
class MediaWikiConnector:
    kind = "mediawiki"
    fields = (
        Field("url", str, True, "the wiki's api.php URL, e.g. https://wiki.example/w/api.php"),
        Field("prefix", str, False, 'only pages whose title starts with this, e.g. "Home Feed/"'),
        Field("namespaces", list, False, "namespace numbers to read (default [0], the main namespace)"),
        Field("categories", list, False, "only pages directly in one of these categories"),
        Field("page_url", str, False, "link template for pages, e.g. https://wiki.example/wiki/{title} "
                                      "(default: the wiki's own page URL)"),
        Field("username_env", str, False, f"environment variable holding the bot user name (default {USER_ENV})"),
        Field("password_env", str, False, f"environment variable holding the bot password (default {PASSWORD_ENV})"),
        Field("batch_size", int, False, f"pages per content request and list results per request "
                                        f"(default {MAX_BATCH}, at most {MAX_BATCH})"),
        Field("checkpoint_every", int, False, f"pages between checkpoints of a long crawl (default {CHECKPOINT_EVERY})"),
        Field("rc_max_age_days", int, False, f"the wiki's $wgRCMaxAge in days (default {RC_MAX_AGE_DAYS}); an older "
                                             "cursor means a full crawl"),
        Field("timeout", (int, float), False, "seconds to wait for one API response (default 30)"),
    )

    def __init__(self, options: dict[str, Any], ctx: SourceContext):
        self.ctx = ctx
        self.options = options
        self.url = str(options["url"]).strip()
        self.prefix = str(options.get("prefix") or "")
        self.namespaces: list[int] = list(options.get("namespaces") or [0])
        self.categories: list[str] = list(options.get("categories") or [])
        self.page_url = options.get("page_url")
        self.batch = int(options.get("batch_size") or MAX_BATCH)
        self.checkpoint_every = int(options.get("checkpoint_every") or CHECKPOINT_EVERY)
        self.rc_max_age = timedelta(days=int(options.get("rc_max_age_days") or RC_MAX_AGE_DAYS))
        from connectors.common.http import HttpClient
        self.http = HttpClient(ctx.name, timeout=float(options.get("timeout") or 30.0))
        self.api = Api(ctx.name, self.url, self.http)
        self.site: _Site | None = None
        self._bots: dict[str, bool] = {}

    # -- set-up ------------------------------------------------------------------------------
    def _fail(self, cause: str, fix: str) -> SourceError:
        return SourceError(self.ctx.name, cause, fix)

    def _validate(self) -> None:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise self._fail(f"url {self.url!r} is not an http(s) URL",
                             "set url to the wiki's api.php, e.g. https://wiki.example/w/api.php")
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in self.namespaces):
            raise self._fail(f"namespaces must be a list of namespace numbers, not {self.namespaces!r}",
                             "e.g. namespaces = [0, 4]")
        if not all(isinstance(c, str) and c.strip() for c in self.categories):
            raise self._fail(f"categories must be a list of category names, not {self.categories!r}",
                             'e.g. categories = ["Ranking"]')
        if not 1 <= self.batch <= MAX_BATCH:
            raise self._fail(f"batch_size {self.batch} is out of range", f"use a number from 1 to {MAX_BATCH}")
        if self.checkpoint_every < 1:
            raise self._fail("checkpoint_every must be at least 1", "remove it or set a positive number")

    def _credentials(self) -> tuple[str, str] | None:
        user_env = self.options.get("username_env") or USER_ENV
        pass_env = self.options.get("password_env") or PASSWORD_ENV
        user, password = os.environ.get(user_env, ""), os.environ.get(pass_env, "")
        explicit = "username_env" in self.options or "password_env" in self.options
        if user and password:
            return user, password
        if user or password or explicit:
            missing = " and ".join(v for v, val in ((user_env, user), (pass_env, password)) if not val)
            raise self._fail(f"cannot log in: the environment variable {missing} is not set",
                             f"export {user_env} (a bot password user name, User@BotName) and {pass_env}")
        return None

    def _load_site(self) -> _Site:
        data = self.api.call({"action": "query", "meta": "siteinfo", "siprop": "general|namespaces|namespacealiases",
                              "curtimestamp": True})
        q = data.get("query") or {}
        if "general" not in q or not data.get("curtimestamp"):
            raise self._fail(f"{self.url} did not answer a siteinfo query", "check that url is the wiki's api.php")
        namespaces: dict[int, str] = {}
        names: dict[int, set[str]] = {6: {"file", "image"}, -2: {"media"}, 14: {"category"}}
        for key, ns in (q.get("namespaces") or {}).items():
            nid = int(ns.get("id", key))
            namespaces[nid] = ns.get("name", "")
            names.setdefault(nid, set()).update({str(ns.get("name", "")).casefold(), str(ns.get("canonical", "")).casefold()})
        for alias in q.get("namespacealiases") or []:
            names.setdefault(int(alias.get("id", 0)), set()).add(str(alias.get("alias", "")).casefold())
        hidden = (names[6] | names[-2] | names[14]) - {""}
        return _Site(now=data["curtimestamp"], first_letter=q["general"].get("case") == "first-letter",
                     namespaces=namespaces, hidden=hidden, category_names=names[14] - {""})

    # -- scope -------------------------------------------------------------------------------
    def _norm(self, title: str) -> str:
        """A title or prefix the way the wiki stores it: spaces for underscores, first letter upper."""
        t = re.sub(" +", " ", title.replace("_", " ")).lstrip(" ")
        if self.site and self.site.first_letter and t:
            t = t[0].upper() + t[1:]
        return t

    def _local_title(self, title: str, ns: int) -> str:
        return title.split(":", 1)[1] if ns != 0 and ":" in title else title

    def _category_titles(self) -> list[str]:
        assert self.site
        cat_ns = self.site.namespaces.get(14, "Category")
        out = []
        for c in self.categories:
            name = c.strip()
            head, sep, rest = name.partition(":")
            if sep and head.strip().casefold() in self.site.category_names:
                name = rest
            out.append(f"{cat_ns}:{self._norm(name.strip())}")
        return out

    def _in_scope(self, page: dict[str, Any], check_categories: bool = True) -> bool:
        if page.get("missing") or page.get("invalid") or page.get("redirect") or "pageid" not in page:
            return False
        if not self._title_in_scope(page.get("title", ""), int(page.get("ns", 0))):
            return False
        if self.categories and check_categories:
            wanted = set(self._category_titles())
            return any(c.get("title") in wanted for c in page.get("categories") or [])
        return True

    def _title_in_scope(self, title: str, ns: int) -> bool:
        """Namespace and prefix; categories need the page itself (see _in_scope)."""
        return ns in self.namespaces and self._local_title(title, ns).startswith(self._norm(self.prefix))

    def _scope(self) -> dict[str, Any]:
        return {"url": self.url, "prefix": self.prefix, "namespaces": sorted(self.namespaces),
                "categories": sorted(self.categories)}

    # -- enumeration -------------------------------------------------------------------------
    def _enumerate(self) -> list[_PageRef]:
        """Every page in scope now, with its latest revision id."""
        found: dict[int, _PageRef] = {}
        if self.categories:
            # the generator lists members of the category: only prefix, namespace and redirects are left to check
            queries = [{"generator": "categorymembers", "gcmtitle": cat, "gcmnamespace": self.namespaces,
                        "gcmtype": "page", "gcmlimit": self.batch} for cat in self._category_titles()]
        else:
            queries = [{"generator": "allpages", "gapnamespace": ns, "gapfilterredir": "nonredirects",
                        "gaplimit": self.batch, **({"gapprefix": self._norm(self.prefix)} if self.prefix else {})}
                       for ns in self.namespaces]
        for params in queries:
            for part in self.api.query({**params, "prop": "info"}):
                for page in part.get("pages") or []:
                    if self._in_scope(page, check_categories=False):
                        found[page["pageid"]] = _PageRef(page["pageid"], page["title"], int(page.get("lastrevid") or 0))
        return sorted(found.values(), key=lambda p: p.title)

    def _lookup(self, pageids: Iterable[int], titles: Iterable[str]) -> dict[int, dict[str, Any]]:
        """Current info (and configured categories) of pages by id and by title; missing pages are left out."""
        out: dict[int, dict[str, Any]] = {}
        extra: dict[str, Any] = {"prop": "info"}
        if self.categories:
            extra = {"prop": "info|categories", "clcategories": self._category_titles(), "cllimit": "max"}
        for key, values in (("pageids", sorted(set(pageids))), ("titles", sorted(set(titles)))):
            for part in _batches(values, self.batch):
                for page in self._pages({key: part, **extra}).values():
                    if not (page.get("missing") or page.get("invalid")) and "pageid" in page:
                        out[page["pageid"]] = page
        return out

    def _pages(self, params: dict[str, Any]) -> dict[int, dict[str, Any]]:
        """A prop query's pages, merged across continuations (lists such as revisions are joined)."""
        merged: dict[Any, dict[str, Any]] = {}
        for part in self.api.query(params):
            for page in part.get("pages") or []:
                key = page.get("pageid") or ("title", page.get("title"))
                have = merged.setdefault(key, {})
                for k, v in page.items():
                    if isinstance(v, list) and isinstance(have.get(k), list):
                        have[k] = have[k] + [x for x in v if x not in have[k]]
                    else:
                        have[k] = v
        return merged

    # -- documents ---------------------------------------------------------------------------
    def _fetch(self, pageids: list[int]) -> Iterator[Document]:
        """Documents for these pages (content in batches, then each page's history)."""
        for i in range(0, len(pageids), self.batch):
            part = pageids[i:i + self.batch]
            params: dict[str, Any] = {"pageids": part, "prop": "revisions|info|categories",
                                      "rvprop": "content|ids|timestamp", "rvslots": "main", "inprop": "url",
                                      "cllimit": "max", "clshow": "!hidden"}
            pages = self._pages(params)
            for pid in part:
                page = pages.get(pid)
                if not page or page.get("missing") or not page.get("revisions"):
                    continue  # deleted since it was listed: recent changes will report it
                yield self._document(page, self._contributors(pid))

    def _document(self, page: dict[str, Any], contributors: list[Contributor]) -> Document:
        assert self.site
        rev = max(page["revisions"], key=lambda r: r.get("revid", 0))
        slot = (rev.get("slots") or {}).get("main") or rev  # wikis before 1.32 have no slots
        raw = slot.get("content") or slot.get("*") or ""
        model = slot.get("contentmodel") or page.get("contentmodel") or "wikitext"
        text, outline = wikitext_parts(raw, self.site.hidden) if model == "wikitext" else (squeeze(raw[:MAX_TEXT_CHARS]), [])
        title = page["title"]
        cats = [c["title"].split(":", 1)[-1] for c in page.get("categories") or [] if c.get("title")]
        meta = {"pageid": page["pageid"], "revid": rev.get("revid"), "namespace": page.get("ns", 0),
                "content_model": model}
        if cats:
            meta["categories"] = cats
        if outline:
            meta["outline"] = outline  # the chunker's sections (index/ingest/chunking.py)
        return Document(id=make_id(self.ctx.name, f"page:{page['pageid']}"), source=self.ctx.name,
                        team=self.ctx.team, kind="wiki_page", title=title, text=text, url=self._url(page),
                        path=title, updated_at=_ts(rev.get("timestamp")), contributors=contributors, metadata=meta)

    def _url(self, page: dict[str, Any]) -> str:
        if self.page_url:
            return self.page_url.format(title=quote(page["title"].replace(" ", "_"), safe="/:"),
                                        pageid=page["pageid"])
        url = page.get("fullurl") or page.get("canonicalurl") or ""
        if url.startswith("//"):
            url = f"{urlsplit(self.url).scheme}:{url}"
        return url

    def _history(self, pageid: int) -> list[dict[str, Any]]:
        revs: list[dict[str, Any]] = []
        params = {"pageids": pageid, "prop": "revisions", "rvprop": "user|timestamp|ids|sha1",
                  "rvlimit": "max" if self.batch >= MAX_BATCH else self.batch, "rvdir": "newer"}
        for part in self.api.query(params):
            for page in part.get("pages") or []:
                revs.extend(page.get("revisions") or [])
        return revs

    def _contributors(self, pageid: int) -> list[Contributor]:
        """Per user: edits, first and last edit; the page's creator is the author, others editors.

        Anonymous (IP) edits, bots and null revisions (a move or protection, same text as before) are skipped.
        """
        revs = self._history(pageid)
        humans = self._humans({r["user"] for r in revs if r.get("user") and not r.get("anon")})
        stats: dict[str, Contributor] = {}
        creator = revs[0].get("user") if revs else None
        prev_sha = None
        for r in revs:  # oldest first
            sha, user = r.get("sha1"), r.get("user")
            null_edit = sha is not None and sha == prev_sha
            prev_sha = sha if sha is not None else prev_sha
            if null_edit or not user or r.get("anon") or r.get("userhidden") or r.get("temp") or user not in humans:
                continue
            when = _ts(r.get("timestamp"))
            c = stats.get(user)
            if c is None:
                stats[user] = Contributor(name=user, username=user, role="author" if user == creator else "editor",
                                          count=1, first_at=when, last_at=when)
            else:
                c.count += 1
                c.last_at = when or c.last_at
        return sorted(stats.values(), key=lambda c: (c.role != "author", -c.count, c.username))

    def _humans(self, users: set[str]) -> set[str]:
        """The users that are neither bots by name nor members of the wiki's bot group."""
        unknown = sorted(u for u in users if u not in self._bots)
        for u in unknown:
            if is_bot(name=u, username=u):
                self._bots[u] = True
        unknown = [u for u in unknown if u not in self._bots]
        for i in range(0, len(unknown), MAX_BATCH):
            part = unknown[i:i + MAX_BATCH]
            for q in self.api.query({"list": "users", "ususers": part, "usprop": "groups"}):
                for u in q.get("users") or []:
                    self._bots[u.get("name", "")] = "bot" in (u.get("groups") or [])
            for u in part:
                self._bots.setdefault(u, False)
        return {u for u in users if not self._bots.get(u, False)}

    # -- crawl -------------------------------------------------------------------------------
    def crawl(self, state: dict[str, Any] | None) -> Iterator[Item]:
        self._validate()
        creds = self._credentials()
        if creds:
            self.api.login(*creds)
        self.site = self._load_site()
        state = state if (state or {}).get("v") == STATE_VERSION else None
        known = _pages_of(state) if state and (state.get("scope") or {}).get("url") == self.url else {}
        if state and state.get("complete") and state.get("scope") == self._scope() and self._rc_usable(state):
            yield from self._incremental(state, known)
        else:
            yield from self._full(known)

    def _rc_usable(self, state: dict[str, Any]) -> bool:
        since = _ts(state.get("rc_timestamp"))
        now = _ts(self.site.now if self.site else None)
        return bool(since and now and now - since < self.rc_max_age - timedelta(days=1))

    def _state(self, pages: dict[int, tuple[str, int]], rc_timestamp: str | None, complete: bool) -> dict[str, Any]:
        return {"v": STATE_VERSION, "scope": self._scope(), "rc_timestamp": rc_timestamp, "complete": complete,
                "pages": {str(pid): [title, revid] for pid, (title, revid) in sorted(pages.items())}}

    def _full(self, known: dict[int, tuple[str, int]]) -> Iterator[Item]:
        """Read every page in scope; pages whose latest revision is already stored are Unchanged."""
        assert self.site
        started = self.site.now
        pages: dict[int, tuple[str, int]] = {}
        todo: list[_PageRef] = []
        for ref in self._enumerate():
            if known.get(ref.pageid) == (ref.title, ref.revid):
                pages[ref.pageid] = (ref.title, ref.revid)
                yield Unchanged(make_id(self.ctx.name, f"page:{ref.pageid}"))
            else:
                todo.append(ref)
        done = 0
        for doc in self._fetch([r.pageid for r in todo]):
            pages[doc.metadata["pageid"]] = (doc.title, int(doc.metadata["revid"] or 0))
            yield doc
            done += 1
            if done % self.checkpoint_every == 0:
                yield Checkpoint(self._state(pages, None, complete=False))
        yield Checkpoint(self._state(pages, started, complete=True), full_sweep=True)

    def _changes(self, since: str) -> tuple[set[int], set[str]]:
        """Page ids and titles touched by edits, creations and log actions (moves, deletions) since `since`."""
        start = _ts(since)
        rcstart = (start - RC_OVERLAP).strftime(TS_FORMAT) if start else since
        ids: set[int] = set()
        titles: set[str] = set()
        params = {"list": "recentchanges", "rcstart": rcstart, "rcdir": "newer", "rctype": "edit|new|log",
                  "rcprop": "title|ids|timestamp|loginfo", "rclimit": self.batch if self.batch < MAX_BATCH else "max"}
        for part in self.api.query(params):
            for rc in part.get("recentchanges") or []:
                candidates = [(rc.get("title", ""), int(rc.get("ns", 0)))]
                target = (rc.get("logparams") or {}) if rc.get("type") == "log" else {}
                if target.get("target_title"):
                    candidates.append((target["target_title"], int(target.get("target_ns", 0))))
                for title, ns in candidates:
                    if title and self._title_in_scope(title, ns):
                        titles.add(title)
                if rc.get("pageid"):
                    ids.add(int(rc["pageid"]))  # kept only for pages already indexed: see _incremental
        return ids, titles

    def _incremental(self, state: dict[str, Any], known: dict[int, tuple[str, int]]) -> Iterator[Item]:
        assert self.site
        started = self.site.now
        ids, titles = self._changes(state["rc_timestamp"])
        by_title = {title: pid for pid, (title, _) in known.items()}
        suspects = {pid for pid in ids if pid in known} | {by_title[t] for t in titles if t in by_title}
        current = self._lookup(suspects, titles)  # a page new to the scope has a title in scope in `titles`
        pages = dict(known)
        todo = []
        for pid, page in sorted(current.items()):
            if not self._in_scope(page):
                continue
            if known.get(pid) != (page.get("title"), int(page.get("lastrevid") or 0)):
                todo.append(pid)
        for pid in sorted(suspects):
            if pid not in current or not self._in_scope(current[pid]):
                pages.pop(pid, None)
                yield Deleted(make_id(self.ctx.name, f"page:{pid}"))
        done = 0
        for doc in self._fetch(todo):
            pages[doc.metadata["pageid"]] = (doc.title, int(doc.metadata["revid"] or 0))
            yield doc
            done += 1
            if done % self.checkpoint_every == 0:
                yield Checkpoint(self._state(pages, state["rc_timestamp"], complete=True))
        yield Checkpoint(self._state(pages, started, complete=True))


def _batches(values: list, size: int, max_chars: int = 3000) -> Iterator[list]:
    """Runs of at most `size` values whose joined text stays short enough for a GET URL."""
    part: list = []
    chars = 0
    for v in values:
        n = len(quote(str(v))) + 3
        if part and (len(part) >= size or chars + n > max_chars):
            yield part
            part, chars = [], 0
        part.append(v)
        chars += n
    if part:
        yield part


def _pages_of(state: dict[str, Any]) -> dict[int, tuple[str, int]]:
    out = {}
    for pid, value in (state.get("pages") or {}).items():
        try:
            out[int(pid)] = (str(value[0]), int(value[1]))
        except (ValueError, TypeError, IndexError):
            continue
    return out
