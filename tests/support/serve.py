"""`guildbot serve` as its own process on a free loopback port, stopped by its pid."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

GUILDBOT = [sys.executable, "-m", "guildbot"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_process(config: Path, env: dict[str, str], log: Path, timeout: float = 180) -> Iterator[str]:
    """Start `guildbot --config CONFIG serve` with `env`, its output in `log`; yield its URL once
    /healthz answers; terminate it (kill after 20 s) on the way out."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([*GUILDBOT, "--config", str(config), "serve", "--port", str(port), "--log-level",
                                 "warning"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, f"guildbot serve exited {proc.returncode}:\n{log.read_text()}"
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"guildbot serve did not come up:\n{log.read_text()}"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
