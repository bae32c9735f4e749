"""Two crawlers on one Postgres database: an advisory lock per source keeps them off the same source."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from conftest import write_config
from guildbot.cli import main as cli
from index.storage.sqlite.lock import CrawlLocked
from index.storage.postgres.lock import PgCrawlLock

HOLD = """
import sys, time
from index.storage.postgres.lock import PgCrawlLock
lock = PgCrawlLock(sys.argv[1], "db", sys.argv[2:])
lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(pg_url):
    """Another process holding the crawl lock of source "wiki"."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, pg_url, "wiki"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_source_held_by_another_crawler_is_refused_at_once_naming_it(pg_url, holder):
    t0 = time.perf_counter()
    with pytest.raises(CrawlLocked) as e:
        PgCrawlLock(pg_url, "db", ["git", "wiki"]).acquire()
    assert time.perf_counter() - t0 < 5
    assert f"pid {holder.pid}" in str(e.value) and "source wiki" in str(e.value) and f"kill {holder.pid}" in str(e.value)
    with PgCrawlLock(pg_url, "db", ["git"]):  # another source: crawled beside it
        pass
    with PgCrawlLock(pg_url, "db", ["git"]):  # and the refused attempt kept nothing of "git"
        pass


def test_a_killed_crawlers_sources_are_free_at_once(pg_url, holder):
    holder.kill()
    holder.wait()
    deadline = time.monotonic() + 10
    while True:  # the server notices the closed connection within moments
        try:
            with PgCrawlLock(pg_url, "db", ["wiki"]):
                break
        except CrawlLocked:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_the_cli_refuses_a_crawl_of_a_held_source_with_exit_2(tmp_path, pg_url, holder, capsys, monkeypatch):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("# A\n\nDrift.\n")
    config = write_config(tmp_path, [{"kind": "files", "name": "wiki", "team": "T", "path": str(tmp_path / "notes")}])
    monkeypatch.setenv("GUILDBOT_DATABASE", pg_url)
    assert cli.main(["--config", str(config), "crawl", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "another crawl is running" in err and f"pid {holder.pid}" in err and "Traceback" not in err


def test_release_frees_the_sources_before_it_returns(pg_url):
    """The next crawl must not find the previous one's lock held by a backend still exiting."""
    from index.storage.postgres.conn import PgConnection

    lock = PgCrawlLock(pg_url, "db", ["wiki", "git"])
    lock.acquire()
    lock.release()
    watcher = PgConnection(pg_url)
    try:
        held = watcher.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = ?", (0x6763,)).fetchone()[0]
    finally:
        watcher.close()
    assert held == 0


def test_a_lock_held_by_nobody_visible_is_retried_not_refused(pg_url, monkeypatch):
    """A lock whose holder is not in pg_stat_activity (a backend on its way out) frees in a moment."""
    import threading

    from index.storage.postgres.conn import PgConnection

    other = PgConnection(pg_url)
    assert other.execute("SELECT pg_try_advisory_lock(?, hashtext(?))", (0x6763, "wiki")).fetchone()[0]
    monkeypatch.setattr(PgCrawlLock, "_holder", staticmethod(lambda conn, name: {}))  # nobody visible
    timer = threading.Timer(0.5, other.close)
    timer.start()
    try:
        with PgCrawlLock(pg_url, "db", ["wiki"]):
            pass
    finally:
        timer.join()
