"""A real Radicale CalDAV server (PyPI radicale) for tests: a subprocess on a free loopback port
with a temporary storage folder, no authentication (any user name is accepted and owns
/<user>/), stopped by its pid."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

USER = "guild"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Radicale:
    url: str
    proc: subprocess.Popen

    def calendar(self, name: str):
        """A new calendar collection /guild/<name>/, as a caldav Calendar."""
        import caldav
        client = caldav.DAVClient(url=self.url, username=USER, password="x", enable_rfc6764=False)
        return client.principal().make_calendar(name=name, cal_id=name)


def start_radicale(folder: Path) -> Radicale:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
                             "--storage-filesystem-folder", str(folder), "--auth-type", "none",
                             "--rights-type", "owner_only", "--logging-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url, timeout=1)
            return Radicale(url, proc)
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"Radicale did not start: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)


def stop_radicale(server: Radicale) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(5)


@pytest.fixture(scope="module")
def radicale(tmp_path_factory):
    server = start_radicale(tmp_path_factory.mktemp("radicale"))
    yield server
    stop_radicale(server)
