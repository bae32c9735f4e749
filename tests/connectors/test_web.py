"""The web connector against a real HTTP server serving a generated site (tests/support/fake_website.py)."""
from __future__ import annotations

import gzip
import logging
import re
from pathlib import Path

import pytest

from conftest import write_config
from connectors.base import Checkpoint, Deleted, Document, SourceContext, SourceError, Unchanged
from connectors.web import WebConnector, normalize_url, pack_pages, parse_sitemap, unpack_pages
from support.guilds import hit_urls, open_guild, shared_embedder  # noqa: F401 - shared_embedder is a fixture
from support.fake_website import FOOTER, SiteServer

INDEXED = {"/", "/orphan.html", "/drift.html", "/features.html", "/onboarding.html", "/guide/", "/guide/recsys.html",
           "/guide/deep/", "/bad-utf8.html", "/malformed.html"}


@pytest.fixture
def site():
    with SiteServer() as server:
        yield server


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Every wait the connector's HTTP client makes, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(WebConnector, "sleep", staticmethod(waits.append))
    return waits


def connector(tmp_path: Path, **options) -> WebConnector:
    return WebConnector(options, SourceContext("docs", "ML", tmp_path / "work", tmp_path))


def crawl(conn: WebConnector, state: dict | None = None) -> tuple[list, Checkpoint]:
    items = list(conn.crawl(state))
    assert isinstance(items[-1], Checkpoint)
    return items, items[-1]


def docs_by_path(items: list) -> dict[str, Document]:
    return {i.path: i for i in items if isinstance(i, Document)}


def site_options(site: SiteServer, **extra) -> dict:
    return {"url": site.url + "/", "sitemap": site.url + "/sitemap.xml", "max_depth": 2, **extra}


# -- one crawl -------------------------------------------------------------------------------------
def test_first_crawl_indexes_every_reachable_page_without_boilerplate(site, tmp_path, sleeps):
    items, cp = crawl(connector(tmp_path, **site_options(site)))
    docs = docs_by_path(items)
    assert set(docs) == INDEXED
    assert cp.full_sweep
    for doc in docs.values():
        assert doc.kind == "web_page" and doc.id == f"docs:{doc.url}" and doc.url == site.url + doc.path
        assert "boilerplate" not in doc.text and "Navigation" not in doc.text and "header banner" not in doc.text
        assert FOOTER not in doc.text
    assert docs["/drift.html"].title == "Drift monitoring"
    assert "Kolmogorov-Smirnov" in docs["/drift.html"].text
    assert docs["/malformed.html"].title == "Legacy batch scoring"
    assert docs["/orphan.html"].title == "Labelling guidelines"  # only reachable through the sitemap index
    assert sleeps == []


def test_robots_txt_disallowed_pages_are_never_requested(site, tmp_path, sleeps):
    _, cp = crawl(connector(tmp_path, **site_options(site)))
    assert site.site.served("/robots.txt") == 1
    assert site.site.served("/private/secret.html") == 0
    assert cp.state["skipped"][site.url + "/private/secret.html"] == "disallowed by robots.txt"


def test_canonical_url_wins_and_duplicate_text_is_skipped(site, tmp_path, sleeps):
    items, _ = crawl(connector(tmp_path, **site_options(site)))
    urls = [i.url for i in items if isinstance(i, Document)]
    assert urls.count(site.url + "/guide/recsys.html") == 1
    assert not any("?" in u or "#" in u for u in urls)
    assert site.site.served("/guide/recsys.html") >= 1  # fetched as /guide/recsys.html?ref=home
    assert site.site.served("/dup.html") == 1 and site.url + "/dup.html" not in urls
    recsys = docs_by_path(items)["/guide/recsys.html"]
    assert recsys.metadata["fetched_url"] == site.url + "/guide/recsys.html?ref=home"


