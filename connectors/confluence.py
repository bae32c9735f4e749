"""Confluence Cloud and Data Center, through the REST API v1 shape both of them speak.

Pages of the configured spaces come from GET /rest/api/content (following `_links.next`), with
their storage-format body turned into text and their version history into contributors (the
creator is the author, everyone else who saved a version an editor). The state keeps each page's
version number and title path, so unchanged pages are never fetched twice.

Crawls come in three modes:
- full (no usable state): list every page with its body; ends with a full sweep.
- incremental: one CQL search for pages modified since the last crawl started, minus a day of
  overlap (CQL dates are read in the account's time zone, which the API does not tell; pages
  that come back unchanged cost nothing more, their version matches the state).
- sweep (every `sweep_every`-th crawl): list every page id and version without bodies; changed
  pages are fetched, missing ones deleted; ends with a full sweep. Deletions and pages moved
  between spaces are only seen here.

Credentials come from the environment: Cloud uses GUILDBOT_CONFLUENCE_EMAIL and
GUILDBOT_CONFLUENCE_TOKEN (an Atlassian API token, basic auth); Data Center uses a personal access
token in GUILDBOT_CONFLUENCE_PAT (Bearer).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import quote, urlsplit

from bs4 import BeautifulSoup, NavigableString

from connectors.base import Checkpoint, Contributor, Deleted, Document, Field, Item, SourceContext, SourceError, Unchanged, is_bot, make_id
from connectors.common.text import MAX_TEXT_CHARS, html_to_text

if TYPE_CHECKING:  # requests loads only when a crawl talks HTTP, not when a question reads the config
    from connectors.common.http import HttpClient

ENV_EMAIL = "GUILDBOT_CONFLUENCE_EMAIL"
ENV_TOKEN = "GUILDBOT_CONFLUENCE_TOKEN"
ENV_PAT = "GUILDBOT_CONFLUENCE_PAT"
STATE_VERSION = 1
FULL_EXPAND = "body.storage,version,ancestors,history,space"
LIGHT_EXPAND = "version,ancestors,space"
PAGE_SIZE = 50
SWEEP_PAGE_SIZE = 200
VERSION_PAGE_SIZE = 100
CQL_OVERLAP = timedelta(days=1)
VERSION_PATHS = ("/rest/api/content/{id}/version", "/rest/experimental/content/{id}/version")
CHECKPOINT_EVERY = 200
MAX_RESULT_PAGES = 100_000  # a `_links.next` chain longer than this is a server bug
DROP_TAGS = ("ac:parameter", "ac:image", "ac:emoticon", "ac:placeholder", "ri:attachment", "ri:user", "ri:url")
CDATA_HOLDERS = ("ac:plain-text-body", "ac:plain-text-link-body")


# -- storage format ----------------------------------------------------------------------------
def storage_to_text(xhtml: str) -> str:
    """Confluence storage format (XHTML with ac:/ri: macros) as plain text: macro parameters
    dropped, code macro bodies and link texts kept."""
    soup = BeautifulSoup(xhtml[:MAX_TEXT_CHARS], "html.parser")
    for tag in soup.find_all(CDATA_HOLDERS):
        code = tag.name == "ac:plain-text-body"
        pre = soup.new_tag("pre" if code else "span")
        pre.append(NavigableString(tag.get_text() if code else tag.get_text().strip()))
        tag.replace_with(pre)
    for link in soup.find_all("ac:link"):
        page = link.find("ri:page")
        if page is not None and not link.get_text(strip=True) and page.get("ri:content-title"):
            link.replace_with(NavigableString(page["ri:content-title"]))
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    text, _ = html_to_text(str(soup), remove_boilerplate=False)
    return text


def title_path(content: dict[str, Any]) -> str:
    """'Grandparent / Parent / Page' from the `ancestors` expansion (root first)."""
    names = [str(a.get("title", "")) for a in content.get("ancestors") or [] if isinstance(a, dict)]
    return " / ".join([n for n in names if n] + [str(content.get("title", ""))])


def parse_when(value: Any) -> datetime | None:
    """Confluence timestamps: '2024-01-15T10:20:30.123Z' (Cloud) or '...+01:00' (Data Center)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


# -- people ------------------------------------------------------------------------------------
@dataclass
class _Tally:
    name: str
    email: str
    username: str
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def add(self, when: datetime | None) -> None:
        self.count += 1
        if when:
            self.first = min(self.first, when) if self.first else when
            self.last = max(self.last, when) if self.last else when


