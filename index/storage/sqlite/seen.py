"""Deliveries already answered: Slack event ids and messages, remembered in the store's database.

Slack delivers an event again when it thinks the first delivery failed, possibly to another bot
process. Every process on one data_dir records the keys it answers in one table; `INSERT ... ON
CONFLICT DO NOTHING` on the key decides which one answers, so each event is answered exactly once however many
processes run. Keys expire after `ttl` seconds. The table has its own connection with a short
busy timeout, so an acknowledgement never waits long behind another process's write.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

from index.storage.sqlite import schema

TTL = 3600.0
SWEEP_EVERY = 200  # deliveries between deletions of expired keys


class SeenEvents:
    def __init__(self, db_path: Path, ttl: float = TTL, timeout: float = 1.0,
                 connect: Callable[[float], Any] | None = None):
        """`connect(timeout)` opens another database's connection (Postgres: index/storage/factory.py)."""
        self.path, self.ttl, self.timeout, self._open = Path(db_path), ttl, timeout, connect
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._calls = 0

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None and self._open is not None:
            self._conn = self._open(self.timeout)  # its schema is the store's
        if self._conn is None:
            conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None, check_same_thread=False)
            schema.ensure(conn)  # the store's schema (index/storage/sqlite/schema.py); only read when present
            self._conn = conn
        return self._conn

    def first(self, key: str, now: float | None = None) -> bool:
        """True for the first delivery of `key` within the ttl, in any process on this database.
        Raises sqlite3.Error when the database does not answer within the timeout."""
        now = time.time() if now is None else now
        with self._lock:
            conn = self._connect()
            self._calls += 1
            if self._calls % SWEEP_EVERY == 1:
                conn.execute("DELETE FROM seen_events WHERE at < ?", (now - self.ttl,))
            conn.execute("DELETE FROM seen_events WHERE key = ? AND at < ?", (key, now - self.ttl))
            return conn.execute("INSERT INTO seen_events (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, now)).rowcount == 1

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