def test_meta_author_becomes_the_author(site, tmp_path, sleeps):
    docs = docs_by_path(crawl(connector(tmp_path, **site_options(site)))[0])
    (ada,) = docs["/drift.html"].contributors
    assert (ada.name, ada.email, ada.role) == ("Ada Lovelace", "ada@northwind.test", "author")
    assert ada.last_at is not None and ada.last_at.year == 2023  # from Last-Modified
    assert [c.name for c in docs["/features.html"].contributors] == ["Grace Hopper"]
    assert docs["/onboarding.html"].contributors == []


def test_invalid_utf8_and_malformed_html_are_indexed(site, tmp_path, sleeps):
    docs = docs_by_path(crawl(connector(tmp_path, **site_options(site)))[0])
    bad = docs["/bad-utf8.html"].text
    assert "Pinball loss for quantile regression forecasts" in bad and "\ufffd" in bad and bad.endswith("tail.")
    legacy = docs["/malformed.html"].text
    assert "Legacy batch scoring runs nightly on Spark" in legacy and "Scores land in Hive" in legacy
    assert re.search(r"unclosed tags\s+cell", legacy)  # words on either side of a tag stay apart


def test_fifty_megabyte_page_is_skipped_with_a_clear_warning(site, tmp_path, sleeps, caplog):
    caplog.set_level(logging.WARNING, logger="guildbot.connectors.web")
    items, cp = crawl(connector(tmp_path, **site_options(site)))
    assert site.site.served("/big.html") == 1
    assert "/big.html" not in docs_by_path(items)
    assert cp.full_sweep  # a skipped page does not make the crawl incomplete
    assert "big.html is over the 5 MB limit" in caplog.text and "exclude the page" in caplog.text
    assert "over the 5 MB limit" in cp.state["skipped"][site.url + "/big.html"]


def test_non_html_is_skipped_and_download_links_are_not_fetched(site, tmp_path, sleeps):
    items, cp = crawl(connector(tmp_path, **site_options(site)))
    assert site.site.served("/export") == 1 and "/export" not in docs_by_path(items)
    assert cp.state["skipped"][site.url + "/export"] == "not HTML (text/csv)"
    assert site.site.served("/slides.pdf") == 0


def test_max_depth_limits_link_following(site, tmp_path, sleeps):
    crawl(connector(tmp_path, **site_options(site, max_depth=2)))
    assert site.site.served("/guide/deep/") == 1 and site.site.served("/guide/deep/deeper.html") == 0
    crawl(connector(tmp_path, **site_options(site, max_depth=3)))
    assert site.site.served("/guide/deep/deeper.html") == 1


def test_max_pages_stops_the_crawl_without_a_full_sweep(site, tmp_path, sleeps):
    items, cp = crawl(connector(tmp_path, url=site.url + "/", max_pages=3))
    pages = [p for _, p, _ in site.site.requests if p not in ("/robots.txt",)]
    assert len(pages) == 3 and len(docs_by_path(items)) <= 3
    assert not cp.full_sweep
    assert not any(isinstance(i, Deleted) for i in items)


def test_sitemap_alone_with_depth_zero_crawls_only_its_pages(site, tmp_path, sleeps):
    items, _ = crawl(connector(tmp_path, sitemap=site.url + "/sitemap.xml", max_depth=0))
    assert set(docs_by_path(items)) == {"/orphan.html", "/drift.html"}


def test_include_and_exclude_prefixes(site, tmp_path, sleeps):
    items, _ = crawl(connector(tmp_path, url=site.url + "/", include=["/guide/"], exclude="/guide/deep/", max_depth=5))
    assert set(docs_by_path(items)) == {"/guide/", "/guide/recsys.html"}
    assert site.site.served("/") == 1  # the start page is read for its links, not indexed
    assert site.site.served("/drift.html") == 0 and site.site.served("/guide/deep/") == 0


def test_crawl_delay_in_robots_txt_makes_the_crawl_sequential_and_slow(site, tmp_path, sleeps):
    site.site.pages["/robots.txt"].body = b"User-agent: guildbot\nCrawl-delay: 2\nDisallow: /private/\n"
    crawl(connector(tmp_path, url=site.url + "/drift.html", max_depth=1))
    fetched = [p for _, p, _ in site.site.requests if p != "/robots.txt"]
    assert len(fetched) >= 3 and sleeps == [2.0] * (len(fetched) - 1)