def person(user: Any) -> tuple[str, str, str] | None:
    """(name, email, username) of a Confluence user object; None for anonymous, apps and bots.
    Cloud gives accountId / publicName / displayName / email (when visible); Data Center gives
    username / displayName."""
    if not isinstance(user, dict) or user.get("type") == "anonymous" or user.get("accountType") == "app":
        return None
    name = str(user.get("displayName") or user.get("publicName") or user.get("username") or "")
    email = str(user.get("email") or "").lower()
    username = str(user.get("username") or user.get("accountId") or "")
    if not (name or email or username) or is_bot(name, email, username):
        return None
    return name, email, username


def contributors(content: dict[str, Any], versions: list[dict[str, Any]]) -> list[Contributor]:
    """The creator as author, everyone else who saved a version as editor, with counts and dates."""
    history = content.get("history") or {}
    if not versions:
        versions = [{"by": (content.get("version") or {}).get("by") or history.get("createdBy"),
                     "when": (content.get("version") or {}).get("when"), "number": 1}]
    creator = person(history.get("createdBy")) or person(min(versions, key=lambda v: v.get("number") or 0).get("by"))
    tallies: dict[str, _Tally] = {}
    for v in versions:
        who = person(v.get("by"))
        if who:
            key = who[2] or who[1] or who[0]
            tallies.setdefault(key, _Tally(*who)).add(parse_when(v.get("when")))
    creator_key = (creator[2] or creator[1] or creator[0]) if creator else None
    if creator and creator_key not in tallies:
        tallies[creator_key] = _Tally(*creator)
        tallies[creator_key].add(parse_when(history.get("createdDate")))
    ordered = sorted(tallies.items(), key=lambda kv: (kv[0] != creator_key, -kv[1].count))
    return [Contributor(name=t.name, email=t.email, username=t.username, count=t.count, first_at=t.first,
                        last_at=t.last, role="author" if key == creator_key else "editor") for key, t in ordered]


