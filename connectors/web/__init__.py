"""The web source kind: a same-origin crawl of a website from start URLs and/or a sitemap."""
from __future__ import annotations

from connectors.web.crawler import WebConnector, decode_html, normalize_url, pack_pages, parse_sitemap, unpack_pages

__all__ = ["WebConnector", "decode_html", "normalize_url", "pack_pages", "parse_sitemap", "unpack_pages"]
