"""HTTP for the web-facing connectors: retries with backoff, Retry-After, size caps, clear errors.

Retries, exponential backoff and Retry-After are urllib3's `Retry` on the requests adapter;
`rate_limit_wait` reads the wait a server asks for, for Retry and for the forge connectors alike.

Every failure becomes a SourceError that names the source, the URL, the cause and the fix, so
the crawl report and `guildbot sources` can show it as is.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ConnectTimeoutError, InvalidHeader, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from connectors.base import SourceError

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


def rate_limit_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds a server asks us to wait: Retry-After (seconds or an HTTP date), or the reset time of
    an exhausted X-RateLimit / RateLimit budget. None when the response asks for no wait."""
    h = CaseInsensitiveDict(headers)
    retry_after = (h.get("Retry-After") or "").strip()
    if retry_after:
        try:
            return max(0.0, Retry().parse_retry_after(retry_after))
        except InvalidHeader:
            return None
    remaining = h.get("X-RateLimit-Remaining", h.get("RateLimit-Remaining"))
    reset = h.get("X-RateLimit-Reset", h.get("RateLimit-Reset"))
    if remaining is not None and remaining.strip() == "0" and reset:
        try:
            return max(0.0, float(reset) - time.time()) + 0.2
        except ValueError:
            return None
    return None


class _Retry(Retry):
    """urllib3's Retry with the server's requested wait capped, and a sleep tests can observe."""

    def __init__(self, *args: Any, max_wait: float = 60.0, sleeper: Callable[[float], None] = time.sleep,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_wait, self.sleeper = max_wait, sleeper

    def new(self, **kwargs: Any) -> "_Retry":
        kwargs.setdefault("max_wait", self.max_wait)
        kwargs.setdefault("sleeper", self.sleeper)
        return super().new(**kwargs)

    def get_retry_after(self, response: Any) -> float | None:
        wait = rate_limit_wait(response.headers)
        return None if wait is None else min(wait, self.max_wait)

    def sleep_for_retry(self, response: Any) -> bool:
        wait = self.get_retry_after(response)
        if wait is None:
            return False
        if wait > 0:
            self.sleeper(wait)
        return True

    def get_backoff_time(self) -> float:
        """urllib3 retries the first time at once; a crawler waits backoff_factor even then."""
        return super().get_backoff_time() or (self.backoff_factor if self.history else 0.0)

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            self.sleeper(backoff)


class HttpClient:
    """A polite requests session for one source: urllib3 retries with backoff and Retry-After."""

    def __init__(self, source: str, *, timeout: float = 20.0, retries: int = 3, backoff: float = 0.5,
                 max_bytes: int = MAX_BYTES, max_retry_after: float = 60.0, headers: dict[str, str] | None = None,
                 auth: Any = None, sleep: Callable[[float], None] = time.sleep):
        self.source, self.timeout, self.retries, self.backoff = source, timeout, retries, backoff
        self.max_bytes, self.max_retry_after, self.sleep = max_bytes, max_retry_after, sleep
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        self.session.auth = auth
        retry = _Retry(total=retries, connect=retries, read=retries, status=retries, other=0,
                       backoff_factor=backoff, status_forcelist=sorted(RETRY_STATUSES), allowed_methods=None,
                       respect_retry_after_header=True, raise_on_status=False,
                       max_wait=max_retry_after, sleeper=sleep)
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def get(self, url: str, *, params: dict | None = None, headers: dict[str, str] | None = None,
            ok: tuple[int, ...] = (200,), method: str = "GET", data: Any = None) -> Response:
        """Fetch with retries. Statuses in `ok` are returned; others raise SourceError."""
        attempts = f"after {self.retries + 1} attempts"
        try:
            r = self.session.request(method, url, params=params, headers=headers, data=data,
                                     timeout=self.timeout, stream=True)
        except requests.exceptions.RequestException as e:
            cause = _failure(e, self.timeout)
            if cause is None:
                raise SourceError(self.source, f"bad request to {url}: {e}", "check the URL in guild.toml") from None
            raise SourceError(self.source, f"{url}: {cause} ({attempts})",
                              "check that the server is up and reachable from here, then crawl again") from None
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
            fix = ("the server is rate limiting; crawl again later" if r.status_code == 429
                   else "check that the server is up and reachable from here, then crawl again")
            raise SourceError(self.source, f"{url}: HTTP {r.status_code} ({attempts})", fix)

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


def _failure(e: requests.exceptions.RequestException, timeout: float) -> str | None:
    """What went wrong on the wire, in a few words; None for a request that is malformed itself."""
    reason = getattr(e.args[0], "reason", None) if e.args else None
    if isinstance(reason, NewConnectionError):  # a subclass of ConnectTimeoutError, but a refusal
        return f"cannot connect ({_reason(e)})"
    if isinstance(e, requests.exceptions.Timeout) or isinstance(reason, (ReadTimeoutError, ConnectTimeoutError)):
        return f"timed out after {timeout:g}s"
    if isinstance(e, requests.exceptions.ConnectionError):
        return f"cannot connect ({_reason(e)})"
    return None


def _reason(e: Exception) -> str:
    text = str(e)
    for marker in ("Connection refused", "Name or service not known", "No route to host", "timed out"):
        if marker in text:
            return marker.lower()
    return text[:200]
