"""A real HTTP server on loopback serving a small generated documentation site.

Every page carries navigation, header and footer boilerplate; the site has a robots.txt that
disallows /private/, a sitemap index, a canonical link, a duplicate page, a page with invalid
UTF-8, malformed HTML, a non-HTML download and a 50 MB page generated while it is sent (never
stored). Pages answer conditional requests (ETag / Last-Modified -> 304). Failure modes
(401, 429 with Retry-After, 500) can be switched on, for the whole site or for one path.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from support.loopback import LoopbackServer

BIG_PATH = "/big.html"
BIG_BYTES = 50 * 1024 * 1024
FOOTER = "Copyright Northwind boilerplate footer. Privacy policy. Cookie settings."
NAV = ('<nav><a href="/">Home</a> <a href="/drift.html">Drift</a> <a href="/features.html">Features</a> '
       '<a href="/guide/">Guide</a> Navigation boilerplate menu</nav>')


def layout(title: str, body: str, author: str = "", canonical: str = "", extra_head: str = "") -> str:
    head = f"<title>{title}</title>"
    if author:
        head += f'<meta name="author" content="{author}">'
    if canonical:
        head += f'<link rel="canonical" href="{canonical}">'
    return (f"<!doctype html><html><head><meta charset=\"utf-8\">{head}{extra_head}</head><body>"
            f"<header>Northwind docs header banner</header>{NAV}<main>{body}</main>"
            f"<footer>{FOOTER}</footer></body></html>")


@dataclass
class Resource:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    mtime: float = 1_700_000_000.0
    validators: bool = True

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


def default_pages() -> dict[str, Resource]:
    html = lambda s: Resource(s.encode("utf-8"))  # noqa: E731
    pages = {
        "/": html(layout("Northwind ML docs", """
            <h1>Northwind ML docs</h1><p>Welcome to the machine learning guild documentation.</p>
            <ul><li><a href="/drift.html">Drift monitoring</a></li><li><a href="/features.html">Feature store</a></li>
            <li><a href="/onboarding.html">Onboarding</a></li><li><a href="/guide/">Guide</a></li>
            <li><a href="/guide/recsys.html?ref=home#top">Recommenders</a></li><li><a href="/dup.html">Copy</a></li>
            <li><a href="/bad-utf8.html">Quantiles</a></li><li><a href="/malformed.html">Legacy</a></li>
            <li><a href="/big.html">Huge export</a></li><li><a href="/export">CSV export</a></li>
            <li><a href="/slides.pdf">Slides</a></li><li><a href="/private/secret.html">Secret</a></li>
            <li><a href="http://example.invalid/elsewhere.html">Elsewhere</a></li>
            <li><a href="mailto:ml@northwind.test">Mail us</a></li></ul>""")),
        "/drift.html": html(layout("Drift monitoring", """
            <h1>Drift monitoring</h1><p>We detect feature drift with Kolmogorov-Smirnov tests on hourly windows
            and alert the owning team when the p-value falls below the threshold.</p>""",
            author="Ada Lovelace <ada@northwind.test>")),
        "/features.html": html(layout("Feature store", """
            <h1>Feature store</h1><p>The feature store serves point-in-time correct features to training
            and online inference, backed by Redis and Parquet snapshots.</p>""", author="Grace Hopper")),
        "/dup.html": html(layout("Feature store", """
            <h1>Feature store</h1><p>The feature store serves point-in-time correct features to training
            and online inference, backed by Redis and Parquet snapshots.</p>""")),
        "/onboarding.html": html(layout("Onboarding", """
            <h1>Onboarding</h1><p>New joiners request GPU quota and set up their laptop with the
            conda environment on day one.</p>""")),
        "/guide/": html(layout("Guide", """<h1>Guide</h1><p>The modelling guide covers recommender systems.</p>
            <a href="recsys.html">Recommender systems</a>""")),
        "/guide/recsys.html": html(layout("Recommender systems", """
            <h1>Recommender systems</h1><p>Two-tower retrieval models with approximate nearest neighbour
            search rank candidates for the home feed.</p><a href="deep/">Deeper</a>""",
            canonical="/guide/recsys.html")),
        "/guide/deep/": html(layout("Deep dive", """<h1>Deep dive</h1><p>Negative sampling strategies
            for contrastive training.</p><a href="deeper.html">Deeper still</a>""")),
        "/guide/deep/deeper.html": html(layout("Deeper still", "<h1>Deeper still</h1><p>Too deep to crawl.</p>")),
        "/bad-utf8.html": Resource(layout("Quantile regression", "<h1>Quantile regression</h1><p>Pinball loss "
                                          "for quantile regression forecasts BROKEN tail.</p>").encode("utf-8")
                                   .replace(b"BROKEN", b"\xff\xfe\xc3\x28")),
        "/malformed.html": Resource(b"<html><head><title>Legacy batch scoring</title><body><div><p>Legacy batch "
                                    b"scoring runs nightly on Spark <b>with unclosed tags<table><tr><td>cell"
                                    b"</div></span></i><p>Scores land in Hive</body>"),
        "/export": Resource(b"id,score\n1,0.5\n", "text/csv"),
        "/slides.pdf": Resource(b"%PDF-1.4 not really", "application/pdf"),
        "/private/secret.html": html(layout("Secret", "<h1>Secret</h1><p>Robots must not read this.</p>")),
        "/orphan.html": html(layout("Labelling guidelines", """<h1>Labelling guidelines</h1><p>Annotators
            label intent with two independent passes and adjudication.</p>""")),
        "/robots.txt": Resource(b"User-agent: *\nDisallow: /private/\n", "text/plain"),
    }
    return pages


class Site:
    """The site's content and switches, shared with the handler threads."""

    def __init__(self) -> None:
        self.pages = default_pages()
        self.sitemap_pages = ["/orphan.html", "/drift.html"]
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, int]] = []  # (method, path with query, status)
        self.mode = ""  # "", "401", "429", "500"
        self.mode_paths: set[str] = set()  # empty: the mode applies to every path
        self.mode_left = -1  # requests the mode still applies to; -1 = forever
        self.retry_after = "1"
        self.etags = True  # False: only Last-Modified, so conditional requests use If-Modified-Since
        self.base = ""

    # -- content edits used by tests -----------------------------------------------------------
    def put(self, path: str, title: str, body: str, **kw) -> None:
        with self.lock:
            self.pages[path] = Resource(layout(title, body, **kw).encode("utf-8"), mtime=time.time())

    def remove(self, path: str) -> None:
        with self.lock:
            del self.pages[path]

    def set_mode(self, mode: str, paths: set[str] | None = None, count: int = -1) -> None:
        with self.lock:
            self.mode, self.mode_paths, self.mode_left = mode, set(paths or ()), count

    def served(self, path: str, status: int | None = None) -> int:
        return sum(1 for _, p, s in self.requests if urlsplit(p).path == path and (status is None or s == status))

    def sitemaps(self) -> dict[str, bytes]:
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        index = (f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {ns}><sitemap><loc>{self.base}/sitemap-pages.xml'
                 f"</loc></sitemap></sitemapindex>")
        urls = "".join(f"<url><loc>{self.base}{p}</loc></url>" for p in self.sitemap_pages)
        pages = f'<?xml version="1.0" encoding="UTF-8"?><urlset {ns}>{urls}</urlset>'
        return {"/sitemap.xml": index.encode(), "/sitemap-pages.xml": pages.encode()}

    def failure(self, path: str) -> int:
        """The status the current mode imposes on this path, or 0."""
        with self.lock:
            if not self.mode or (self.mode_paths and path not in self.mode_paths) or self.mode_left == 0:
                return 0
            if self.mode_left > 0:
                self.mode_left -= 1
            return int(self.mode)


