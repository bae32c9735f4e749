"""A website: a same-origin crawl from start URLs and/or a sitemap.

Pages are fetched breadth-first up to `max_depth` links from a start URL and `max_pages` pages,
by at most WORKERS threads at once (a browser opens about as many connections to one host; a
robots.txt Crawl-delay switches to one request at a time with that delay). robots.txt is
honoured, links stay on the origins of the configured URLs, and a page is identified by its
canonical URL (<link rel=canonical>, fragment stripped, normalised). Pages with the same text
as one already seen are skipped.

The state keeps each indexed URL's ETag / Last-Modified, text hash and outgoing links, so a
re-crawl sends conditional requests and a 304 page still contributes its links. A 404/410 on a
known URL deletes its document; so does a page that is no longer linked, once a crawl has
completed (every reachable page fetched, no page failed, `max_pages` not reached) — only such a
crawl ends with a full-sweep checkpoint.

Errors: a start URL or the sitemap failing stops the source (its documents are kept). A page
over the size cap, non-HTML or disallowed is skipped and logged. Other failing pages do not stop
the crawl: the rest is stored, then the source reports which pages failed.
"""
from __future__ import annotations

import codecs
import hashlib
import logging
import re
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import PurePosixPath
from typing import Any, Iterator
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from bs4 import BeautifulSoup, SoupStrainer
from bs4.dammit import EncodingDetector

from connectors.base import Checkpoint, Contributor, Deleted, Document, Field, Item, SourceContext, SourceError, Unchanged, make_id
from connectors.common.http import HttpClient, ResponseTooLarge
from connectors.common.text import MAX_TEXT_CHARS, html_to_text
from connectors.web.sitemap import MAX_PAGE_BYTES, parse_sitemap
from connectors.web.urls import _prefixes, normalize_url, origin

log = logging.getLogger("guildbot.connectors.web")

STATE_VERSION = 1
ROBOTS_AGENT = "guildbot"
WORKERS = 4
BATCH = 16  # pages fetched ahead of the parser: bounds memory to BATCH bodies
CHECKPOINT_EVERY = 100  # pages between intermediate checkpoints
MAX_SITEMAPS = 50
MAX_CRAWL_DELAY = 30.0
HTML_TYPES = ("text/html", "application/xhtml+xml")
SKIP_SUFFIXES = frozenset(
    ".pdf .zip .gz .tgz .tar .bz2 .xz .7z .rar .png .jpg .jpeg .gif .svg .webp .ico .bmp .tif .tiff .css .js .mjs "
    ".json .map .mp3 .mp4 .m4a .mov .avi .webm .wav .ogg .woff .woff2 .ttf .otf .eot .exe .dmg .msi .deb .rpm .whl "
    ".jar .iso .bin .csv .xls .xlsx .doc .docx .ppt .pptx .rss .atom".split())


# -- pages -------------------------------------------------------------------------------------
@dataclass
class Fetched:
    """One URL's fetch: status 0 means it failed (error says why)."""

    url: str
    final: str = ""
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: SourceError | None = None


@dataclass
class Page:
    canonical: str
    title: str
    text: str
    author: str
    links: list[str]
    noindex: bool


def decode_html(body: bytes, content_type: str) -> str:
    """Bytes to text, by BeautifulSoup's EncodingDetector: a byte-order mark, the header's charset,
    then <meta charset>, each trusted with bad bytes replaced; an undeclared page is UTF-8 when it
    decodes as such, else the detector's guesses; UTF-8 with replacements as the last resort."""
    header = Message()
    header["content-type"] = content_type or ""
    charset = header.get_content_charset()
    det = EncodingDetector(body, known_definite_encodings=[charset] if charset else None, is_html=True)
    markup = det.markup  # without its byte-order mark
    meta = EncodingDetector.find_declared_encoding(markup, is_html=True)
    for declared in (det.sniffed_encoding, charset, meta):
        if declared and _codec(declared):
            return markup.decode(declared, errors="replace")
    for guess in ("utf-8", *det.encodings):
        if guess and _codec(guess):
            try:
                return markup.decode(guess)
            except UnicodeDecodeError:
                continue
    return markup.decode("utf-8", errors="replace")


