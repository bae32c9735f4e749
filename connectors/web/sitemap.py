"""Sitemaps: the page and child-sitemap URLs of a sitemap or sitemap index, gzipped or not."""
from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET

MAX_PAGE_BYTES = 5_000_000  # a page's size cap (the crawler's HTTP client); a sitemap may unzip to ten times it


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_sitemap(data: bytes) -> tuple[list[str], list[str]]:
    """(page URLs, child sitemap URLs) of a sitemap or sitemap index. Raises ValueError if malformed."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)[:MAX_PAGE_BYTES * 10]
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise ValueError(f"not valid XML ({e})")
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise ValueError(f"root element is <{kind}>, not <urlset> or <sitemapindex>")
    locs = [(sub.text or "").strip() for entry in root for sub in entry if _local(sub.tag) == "loc"]
    locs = [x for x in locs if x]
    return (locs, []) if kind == "urlset" else ([], locs)
