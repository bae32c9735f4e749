"""What the Slack bot remembers between requests: deliveries already answered, and how often each
user asks.

- `Deliveries.first(key)`: True for the first delivery of an event id or message in any bot
  process on the data_dir (the store's `seen_events` table, index/storage/sqlite/seen.py); should the database
  be too busy to say within a second, this process's own memory decides, so an acknowledgement is
  never late.
- `RateLimit.allow(user)`: at most `limit` questions per user in a sliding `window` of seconds,
  so one person (or a runaway script) cannot take every answer worker; `RateLimit.tell_once(user)`
  says whether a refused user is yet to be told so (once until they may ask again).
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import defaultdict, deque
from typing import Callable

from cachetools import TTLCache

from guildbot.settings import RATE_LIMIT  # questions per person per minute

log = logging.getLogger("guildbot.slack")
SEEN_TTL = 3600.0
RATE_WINDOW = 60.0    # ... in this many seconds


class Seen:
    """Keys seen in the last `ttl` seconds in this process (thread-safe)."""

    def __init__(self, ttl: float = SEEN_TTL, limit: int = 100_000):
        self.ttl, self.limit = ttl, limit
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=limit, ttl=ttl)
        self._lock = threading.Lock()

    def first(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = True
            return True


class Deliveries:
    """First deliveries across processes (`shared`, e.g. Guild.first_delivery), this process's memory
    as the fallback when the database cannot answer."""

    def __init__(self, shared: Callable[[str], bool] | None):
        self.shared, self.local = shared, Seen()

    def first(self, key: str) -> bool:
        local = self.local.first(key)
        if self.shared is None:
            return local
        try:
            return self.shared(key)
        except sqlite3.Error as e:
            log.warning("could not record delivery %s in the store (%s); deciding from this process's memory", key, e)
            return local


class RateLimit:
    def __init__(self, limit: int = RATE_LIMIT, window: float = RATE_WINDOW, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._asked: dict[str, deque] = defaultdict(deque)
        self._told: set[str] = set()  # refused and told so since their last allowed question
        self._lock = threading.Lock()

    def allow(self, user: str) -> float:
        """0.0 when `user` may ask now (and counts the question), else the seconds until they may."""
        now = self.clock()
        with self._lock:
            times = self._asked[user]
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) >= self.limit:
                return max(0.1, self.window - (now - times[0]))
            times.append(now)
            self._told.discard(user)
            return 0.0

    def tell_once(self, user: str) -> bool:
        """True for the first refusal of `user` since their last allowed question, False after it:
        a burst of mentions over the limit gets one polite reply, not a flood of them. Being refused
        lasts at most one `window`, so this is at most once per window."""
        with self._lock:
            if user in self._told:
                return False
            self._told.add(user)
            return True


def slow_down_text(wait: float, limit: int = RATE_LIMIT, window: float = RATE_WINDOW) -> str:
    return (f"You're asking faster than I can keep up: I answer up to {limit} questions per person every "
            f"{int(window)} seconds, so everyone gets answers quickly. Please ask again in {max(1, round(wait))} "
            f"second{'s' if round(wait) != 1 else ''}.")