def _codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def parse_page(html: str, url: str) -> Page:
    """Text, metadata and outgoing links of one HTML page fetched from `url`."""
    html = html[:MAX_TEXT_CHARS]
    text, meta = html_to_text(html)
    soup = BeautifulSoup(html, "html.parser", parse_only=SoupStrainer(["a", "area", "base", "meta"]))
    base_tag = soup.find("base", href=True)
    base = urljoin(url, base_tag["href"]) if base_tag else url
    robots = " ".join(m.get("content", "") for m in soup.find_all("meta", attrs={"name": re.compile("^robots$", re.I)}))
    links: list[str] = []
    if "nofollow" not in robots.lower():
        for a in soup.find_all(["a", "area"], href=True):
            if "nofollow" in (a.get("rel") or []):
                continue
            link = normalize_url(a["href"], base)
            if link and link not in links:
                links.append(link)
    canonical = normalize_url(meta["canonical"], base) if meta.get("canonical") else None
    return Page(canonical=canonical or url, title=meta.get("title", ""), text=text, author=meta.get("author", ""),
                links=links, noindex="noindex" in robots.lower())


def authors(value: str, when: datetime | None) -> list[Contributor]:
    """<meta name="author"> as contributors: 'Ada Lovelace', 'Ada <ada@x.org>', 'a; b'."""
    out = []
    for spec in re.split(r"[;,]", value):
        spec = spec.strip()
        name, email = spec, ""
        m = re.match(r"^(.*?)\s*<([^>]+@[^>]+)>$", spec)
        if m:
            name, email = m.group(1), m.group(2)
        elif "@" in spec and " " not in spec:
            name, email = "", spec
        if name or email:
            out.append(Contributor(name=name.strip(), email=email.strip().lower(), role="author",
                                   first_at=when, last_at=when))
    return out


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


def text_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "replace")).hexdigest()[:32]


# -- the connector -----------------------------------------------------------------------------
class WebConnector:
    kind = "web"
    fields = (
        Field("url", str, False, "the start URL, e.g. https://docs.internal/"),
        Field("urls", list, False, "several start URLs"),
        Field("sitemap", str, False, "a sitemap.xml (or sitemap index) URL whose pages are crawled too"),
        Field("max_depth", int, False, "links followed from a start URL (default 3)"),
        Field("max_pages", int, False, "pages fetched per crawl at most (default 500)"),
        Field("include", (list, str), False, "only URL paths starting with one of these prefixes"),
        Field("exclude", (list, str), False, "skip URL paths starting with one of these prefixes"),
    )
    sleep = staticmethod(time.sleep)  # tests replace it to observe Retry-After and Crawl-delay waits

    def __init__(self, options: dict[str, Any], ctx: SourceContext):
        self.ctx = ctx
        self.options = options
        self.max_depth = int(options.get("max_depth", 3))
        self.max_pages = int(options.get("max_pages", 500))
        self.include = _prefixes(options.get("include"))
        self.exclude = _prefixes(options.get("exclude"))
        self._local = threading.local()

    def _error(self, cause: str, fix: str) -> SourceError:
        return SourceError(self.ctx.name, cause, fix)

    def _seeds(self) -> tuple[list[str], str | None]:
        raw = ([self.options["url"]] if self.options.get("url") else []) + list(self.options.get("urls") or [])
        seeds = []
        for u in raw:
            n = normalize_url(str(u))
            if not n:
                raise self._error(f"{u!r} is not an http(s) URL", "fix `url` / `urls` in guild.toml")
            seeds.append(n)
        sitemap = self.options.get("sitemap")
        smap = normalize_url(str(sitemap)) if sitemap else None
        if sitemap and not smap:
            raise self._error(f"sitemap {sitemap!r} is not an http(s) URL", "fix `sitemap` in guild.toml")
        if not seeds and not smap:
            raise self._error("no start URL", "set `url`, `urls` or `sitemap` in guild.toml")
        if self.max_depth < 0 or self.max_pages < 1:
            raise self._error("max_depth must be >= 0 and max_pages >= 1", "fix them in guild.toml")
        return seeds, smap

    def client(self) -> HttpClient:
        """This thread's HTTP client (requests sessions are not shared between threads)."""
        c = getattr(self._local, "client", None)
        if c is None:
            c = self._local.client = HttpClient(self.ctx.name, max_bytes=MAX_PAGE_BYTES, sleep=self.sleep)
        return c

    def wanted(self, url: str) -> bool:
        path = urlsplit(url).path
        if self.include and not any(path.startswith(p) for p in self.include):
            return False
        return not any(path.startswith(p) for p in self.exclude)

    def crawl(self, state: dict[str, Any] | None) -> Iterator[Item]:
        seeds, sitemap = self._seeds()
        old = unpack_pages(state) if (state or {}).get("v") == STATE_VERSION else {}
        yield from _Crawl(self, seeds, sitemap, old).run()


