"""The web source kind: a same-origin crawl of a website from start URLs and/or a sitemap."""
from __future__ import annotations

from connectors.web.crawler import Fetched, Page, WebConnector, authors, decode_html, pack_pages, parse_page, unpack_pages
from connectors.web.sitemap import parse_sitemap
from connectors.web.urls import normalize_url, origin

__all__ = ["Fetched", "Page", "WebConnector", "authors", "decode_html", "normalize_url", "origin", "pack_pages",
           "parse_page", "parse_sitemap", "unpack_pages"]