# -- incremental crawls ---------------------------------------------------------------------------
def test_recrawl_sends_conditional_requests_and_yields_unchanged(site, tmp_path, sleeps):
    conn = connector(tmp_path, **site_options(site))
    _, cp = crawl(conn)
    site.site.requests.clear()
    items, cp2 = crawl(conn, cp.state)
    assert not [i for i in items if isinstance(i, Document)]
    assert {i.id for i in items if isinstance(i, Unchanged)} == {f"docs:{site.url}{p}" for p in INDEXED}
    assert site.site.served("/drift.html", 304) == 1 and site.site.served("/drift.html", 200) == 0
    assert cp2.full_sweep


def test_last_modified_alone_gives_if_modified_since(site, tmp_path, sleeps):
    site.site.etags = False
    conn = connector(tmp_path, url=site.url + "/drift.html", max_depth=0)
    _, cp = crawl(conn)
    assert cp.state["pages"][site.url + "/drift.html"]["etag"] is None
    items, _ = crawl(conn, cp.state)
    assert site.site.served("/drift.html", 304) == 1
    assert [type(i) for i in items] == [Unchanged, Checkpoint]


def test_page_no_longer_linked_is_deleted_after_a_complete_crawl(site, tmp_path, sleeps):
    conn = connector(tmp_path, url=site.url + "/guide/", max_depth=3)
    _, cp = crawl(conn)
    assert site.url + "/guide/deep/" in cp.state["pages"]
    site.site.put("/guide/recsys.html", "Recommender systems", "<h1>Recommender systems</h1><p>No more links.</p>",
                  canonical="/guide/recsys.html")
    items, cp2 = crawl(conn, cp.state)
    assert Deleted(f"docs:{site.url}/guide/deep/") in items
    assert site.site.served("/guide/deep/", 200) == 1  # still served, just no longer linked
    assert cp2.full_sweep


def test_gone_page_is_deleted_even_when_the_crawl_is_incomplete(site, tmp_path, sleeps):
    conn = connector(tmp_path, url=site.url + "/", max_depth=1, max_pages=5)
    _, cp = crawl(conn)
    assert site.url + "/drift.html" in cp.state["pages"] and not cp.full_sweep
    site.site.remove("/drift.html")
    items, cp2 = crawl(conn, cp.state)
    assert Deleted(f"docs:{site.url}/drift.html") in items and not cp2.full_sweep


# -- configuration and fatal errors ---------------------------------------------------------------
def test_missing_start_url_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="no start URL.*set `url`, `urls` or `sitemap`"):
        list(connector(tmp_path).crawl(None))
    with pytest.raises(SourceError, match="not an http"):
        list(connector(tmp_path, url="ftp://x.example/").crawl(None))


def test_start_url_404_is_an_error(site, tmp_path, sleeps):
    with pytest.raises(SourceError, match=r"start URL .*/missing\.html answered HTTP 404"):
        crawl(connector(tmp_path, url=site.url + "/missing.html"))


def test_start_url_disallowed_by_robots_is_an_error(site, tmp_path, sleeps):
    with pytest.raises(SourceError, match="robots.txt .* disallows the start URL"):
        crawl(connector(tmp_path, url=site.url + "/private/secret.html"))


def test_malformed_sitemap_is_an_error(site, tmp_path, sleeps):
    with pytest.raises(SourceError, match=r"sitemap .*/drift\.html is malformed"):
        crawl(connector(tmp_path, sitemap=site.url + "/drift.html"))