def pack_pages(pages: dict[str, dict]) -> dict[str, Any]:
    """The per-URL state with links stored as indexes into one URL list (a site's navigation
    repeats the same links on every page; written out in full the state would be ~50x larger)."""
    urls: dict[str, int] = {}
    packed = {}
    for url, entry in pages.items():
        links = [urls.setdefault(link, len(urls)) for link in entry.get("links", [])]
        packed[url] = {**entry, "links": links}
    return {"links": list(urls), "pages": packed}


def unpack_pages(state: dict[str, Any] | None) -> dict[str, dict]:
    table = (state or {}).get("links") or []
    pages = (state or {}).get("pages") or {}
    return {url: {**entry, "links": [table[i] for i in entry.get("links", []) if 0 <= i < len(table)]}
            for url, entry in pages.items()}


class _Crawl:
    """One crawl's frontier, results and state."""

    def __init__(self, conn: WebConnector, seeds: list[str], sitemap: str | None, old: dict[str, dict]):
        self.c, self.name, self.seeds, self.sitemap, self.old = conn, conn.ctx.name, seeds, sitemap, old
        self.origins = {origin(u) for u in seeds + ([sitemap] if sitemap else [])}
        self.robots: dict[str, RobotFileParser] = {}
        self.queue: deque[tuple[str, int]] = deque()
        self.visited: set[str] = set()
        self.pages: dict[str, dict] = {}  # the new state: url -> {id, etag, modified, hash, links}
        self.alive: set[str] = set()  # ids yielded as Document or Unchanged
        self.hashes: set[str] = set()
        self.gone: list[str] = []  # ids whose URL answered 404/410
        self.failed: list[str] = []
        self.skipped: dict[str, str] = {}
        self.fetched = 0
        self.truncated = False

    # -- frontier ------------------------------------------------------------------------------
    def enqueue(self, url: str, depth: int) -> None:
        if url in self.visited or origin(url) not in self.origins:
            return
        if PurePosixPath(urlsplit(url).path).suffix.lower() in SKIP_SUFFIXES:
            return
        self.visited.add(url)
        self.queue.append((url, depth))

    def robots_for(self, url: str) -> RobotFileParser:
        o = origin(url)
        if o not in self.robots:
            r = self.c.client().get(o + "/robots.txt", ok=(200, 401, 403, 404, 410))
            rp = RobotFileParser(o + "/robots.txt")
            if r.status == 200:
                rp.parse(decode_html(r.content, _header(r.headers, "content-type")).splitlines())
            else:
                rp.allow_all = True  # RFC 9309: a 4xx robots.txt means no restrictions
            self.robots[o] = rp
        return self.robots[o]

    def crawl_delay(self) -> float:
        delays = [rp.crawl_delay(ROBOTS_AGENT) or 0 for rp in self.robots.values()]
        return min(float(max(delays, default=0)), MAX_CRAWL_DELAY)

    def admit(self, url: str) -> bool:
        """Robots and include/exclude rules for a URL about to be fetched."""
        if not self.robots_for(url).can_fetch(ROBOTS_AGENT, url):
            if url in self.seeds:
                raise SourceError(self.name, f"robots.txt of {origin(url)} disallows the start URL {url} for guildbot",
                                  "allow the guildbot user agent in robots.txt, or start from another URL")
            self.skipped[url] = "disallowed by robots.txt"
            return False
        if url not in self.seeds and not self.c.wanted(url):
            self.skipped[url] = "excluded by include/exclude"
            return False
        return True

    def next_batch(self) -> list[tuple[str, int]]:
        batch: list[tuple[str, int]] = []
        while self.queue and len(batch) < BATCH:
            if self.fetched + len(batch) >= self.c.max_pages:
                self.truncated = True
                break
            url, depth = self.queue.popleft()
            if self.admit(url):
                batch.append((url, depth))
        return batch

    # -- fetching ------------------------------------------------------------------------------
    def fetch(self, url: str) -> Fetched:
        prev = self.old.get(url) or {}
        headers = {}
        if prev.get("etag"):
            headers["If-None-Match"] = prev["etag"]
        if prev.get("modified"):
            headers["If-Modified-Since"] = prev["modified"]
        try:
            r = self.c.client().get(url, headers=headers, ok=(200, 304, 404, 410))
        except SourceError as e:
            return Fetched(url, error=e)
        final = normalize_url(r.url) or url
        return Fetched(url, final, r.status, {k.lower(): v for k, v in r.headers.items()}, r.content)

    def fetch_all(self, pool: ThreadPoolExecutor, batch: list[tuple[str, int]]) -> Iterator[Fetched]:
        """The batch's fetches in batch order: WORKERS at once, or one by one under a Crawl-delay."""
        delay = self.crawl_delay()
        if not delay:
            yield from pool.map(self.fetch, [url for url, _ in batch])
            return
        for i, (url, _) in enumerate(batch):
            if i or self.fetched:
                self.c.sleep(delay)
            yield self.fetch(url)

    # -- results -------------------------------------------------------------------------------
    def handle(self, f: Fetched, depth: int) -> Iterator[Item]:
        seed = f.url in self.seeds
        if f.error is not None:
            self.on_error(f, seed)
        elif f.status in (404, 410):
            if seed:
                raise SourceError(self.name, f"start URL {f.url} answered HTTP {f.status}", "fix `url` in guild.toml")
            if f.url in self.old:
                self.gone.append(self.old[f.url]["id"])
        elif seed and origin(f.final) not in self.origins:
            self.origins.add(origin(f.final))  # e.g. http:// redirected to https://
            yield from self.on_page(f, depth)
        elif origin(f.final) not in self.origins:
            self.skipped[f.url] = f"redirects off-site to {f.final}"
        elif f.status == 304:
            yield from self.on_not_modified(f, depth)
        else:
            yield from self.on_page(f, depth)

    def on_error(self, f: Fetched, seed: bool) -> None:
        if isinstance(f.error, ResponseTooLarge):
            self.skipped[f.url] = f.error.cause
            log.warning("source %r: skipped %s (%s)", self.name, f.error.cause, f.error.fix)
        elif seed:
            raise f.error
        else:
            self.failed.append(f.error.cause)
            if f.url in self.old:
                self.pages[f.url] = self.old[f.url]  # keep its validators and links for next time
                self.hashes.add(self.old[f.url].get("hash", ""))  # its copies stay duplicates

    def on_not_modified(self, f: Fetched, depth: int) -> Iterator[Item]:
        prev = self.old.get(f.url)
        if not prev:
            self.failed.append(f"{f.url}: HTTP 304 to an unconditional request")
            return
        self.pages[f.url] = prev
        self.follow(prev.get("links", []), depth)
        if prev["id"] not in self.alive:
            self.alive.add(prev["id"])
            self.hashes.add(prev.get("hash", ""))
            yield Unchanged(prev["id"])

    def on_page(self, f: Fetched, depth: int) -> Iterator[Item]:
        self.visited.add(f.final)
        ctype = f.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype and ctype not in HTML_TYPES:
            self.skipped[f.url] = f"not HTML ({ctype})"
            return
        page = parse_page(decode_html(f.body, f.headers.get("content-type", "")), f.final)
        if origin(page.canonical) not in self.origins:
            page.canonical = f.final
        self.follow(page.links, depth)
        doc = self.document(f, page)
        if doc is None:
            return
        h = text_hash(page.text)
        self.pages[f.url] = {"id": doc.id, "etag": f.headers.get("etag"), "modified": f.headers.get("last-modified"),
                             "hash": h, "links": page.links}
        self.alive.add(doc.id)
        self.hashes.add(h)
        yield doc

    def document(self, f: Fetched, page: Page) -> Document | None:
        """The page's Document, or None when it must not be indexed (noindex, duplicate, empty, excluded)."""
        doc_id = make_id(self.name, page.canonical)
        reason = ("noindex" if page.noindex else
                  "excluded by include/exclude" if not self.c.wanted(page.canonical) else
                  "empty page" if not page.text.strip() else
                  f"duplicate of {page.canonical}" if doc_id in self.alive else
                  "same text as another page" if text_hash(page.text) in self.hashes else "")
        if reason:
            self.skipped[f.url] = reason
            return None
        when = _http_date(f.headers.get("last-modified"))
        path = urlsplit(page.canonical).path or "/"
        meta = {"fetched_url": f.url} if f.url != page.canonical else {}
        return Document(id=doc_id, source=self.name, team=self.c.ctx.team, kind="web_page",
                        title=page.title or path, text=page.text, url=page.canonical, path=path, updated_at=when,
                        contributors=authors(page.author, when), metadata=meta)

    def follow(self, links: list[str], depth: int) -> None:
        if depth < self.c.max_depth:
            for link in links:
                self.enqueue(link, depth + 1)

    # -- the run -------------------------------------------------------------------------------
    def sitemap_urls(self) -> list[str]:
        """Every page URL of the sitemap, following sitemap index files."""
        todo, seen, out = [self.sitemap], set(), []
        while todo and len(seen) < MAX_SITEMAPS:
            url = todo.pop(0)
            if url in seen:
                continue
            seen.add(url)
            r = self.c.client().get(url)
            try:
                pages, children = parse_sitemap(r.content)
            except (ValueError, OSError, EOFError) as e:
                raise SourceError(self.name, f"sitemap {url} is malformed: {e}", "fix the sitemap or `sitemap` in guild.toml")
            out += [u for u in (normalize_url(p) for p in pages) if u]
            todo += [u for u in (normalize_url(c, url) for c in children) if u]
        return out

    def state(self, final: bool) -> dict[str, Any]:
        pages = dict(self.pages) if final and self.complete else {**self.old, **self.pages}
        return {"v": STATE_VERSION, **pack_pages(pages), "skipped": dict(list(self.skipped.items())[:200])}

    @property
    def complete(self) -> bool:
        return not self.truncated and not self.failed and not self.queue

    def run(self) -> Iterator[Item]:
        for url in self.seeds:
            self.enqueue(url, 0)
        if self.sitemap:
            for url in self.sitemap_urls():
                self.enqueue(url, 0)
        since_checkpoint = 0
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix=f"web-{self.name}") as pool:
            while batch := self.next_batch():
                depths = dict(batch)
                for f in self.fetch_all(pool, batch):
                    self.fetched += 1
                    since_checkpoint += 1
                    yield from self.handle(f, depths[f.url])
                if since_checkpoint >= CHECKPOINT_EVERY:
                    since_checkpoint = 0
                    yield Checkpoint(self.state(final=False))
        yield from self.finish()

    def finish(self) -> Iterator[Item]:
        deleted = {i for i in self.gone if i not in self.alive}
        if self.complete:
            deleted |= {p["id"] for p in self.old.values() if p["id"] not in self.alive}
        for doc_id in sorted(deleted):
            yield Deleted(doc_id)
        yield Checkpoint(self.state(final=True), full_sweep=self.complete)
        if self.truncated:
            log.warning("%s: stopped at max_pages = %d; pages beyond it were not crawled", self.name, self.c.max_pages)
        if self.failed:
            shown = "; ".join(self.failed[:5]) + (f"; and {len(self.failed) - 5} more" if len(self.failed) > 5 else "")
            raise SourceError(self.name, f"{len(self.failed)} of {self.fetched} pages could not be fetched: {shown}",
                              "the other pages were indexed; check the server, then crawl again")
