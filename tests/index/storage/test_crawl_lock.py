"""One crawl per data_dir: a second one is refused at once, naming the first; dead holders are taken over."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from guildbot.cli import main as cli
from index.storage.sqlite.lock import CrawlLock, CrawlLocked

from conftest import write_config

HOLD = """
import sys, time
from pathlib import Path
from index.storage.sqlite.lock import CrawlLock
lock = CrawlLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding the crawl lock of tmp_path/data."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "data")], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_second_crawl_is_refused_at_once_naming_the_running_one(tmp_path, holder):
    with pytest.raises(CrawlLocked) as e:
        CrawlLock(tmp_path / "data").acquire()
    assert f"pid {holder.pid}" in str(e.value) and "kill" in str(e.value)


def test_the_cli_refuses_a_concurrent_crawl_with_exit_2(tmp_path, holder, capsys):
    config = write_config(tmp_path, [], teams=["T"])
    t0 = time.perf_counter()
    assert cli.main(["--config", str(config), "crawl", "--quiet"]) == 2
    assert time.perf_counter() - t0 < 5  # refused, never waited for
    err = capsys.readouterr().err
    assert "another crawl is running" in err and f"pid {holder.pid}" in err and "Traceback" not in err


def test_the_lock_of_a_killed_crawl_is_taken_over(tmp_path, holder):
    holder.kill()
    holder.wait()
    lock_file = tmp_path / "data" / "crawl.lock"
    assert json.loads(lock_file.read_text())["pid"] == holder.pid  # the dead crawl's pid is still written there
    with CrawlLock(tmp_path / "data") as lock:
        assert json.loads(lock_file.read_text())["pid"] != holder.pid
        with pytest.raises(CrawlLocked):  # held: even this process's second attempt is refused
            CrawlLock(tmp_path / "data").acquire()
    CrawlLock(tmp_path / "data").acquire()  # released on exit
