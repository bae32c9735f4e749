"""HTTP for the web-facing connectors: retries with backoff, Retry-After, size caps, clear errors.

Every failure becomes a SourceError that names the source, the URL, the cause and the fix, so
the crawl report and `guildbot sources` can show it as is.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests

from .base import SourceError

USER_AGENT = "guildbot/0.1 (+https://github.com/guildbot; internal knowledge crawler)"
MAX_BYTES = 20_000_000  # a response larger than this is refused, not loaded
RETRY_STATUSES = {429, 500, 502, 503, 504}


class ResponseTooLarge(SourceError):
    """A response over the size cap: callers may skip that one URL and go on."""


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self, source: str) -> Any:
        try:
            return json.loads(self.content.decode("utf-8", errors="replace"))
        except ValueError as e:
            raise SourceError(source, f"malformed JSON from {self.url} ({e})",
                              "check that the URL points at the API endpoint, not a login or error page")


class HttpClient:
    """A polite requests session for one source."""

    def __init__(self, source: str, *, timeout: float = 20.0, retries: int = 3, backoff: float = 0.5,
                 max_bytes: int = MAX_BYTES, max_retry_after: float = 60.0, headers: dict[str, str] | None = None,
                 auth: Any = None, sleep: Callable[[float], None] = time.sleep):
        self.source, self.timeout, self.retries, self.backoff = source, timeout, retries, backoff
        self.max_bytes, self.max_retry_after, self.sleep = max_bytes, max_retry_after, sleep
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        self.session.auth = auth

    def get(self, url: str, *, params: dict | None = None, headers: dict[str, str] | None = None,
            ok: tuple[int, ...] = (200,), method: str = "GET", data: Any = None) -> Response:
        """Fetch with retries. Statuses in `ok` are returned; others raise SourceError."""
        last = ""
        for attempt in range(self.retries + 1):
            try:
                r = self.session.request(method, url, params=params, headers=headers, data=data,
                                         timeout=self.timeout, stream=True)
            except requests.exceptions.Timeout:
                last = f"timed out after {self.timeout:.0f}s"
            except requests.exceptions.ConnectionError as e:
                last = f"cannot connect ({_reason(e)})"
            except requests.exceptions.RequestException as e:
                raise SourceError(self.source, f"bad request to {url}: {e}", "check the URL in guild.toml")
            else:
                with r:
                    if r.status_code in ok:
                        return Response(r.url, r.status_code, dict(r.headers), self._read(r, url))
                    if r.status_code in (401, 403):
                        raise SourceError(self.source, f"HTTP {r.status_code} from {url}: access denied",
                                          "check the credentials in the environment variables named in the README")
                    if r.status_code == 404:
                        raise SourceError(self.source, f"HTTP 404 from {url}: not found", "check the URL in guild.toml")
                    if r.status_code not in RETRY_STATUSES:
                        raise SourceError(self.source, f"HTTP {r.status_code} from {url}", "check the server and the URL")
                    last = f"HTTP {r.status_code}"
                    wait = _retry_after(r.headers.get("Retry-After"))
                    if attempt < self.retries:
                        delay = min(wait if wait is not None else self.backoff * 2 ** attempt, self.max_retry_after)
                        self.sleep(delay)
                    continue
            if attempt < self.retries:
                self.sleep(self.backoff * 2 ** attempt)
        fix = ("the server is rate limiting; crawl again later" if last == "HTTP 429"
               else "check that the server is up and reachable from here, then crawl again")
        raise SourceError(self.source, f"{url}: {last} (after {self.retries + 1} attempts)", fix)

    def _read(self, r: requests.Response, url: str) -> bytes:
        declared = r.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise ResponseTooLarge(self.source, f"{url} is {int(declared) // 1_000_000} MB, over the "
                              f"{self.max_bytes // 1_000_000} MB limit", "exclude the page or raise the limit")
        chunks, size = [], 0
        try:
            for chunk in r.iter_content(65536):
                size += len(chunk)
                if size > self.max_bytes:
                    raise ResponseTooLarge(self.source, f"{url} is over the {self.max_bytes // 1_000_000} MB limit",
                                      "exclude the page or raise the limit")
                chunks.append(chunk)
        except requests.exceptions.RequestException as e:
            raise SourceError(self.source, f"{url}: connection broke while reading ({_reason(e)})",
                              "check the server, then crawl again")
        return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _reason(e: Exception) -> str:
    text = str(e)
    for marker in ("Connection refused", "Name or service not known", "No route to host", "timed out"):
        if marker in text:
            return marker.lower()
    return text[:200]
