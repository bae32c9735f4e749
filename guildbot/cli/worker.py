"""`guildbot crawl --every 1h`: the crawl worker, the one writer beside any number of `serve` replicas.

It crawls, sleeps until the next tick, and crawls again, until SIGTERM or SIGINT (a crawl under way
finishes first: its work is committed in short transactions anyway). A tick another crawler holds
(the flock, or a source's Postgres advisory lock) or a database that does not answer is reported
and tried again at the next tick, so a worker outlives a database restart.
"""
from __future__ import annotations

import argparse
import re
import signal
import sqlite3
import sys
import threading
import time
from typing import Callable

from index.storage.factory import CrawlLocked, StoreError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """Seconds in '90s', '15m', '1h', '1d' or '1h30m' (argparse type)."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([smhd])", text.strip().lower())
    if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*([smhd])", "", text.strip().lower()).strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; write e.g. 30m, 1h or 1h30m")
    seconds = sum(float(n) * UNITS[u] for n, u in parts)
    if seconds < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is shorter than a second; write e.g. 30m or 1h")
    return seconds


def add_every(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--every", type=duration, metavar="DURATION",
                        help="keep crawling, one crawl every DURATION (30m, 1h, 1d) until stopped: the crawl worker")


def every(seconds: float, crawl_once: Callable[[], int], log=None) -> int:
    """Run `crawl_once` every `seconds` until SIGTERM/SIGINT; 0 when stopped, as a service manager expects."""
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                crawl_once()
            except (CrawlLocked, StoreError, sqlite3.Error) as e:
                log(f"guildbot crawl --every: this tick is skipped: {e}")
            wait = max(0.0, seconds - (time.monotonic() - started))
            log(f"guildbot crawl --every: next crawl in {wait:.0f}s")
            stop.wait(wait)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    log("guildbot crawl --every: stopped")
    return 0