# -- the connector -----------------------------------------------------------------------------
class ConfluenceConnector:
    kind = "confluence"
    fields = (
        Field("url", str, True, "the base URL, e.g. https://example.atlassian.net/wiki or https://confluence.corp"),
        Field("spaces", list, True, 'space keys, e.g. ["ML", "DATA"]'),
        Field("deployment", str, False, '"cloud" or "datacenter" (default: cloud for *.atlassian.net)'),
        Field("sweep_every", int, False, "list every page id to find deletions every Nth crawl (default 10)"),
        Field("page_size", int, False, f"results per API request (default {PAGE_SIZE})"),
    )
    sleep = staticmethod(time.sleep)  # tests replace it to observe Retry-After waits

    def __init__(self, options: dict[str, Any], ctx: SourceContext):
        self.ctx = ctx
        self.base = str(options["url"]).rstrip("/")
        self.spaces = [str(s) for s in options.get("spaces") or []]
        host = (urlsplit(self.base).hostname or "").lower()
        self.deployment = str(options.get("deployment") or ("cloud" if host.endswith("atlassian.net") else "datacenter"))
        self.sweep_every = int(options.get("sweep_every", 10))
        self.page_size = int(options.get("page_size", PAGE_SIZE))
        self._client: HttpClient | None = None
        self.version_paths = list(VERSION_PATHS)

    def _error(self, cause: str, fix: str = "") -> SourceError:
        return SourceError(self.ctx.name, cause, fix)

    # -- HTTP ----------------------------------------------------------------------------------
    def _validate(self) -> None:
        if urlsplit(self.base).scheme not in ("http", "https"):
            raise self._error(f"url {self.base!r} is not an http(s) URL",
                              "set url to e.g. https://example.atlassian.net/wiki or https://confluence.corp")
        if self.deployment not in ("cloud", "datacenter"):
            raise self._error(f"unknown deployment {self.deployment!r}", 'use deployment = "cloud" or "datacenter"')
        if not self.spaces:
            raise self._error("no spaces configured", 'list the space keys, e.g. spaces = ["ML"]')
        if self.sweep_every < 1 or self.page_size < 1:
            raise self._error("sweep_every and page_size must be at least 1", "fix them in guild.toml")

    def _credentials_fix(self) -> str:
        if self.deployment == "cloud":
            return (f"export {ENV_EMAIL} (your Atlassian account email) and {ENV_TOKEN} (an API token from "
                    "https://id.atlassian.com/manage-profile/security/api-tokens)")
        return f"export {ENV_PAT} (a personal access token: Confluence > Profile > Personal Access Tokens)"

    def client(self) -> HttpClient:
        if self._client is None:
            if self.deployment == "cloud":
                missing = [v for v in (ENV_EMAIL, ENV_TOKEN) if not os.environ.get(v)]
                auth, headers = (os.environ.get(ENV_EMAIL), os.environ.get(ENV_TOKEN)), {}
            else:
                missing = [ENV_PAT] if not os.environ.get(ENV_PAT) else []
                auth, headers = None, {"Authorization": f"Bearer {os.environ.get(ENV_PAT)}"}
            if missing:
                raise self._error(f"Confluence {self.deployment} credentials missing: {' and '.join(missing)} "
                                  "not set in the environment", self._credentials_fix())
            from connectors.common.http import HttpClient
            self._client = HttpClient(self.ctx.name, auth=auth, sleep=self.sleep,
                                      headers={"Accept": "application/json", **headers})
        return self._client

    def get_json(self, path: str, params: dict[str, Any] | None = None, missing_ok: bool = False) -> dict[str, Any] | None:
        """One API call: `path` is relative to the base URL, or absolute. None for a 404 if missing_ok."""
        url = path if "://" in path else self.base + path
        r = self.client().get(url, params=params, ok=(200, 401, 403, 404))
        if r.status == 404 and missing_ok:
            return None
        if r.status == 401:
            raise self._error(f"Confluence rejected the credentials (HTTP 401 from {url})", self._credentials_fix())
        if r.status == 403:
            raise self._error(f"HTTP 403 from {url}: this account may not read it",
                              "grant the account read access to the configured spaces")
        if r.status == 404:
            raise self._error(f"HTTP 404 from {url}: not found",
                              "check url (Cloud: https://<site>.atlassian.net/wiki) and the space keys")
        data = r.json(self.ctx.name)
        if not isinstance(data, dict):
            raise self._error(f"unexpected JSON from {url}: a {type(data).__name__}, not an object",
                              "check that url points at Confluence")
        return data

    def _next_url(self, nxt: str, links: dict[str, Any]) -> str:
        """`_links.next` is relative to the base URL; some servers include the context path."""
        if "://" in nxt:
            return nxt
        context = str(links.get("context") or urlsplit(self.base).path).rstrip("/")
        if context and nxt.startswith(context + "/"):
            nxt = nxt[len(context):]
        return self.base + nxt

    def paged(self, path: str, params: dict[str, Any], missing_ok: bool = False) -> Iterator[dict[str, Any]]:
        """Every result of a paginated endpoint, following `_links.next` (nothing if missing_ok and it is a 404)."""
        url: str | None = path
        seen: set[str] = set()
        while url:
            data = self.get_json(url, params, missing_ok=missing_ok and url == path)
            if data is None:
                return
            results = data.get("results")
            if not isinstance(results, list):
                raise self._error(f"unexpected JSON from {url}: no `results` list", "check that url points at Confluence")
            yield from (r for r in results if isinstance(r, dict))
            nxt = (data.get("_links") or {}).get("next")
            url, params = (self._next_url(nxt, data.get("_links") or {}) if nxt else None), None
            if url in seen or len(seen) > MAX_RESULT_PAGES:
                raise self._error(f"pagination of {path} does not end (repeats {url})", "report this server bug")
            seen.add(url or "")

    # -- pages ---------------------------------------------------------------------------------
    def versions(self, page_id: str) -> list[dict[str, Any]]:
        """A page's versions. Older Data Center releases serve them only under /rest/experimental;
        where neither path answers, contributors fall back to the creator and the last editor."""
        for template in list(self.version_paths):
            found = list(self.paged(template.format(id=quote(page_id)), {"limit": VERSION_PAGE_SIZE}, missing_ok=True))
            if found:
                self.version_paths.remove(template)
                self.version_paths.insert(0, template)  # try the path that works first from now on
                return found
        return []

    def document(self, content: dict[str, Any]) -> Document:
        page_id = str(content["id"])
        version = content.get("version") or {}
        history = self.versions(page_id) if (version.get("number") or 1) > 1 else []
        body = ((content.get("body") or {}).get("storage") or {}).get("value") or ""
        webui = (content.get("_links") or {}).get("webui") or f"/pages/viewpage.action?pageId={page_id}"
        space = (content.get("space") or {}).get("key") or ""
        return Document(id=make_id(self.ctx.name, f"page:{page_id}"), source=self.ctx.name, team=self.ctx.team,
                        kind="wiki_page", title=str(content.get("title") or page_id),
                        text=storage_to_text(body), url=self.base + webui, path=title_path(content),
                        updated_at=parse_when(version.get("when")), contributors=contributors(content, history),
                        metadata={"page_id": page_id, "space": space, "version": version.get("number"),
                                  "deployment": self.deployment})

    def check_spaces(self) -> None:
        for key in self.spaces:
            if self.get_json(f"/rest/api/space/{quote(key)}", missing_ok=True) is None:
                raise self._error(f"space {key!r} not found at {self.base}, or not visible to this account",
                                  "check the space key in guild.toml (keys are case-sensitive) and the account's access")

    def list_pages(self, space: str, expand: str, limit: int) -> Iterator[dict[str, Any]]:
        params = {"spaceKey": space, "type": "page", "status": "current", "expand": expand, "limit": limit}
        yield from self.paged("/rest/api/content", params)

    def search_modified(self, since: datetime) -> Iterator[dict[str, Any]]:
        keys = ", ".join('"' + s.replace('"', '\\"') + '"' for s in self.spaces)
        cql = f'space in ({keys}) and type = page and lastmodified >= "{since:%Y-%m-%d %H:%M}"'
        yield from self.paged("/rest/api/content/search", {"cql": cql, "expand": FULL_EXPAND, "limit": self.page_size})

    # -- crawl ---------------------------------------------------------------------------------
    def crawl(self, state: dict[str, Any] | None) -> Iterator[Item]:
        self._validate()
        self.client()
        st = state if (state or {}).get("v") == STATE_VERSION and (state or {}).get("base") == self.base else None
        known: dict[str, list] = dict((st or {}).get("pages") or {})
        same_spaces = st is not None and sorted(st.get("spaces") or []) == sorted(self.spaces)
        self.check_spaces()
        started = datetime.now(timezone.utc)
        if not same_spaces or not st.get("complete"):
            yield from _Run(self, known, started, 0, None).full()
        elif st.get("since_sweep", 0) + 1 >= self.sweep_every:
            yield from _Run(self, known, started, 0, st).sweep()
        else:
            since = parse_when(st.get("started")) or started
            yield from _Run(self, known, started, st.get("since_sweep", 0) + 1, st).incremental(since - CQL_OVERLAP)


