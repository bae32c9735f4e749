"""Crawl URLs: normalised absolute http(s) URLs, their origins, and include/exclude path prefixes."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from requests.utils import requote_uri

TRACKING_PARAMS = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|mc_cid|mc_eid)$", re.IGNORECASE)


def normalize_url(href: str, base: str | None = None) -> str | None:
    """An absolute http(s) URL without fragment, credentials, default port, dot segments or
    tracking parameters, with lower-case scheme and host; None for anything else."""
    try:
        parts = urlsplit(urljoin(base, href.strip()) if base else href.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = "&".join(p for p in parts.query.split("&") if p and not TRACKING_PARAMS.match(p.split("=", 1)[0]))
    return requote_uri(urlunsplit((scheme, netloc, _remove_dot_segments(parts.path), query, "")))


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    segments = path.split("/")[1:] if path.startswith("/") else path.split("/")
    for seg in segments:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    result = "/" + "/".join(out)
    if path.endswith(("/.", "/..")) and not result.endswith("/"):
        result += "/"
    return result


def origin(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def _prefixes(value: Any) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return ["/" + str(v).lstrip("/") for v in items if str(v).strip()]
