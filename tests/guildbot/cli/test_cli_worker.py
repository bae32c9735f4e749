"""`guildbot crawl --every`: the crawl worker keeps crawling until SIGTERM, on either backend."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import write_config
from guildbot.cli.worker import duration
from index.storage.factory import open_store
from support.postgres import BACKENDS, backend_url


def test_durations():
    assert duration("90s") == 90 and duration("15m") == 900 and duration("1h30m") == 5400 and duration("1d") == 86400
    for bad in ("", "1", "soon", "1h and a bit", "0s", "-5m"):
        with pytest.raises(argparse.ArgumentTypeError):
            duration(bad)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_worker_picks_up_new_documents_each_tick_and_stops_on_sigterm(request, tmp_path, backend):
    url = backend_url(request, backend)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "drift.md").write_text("# Drift\n\nPopulation stability index alerts.\n")
    config = write_config(tmp_path, [{"kind": "files", "name": "notes", "team": "T", "path": str(notes)}])
    env = {**os.environ, "GUILDBOT_DATABASE": url, "HF_HUB_OFFLINE": "1"}
    log = open(tmp_path / "worker.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "guildbot", "--config", str(config), "crawl", "--every", "1s", "--quiet"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)

    def documents() -> set[str]:
        try:
            store = open_store(tmp_path / "data", url)
        except Exception:  # noqa: BLE001 - not created yet
            return set()
        try:
            return {r["path"] for r in store.query("SELECT path FROM documents")} if store.columns("documents") else set()
        finally:
            store.close()

    def wait_for(paths: set[str], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while documents() != paths:
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.3)

    try:
        wait_for({"drift.md"})
        (notes / "runbook.md").write_text("# Runbook\n\nOn-call steps.\n")
        wait_for({"drift.md", "runbook.md"})  # the next tick, without being asked
        (notes / "drift.md").unlink()
        wait_for({"runbook.md"})
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        log.close()
    text = (tmp_path / "worker.log").read_text()
    assert code == 0 and "stopped" in text and "Traceback" not in text