class _Run:
    """One crawl: what was known before, and the page versions seen so far.

    `previous` is the last complete state: an interrupted incremental crawl or sweep resumes from
    it (with the pages done so far), an interrupted full crawl (previous None) starts over and
    skips the pages it already stored."""

    def __init__(self, conn: ConfluenceConnector, known: dict[str, list], started: datetime, since_sweep: int,
                 previous: dict[str, Any] | None):
        self.c, self.known, self.started, self.since_sweep = conn, known, started, since_sweep
        self.previous = previous
        self.seen: dict[str, list] = {}
        self.count = 0

    def state(self, pages: dict[str, list], complete: bool) -> dict[str, Any]:
        return {"v": STATE_VERSION, "base": self.c.base, "spaces": sorted(self.c.spaces), "pages": pages,
                "started": self.started.isoformat(), "since_sweep": self.since_sweep, "complete": complete}

    def item(self, content: dict[str, Any]) -> Item | None:
        """Unchanged when the page's version and title path match the state, else its Document
        (fetched with its body when `content` came from a light listing; None if gone meanwhile)."""
        page_id = str(content.get("id") or "")
        if not page_id:
            raise self.c._error("a page without an id in the API response", "check that url points at Confluence")
        mark = [(content.get("version") or {}).get("number"), title_path(content)]
        self.seen[page_id] = mark
        self.count += 1
        if self.known.get(page_id) == mark:
            return Unchanged(make_id(self.c.ctx.name, f"page:{page_id}"))
        if "body" not in content:
            full = self.c.get_json(f"/rest/api/content/{quote(page_id)}", {"expand": FULL_EXPAND}, missing_ok=True)
            if full is None:
                del self.seen[page_id]  # deleted between the listing and now: gone() deletes it
                return None
            content = full
        return self.c.document(content)

    def items(self, contents: Iterator[dict[str, Any]]) -> Iterator[Item]:
        for content in contents:
            item = self.item(content)
            if item is not None:
                yield item
            yield from self.progress()

    def progress(self) -> Iterator[Item]:
        """An intermediate checkpoint now and then, so a failure late in a big crawl keeps the work done."""
        if self.count and self.count % CHECKPOINT_EVERY == 0:
            pages = {**self.known, **self.seen}
            yield Checkpoint({**self.previous, "pages": pages} if self.previous else self.state(pages, complete=False))

    def gone(self) -> Iterator[Item]:
        for page_id in sorted(self.known.keys() - self.seen.keys()):
            yield Deleted(make_id(self.c.ctx.name, f"page:{page_id}"))

    def full(self) -> Iterator[Item]:
        for space in self.c.spaces:
            yield from self.items(self.c.list_pages(space, FULL_EXPAND, self.c.page_size))
        yield from self.gone()
        yield Checkpoint(self.state(dict(self.seen), complete=True), full_sweep=True)

    def sweep(self) -> Iterator[Item]:
        for space in self.c.spaces:
            yield from self.items(self.c.list_pages(space, LIGHT_EXPAND, SWEEP_PAGE_SIZE))
        yield from self.gone()
        yield Checkpoint(self.state(dict(self.seen), complete=True), full_sweep=True)

    def incremental(self, since: datetime) -> Iterator[Item]:
        yield from self.items(self.c.search_modified(since))
        yield Checkpoint(self.state({**self.known, **self.seen}, complete=True))