class Handler(BaseHTTPRequestHandler):
    site: Site
    server_version = "FakeSite/1.0"

    def log_message(self, format: str, *args) -> None:  # quiet
        pass

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.site.requests.append((self.command, self.path, status))  # before answering: no race with tests
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 304:
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        status = self.site.failure(path)
        if status == 429:
            return self.send(429, b"slow down", {"Retry-After": self.site.retry_after})
        if status:
            return self.send(status, b"nope", {"Content-Type": "text/plain"})
        if path == BIG_PATH:
            return self.send_big()
        sitemaps = self.site.sitemaps()
        if path in sitemaps:
            return self.send(200, sitemaps[path], {"Content-Type": "application/xml"})
        with self.site.lock:
            res = self.site.pages.get(path)
        if res is None:
            return self.send(404, b"not found", {"Content-Type": "text/html"})
        self.send_resource(res)

    def send_resource(self, res: Resource) -> None:
        headers = {"Content-Type": res.content_type}
        if res.validators:
            headers["Last-Modified"] = formatdate(res.mtime, usegmt=True)
            if self.site.etags:
                headers["ETag"] = res.etag
            if self.not_modified(res):
                return self.send(304)
        self.send(200, res.body, headers)

    def not_modified(self, res: Resource) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None and self.site.etags:
            return res.etag in [t.strip() for t in inm.split(",")]
        ims = self.headers.get("If-Modified-Since")
        try:
            return bool(ims) and int(res.mtime) <= parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False

    def send_big(self) -> None:
        """50 MB of HTML made while sending, without Content-Length (the connection close ends it)."""
        self.site.requests.append(("GET", self.path, 200))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"<p>" + b"huge export row " * 4096 + b"</p>\n"
        sent = 0
        try:
            self.wfile.write(b"<html><head><title>Huge</title></head><body>")
            while sent < BIG_BYTES:
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler stopped reading at its size cap
        self.close_connection = True


class SiteServer(LoopbackServer):
    """The fake site on 127.0.0.1 at a free port, served from a background thread."""

    def __init__(self, site: Site | None = None):
        self.site = site or Site()
        super().__init__(type("BoundHandler", (Handler,), {"site": self.site}), name="fake-site")
        self.site.base = self.url
