"""Crash safety on Postgres: crawls killed with SIGKILL at random moments recover to an uninterrupted
crawl's answers, as test_crash.py checks for the embedded index (its helpers, fewer trials).

The chunks, their embeddings and the full text are written in one Postgres transaction, so a kill
leaves the database as the last commit left it; there is no vector file to recover.
"""
from __future__ import annotations

import random
import time
from urllib.parse import urlsplit

import psycopg

from support.postgres import database_url, with_database
from test_crash import _config, _recover, _run, _write_sources, forkserver  # noqa: F401

TRIALS = 3  # per phase


def _pg_config(root, folder, url: str):
    return with_database(_config(root, folder), url)


def _clone(server: str, source_url: str, name: str) -> str:
    """A copy of a database (CREATE DATABASE ... TEMPLATE), as test_crash copies a data_dir."""
    template = urlsplit(source_url).path.lstrip("/")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return database_url(server, name)


def test_kills_at_random_moments_recover_to_the_uninterrupted_answers_on_postgres(tmp_path, forkserver, pg_server,
                                                                                 new_pg_database):
    rng = random.Random(17)
    src = tmp_path / "src"
    _write_sources(src, 1)

    clean_url = new_pg_database()
    clean = _pg_config(src, tmp_path / "clean", clean_url)
    t0 = time.perf_counter()
    assert not _run(forkserver, clean, None)
    first_duration = time.perf_counter() - t0
    baseline = _recover(clean)
    assert baseline["docs"] and baseline["chunks"] and all(baseline["search"].values())

    killed = 0
    for trial in range(TRIALS):
        config = _pg_config(src, tmp_path / f"first{trial}", new_pg_database())
        killed += _run(forkserver, config, rng.uniform(0.05, first_duration))
        assert _recover(config) == baseline, f"first-crawl trial {trial} did not recover"

    snapshot = _clone(pg_server, clean_url, f"snap{rng.randrange(10**9)}")
    _write_sources(src, 2)
    t0 = time.perf_counter()
    assert not _run(forkserver, clean, None)
    second_duration = time.perf_counter() - t0
    baseline2 = _recover(clean)
    assert baseline2 != baseline

    for trial in range(TRIALS):
        url = _clone(pg_server, snapshot, f"again{trial}x{rng.randrange(10**9)}")
        config = _pg_config(src, tmp_path / f"again{trial}", url)
        killed += _run(forkserver, config, rng.uniform(0.05, second_duration))
        assert _recover(config) == baseline2, f"re-crawl trial {trial} did not recover"
    assert killed >= TRIALS
