"""One crawler per source across machines: a Postgres advisory lock per source name.

The locks live on a connection of their own, so they outlast the crawl's transactions and the
server drops them when the crawler's connection ends, however it ends (a killed crawler frees its
sources at once). A source already held is refused at once, never awaited, naming the holder.

Release unlocks explicitly before closing: the server drops a closed session's locks only when
its backend process ends, a moment after the client has moved on, so a crawl right after a crawl
could find its own previous lock still held. For the same reason a lock held by no session we
can see (a backend on its way out) is retried for a moment instead of refused.
"""
from __future__ import annotations

import os
import socket
import time
from typing import Any, Iterable

from index.storage.sqlite.lock import CrawlLocked
from index.storage.postgres.conn import PgConnection

NAMESPACE = 0x6763  # the first key of every crawl lock ("gc"); the second is hashtext(source name)
VANISHING_HOLDER_WAIT = 3.0  # seconds a lock held by no visible session is retried


class PgCrawlLock:
    """`with PgCrawlLock(url, display, ["wiki", "git"]): ...` — raises CrawlLocked when another crawler holds one."""

    def __init__(self, url: str, display: str, sources: Iterable[str]):
        self.url, self.display, self.sources = url, display, sorted(set(sources))
        self._conn: PgConnection | None = None

    def acquire(self) -> None:
        conn = PgConnection(self.url)
        label = f"guildbot crawl pid={os.getpid()} host={socket.gethostname()}"[:63]
        conn.execute("SELECT set_config('application_name', ?, false)", (label,))
        for name in self.sources:
            holder = self._take(conn, name)
            if holder is not None:
                self._close(conn)
                raise CrawlLocked(f"{self.display} (source {name})", holder)  # type: ignore[arg-type]
        self._conn = conn

    def _take(self, conn: PgConnection, name: str) -> dict[str, Any] | None:
        """Lock `name`; None when taken, else who holds it (retried while nobody visible does)."""
        deadline = time.monotonic() + VANISHING_HOLDER_WAIT
        while True:
            if conn.execute("SELECT pg_try_advisory_lock(?, hashtext(?))", (NAMESPACE, name)).fetchone()[0]:
                return None
            holder = self._holder(conn, name)
            if holder or time.monotonic() >= deadline:
                return holder
            time.sleep(0.05)

    @staticmethod
    def _holder(conn: PgConnection, name: str) -> dict[str, Any]:
        rows = conn.execute(
            """SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.classid = ? AND l.objid = hashtext(?)::oid AND l.granted""",
            (NAMESPACE, name)).fetchall()
        if not rows:
            return {}
        app, started = rows[0]
        pid = app.split("pid=", 1)[1].split()[0] if "pid=" in (app or "") else "?"
        return {"pid": pid, "started": str(started)[:19], "command": app}

    @staticmethod
    def _close(conn: PgConnection) -> None:
        try:
            conn.execute("SELECT pg_advisory_unlock_all()")
        except Exception:  # a broken connection: the server drops its locks with the backend
            pass
        conn.close()

    def release(self) -> None:
        if self._conn is not None:
            self._close(self._conn)
            self._conn = None

    def __enter__(self) -> "PgCrawlLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
