"""One crawl per data_dir: a lock file holding the running crawl's pid, refused at once, never awaited.

The lock is an flock on `data_dir/crawl.lock`, so the kernel releases it when its process dies,
however it dies: the lock of a killed crawl is simply taken over by the next one. The file's
text (pid, start time, command) is only there to name the running crawl in the refusal.
"""
from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from connectors.common.redact import redact

from index.storage.sqlite.store import store_error

LOCK_NAME = "crawl.lock"


class CrawlLocked(Exception):
    """Another crawl holds the data_dir. The message names it and says what to do."""

    def __init__(self, path: Path, holder: dict[str, Any]):
        self.path, self.holder = path, holder
        pid = holder.get("pid", "?")
        since = holder.get("started", "an unknown time")
        command = holder.get("command", "")
        super().__init__(f"another crawl is running on this data_dir (pid {pid}, started {since}"
                         + (f": {command}" if command else "") + f"; lock {path})\n"
                         f"  fix: wait for it to finish, or stop it (kill {pid}) and crawl again")


def _holder(f: IO[str]) -> dict[str, Any]:
    f.seek(0)
    try:
        data = json.loads(f.read() or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class CrawlLock:
    """`with CrawlLock(data_dir): ...` — raises CrawlLocked when another live process holds it."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / LOCK_NAME
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            f = open(self.path, "a+", encoding="utf-8")
        except OSError as e:
            raise store_error(e, self.path) from None
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(f)
            f.close()
            raise CrawlLocked(self.path, holder) from None
        except BaseException:
            f.close()
            raise
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                            "command": redact(" ".join(os.path.basename(a) if i == 0 else a
                                                for i, a in enumerate(sys.argv)))[:200]}))
        f.flush()
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()  # the lock file stays: unlinking it would race a starting crawl
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> "CrawlLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