# -- pure helpers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("href, base, expected", [
    ("HTTP://Docs.Example:80/a/./b/../c.html#frag", None, "http://docs.example/a/c.html"),
    ("https://docs.example:443", None, "https://docs.example/"),
    ("../x.html?utm_source=mail&id=3", "https://docs.example/a/b/", "https://docs.example/a/x.html?id=3"),
    ("page two.html", "https://docs.example/dir/", "https://docs.example/dir/page%20two.html"),
    ("https://user:pw@docs.example:8443/p", None, "https://docs.example:8443/p"),
    ("mailto:a@b.c", None, None),
    ("javascript:void(0)", "https://docs.example/", None),
])
def test_normalize_url(href, base, expected):
    assert normalize_url(href, base) == expected


def test_state_stores_each_link_once():
    pages = {"https://d.example/a": {"id": "s:a", "etag": '"1"', "links": ["https://d.example/b", "https://d.example/c"]},
             "https://d.example/b": {"id": "s:b", "etag": None, "links": ["https://d.example/c", "https://d.example/a"]}}
    packed = pack_pages(pages)
    assert packed["links"] == ["https://d.example/b", "https://d.example/c", "https://d.example/a"]
    assert packed["pages"]["https://d.example/b"]["links"] == [1, 2]
    assert unpack_pages(packed) == pages


def test_parse_sitemap_urlset_index_and_gzip():
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    urlset = f"<urlset {ns}><url><loc> https://d.example/a </loc><lastmod>2024-01-01</lastmod></url></urlset>".encode()
    index = f"<sitemapindex {ns}><sitemap><loc>https://d.example/s1.xml</loc></sitemap></sitemapindex>".encode()
    assert parse_sitemap(urlset) == (["https://d.example/a"], [])
    assert parse_sitemap(gzip.compress(index)) == ([], ["https://d.example/s1.xml"])
    with pytest.raises(ValueError, match="not valid XML"):
        parse_sitemap(b"<urlset><url>")
    with pytest.raises(ValueError, match="<html>"):
        parse_sitemap(b"<html></html>")


# -- through the Guild: re-crawl and errors ---------------------------------------------------------
@pytest.fixture
def web_guild(site, tmp_path, shared_embedder, sleeps):
    config = write_config(tmp_path, [dict(kind="web", name="docs", team="ML", url=site.url + "/",
                                          sitemap=site.url + "/sitemap.xml", max_depth=2)])
    guild = open_guild(config, shared_embedder)
    yield guild
    guild.close()


def test_edit_add_delete_then_recrawl_reprocesses_exactly_those_three(site, web_guild):
    first = web_guild.crawl().sources[0]
    assert first.ok and first.added == len(INDEXED) and first.deleted == 0
    assert hit_urls(web_guild, "GPU quota laptop conda environment", 1) == [site.url + "/onboarding.html"]

    site.site.put("/drift.html", "Drift monitoring", "<h1>Drift monitoring</h1><p>Drift is now measured with the "
                  "population stability index per feature, computed daily.</p>", author="Ada Lovelace")
    site.site.put("/new.html", "Model cards", "<h1>Model cards</h1><p>Every production model ships a model card "
                  "describing intended use, evaluation data and fairness caveats.</p>")
    site.site.sitemap_pages.append("/new.html")
    site.site.remove("/onboarding.html")
    site.site.requests.clear()

    again = web_guild.crawl().sources[0]
    base = f"docs:{site.url}"
    assert again.ok, again.error
    assert sorted(again.reprocessed) == sorted([base + "/drift.html", base + "/new.html", base + "/onboarding.html"])
    assert (again.added, again.changed, again.deleted) == (1, 1, 1)
    assert again.unchanged == len(INDEXED) - 2
    assert site.site.served("/features.html", 304) == 1  # untouched pages were not downloaded again

    assert hit_urls(web_guild, "population stability index", 1) == [site.url + "/drift.html"]
    assert hit_urls(web_guild, "model card intended use fairness", 1) == [site.url + "/new.html"]
    assert site.url + "/onboarding.html" not in hit_urls(web_guild, "GPU quota laptop conda environment", 10)
    assert web_guild.sources()[0]["documents"] == len(INDEXED)
    assert web_guild.sources()[0]["last_error"] is None


@pytest.mark.parametrize("mode, message", [
    ("401", "HTTP 401 from .*: access denied"),
    ("500", r"HTTP 500 \(after 4 attempts\)"),
    ("429", r"HTTP 429 \(after 4 attempts\) — the server is rate limiting"),
])
def test_server_errors_land_in_the_report_and_keep_documents(site, web_guild, sleeps, mode, message):
    assert web_guild.crawl().sources[0].ok
    site.site.retry_after = "7"
    site.site.set_mode(mode)
    report = web_guild.crawl().sources[0]
    assert report.error.startswith("source 'docs': ")
    assert re.search(message, report.error), report.error
    assert web_guild.sources()[0]["last_error"] == report.error
    assert web_guild.sources()[0]["documents"] == len(INDEXED)
    assert hit_urls(web_guild, "Kolmogorov-Smirnov drift", 1) == [site.url + "/drift.html"]
    if mode == "429":
        assert sleeps == [7.0, 7.0, 7.0]  # Retry-After, not the client's own backoff
    if mode == "500":
        assert sleeps == [0.5, 1.0, 2.0]


def test_rate_limit_is_waited_out_via_retry_after(site, web_guild, sleeps):
    site.site.retry_after = "3"
    site.site.set_mode("429", count=2)
    report = web_guild.crawl().sources[0]
    assert report.ok, report.error
    assert sleeps == [3.0, 3.0] and report.added == len(INDEXED)


def test_one_failing_page_is_reported_and_its_document_kept(site, web_guild, sleeps):
    assert web_guild.crawl().sources[0].ok
    site.site.set_mode("500", paths={"/features.html"})
    report = web_guild.crawl().sources[0]
    assert "1 of" in report.error and "/features.html: HTTP 500" in report.error
    assert "the other pages were indexed" in report.error
    assert (report.added, report.changed, report.deleted, report.unchanged) == (0, 0, 0, len(INDEXED) - 1)
    assert report.reprocessed == []  # /dup.html, a copy of the failing page, is still a duplicate
    assert web_guild.sources()[0]["last_error"] == report.error
    assert hit_urls(web_guild, "feature store point-in-time Redis Parquet", 1) == [site.url + "/features.html"]

    site.site.set_mode("")
    healed = web_guild.crawl().sources[0]
    assert healed.ok and healed.reprocessed == [] and web_guild.sources()[0]["last_error"] is None


def test_unreachable_server_is_reported(tmp_path, shared_embedder, sleeps):
    config = write_config(tmp_path, [dict(kind="web", name="docs", team="ML", url="http://127.0.0.1:9/")])
    guild = open_guild(config, shared_embedder)
    try:
        report = guild.crawl().sources[0]
        assert "cannot connect (connection refused)" in report.error
        assert guild.sources()[0]["last_error"] == report.error
    finally:
        guild.close()


def test_page_encodings_by_bom_header_meta_then_detection():
    from connectors.web import decode_html

    assert decode_html("<p>café</p>".encode("utf-8-sig"), "text/html; charset=iso-8859-1") == "<p>café</p>"  # BOM wins
    assert decode_html("<p>café</p>".encode("cp1252"), 'text/html; charset="windows-1252"') == "<p>café</p>"
    meta = "<meta charset='iso-8859-1'><p>café</p>"
    assert decode_html(meta.encode("latin-1"), "text/html") == meta
    assert decode_html("<p>Привет</p>".encode("koi8-r"), "text/html; charset=koi8-r") == "<p>Привет</p>"
    assert decode_html(b"<p>caf\xe9</p>", "text/html; charset=utf-8") == "<p>caf\ufffd</p>"  # declared: trusted
    assert decode_html("<p>café</p>".encode(), "text/html; charset=no-such-codec") == "<p>café</p>"
    assert "caf" in decode_html(b"<p>caf\xe9 au lait</p>", "text/html")  # undeclared, not UTF-8: a guess, no error
