"""Readers answer while a crawl waits on a stalling source: no lock, no wait, no traceback.

A real `guildbot crawl` process crawls a git repository and a website whose loopback server
stalls one page (a byte a second) until the test releases it. While it stalls, a reader process
(a bot or web app: guild loaded once) answers search and who and records feedback, each in under
5 s, and `guildbot search`, `guildbot who` and `guildbot sources` processes finish with their
answers while the crawl is still waiting. A second `crawl` is refused at once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from conftest import drift_repo, write_config
from guildbot.guild import Guild
from support.loopback import LoopbackServer

GUILDBOT = str(Path(sys.executable).with_name("guildbot"))
READER = str(Path(__file__).resolve().parents[2] / "support" / "probe_reader.py")
STALL_MAX = 300.0  # released by the test as soon as the probes are done
ANSWER_BOUND = 5.0  # seconds: a correctness bound (no waiting on the crawl's lock), not a benchmark


class Site:
    def __init__(self):
        self.stalling = threading.Event()  # a request for /slow.html is being held
        self.release = threading.Event()
        self.stall = False
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                pages = {"/": '<html><head><title>Docs</title></head><body><main><h1>Docs</h1>'
                              '<a href="/a.html">A</a> <a href="/slow.html">Slow</a></main></body></html>',
                         "/a.html": "<html><head><title>Feature store</title></head><body><main><p>Backfilling the "
                                    "feature store nightly from the warehouse.</p></main></body></html>",
                         "/slow.html": "<html><head><title>Pager</title></head><body><main><p>The on-call pager "
                                       "rotation and its escalation policy.</p></main></body></html>"}
                body = pages.get(self.path)
                data = (body or "not found").encode()
                if self.path == "/slow.html":
                    data = b" " * 600 + data  # room for ten minutes of trickling
                try:
                    self.send_response(200 if body else 404)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.path == "/slow.html" and site.stall:
                        # a slow server, not a dead one: a byte every second keeps the client's read timeout
                        # from firing, however long the probes take on a loaded machine
                        site.stalling.set()
                        deadline = time.monotonic() + STALL_MAX
                        while not site.release.wait(1.0) and time.monotonic() < deadline and len(data) > 1:
                            self.wfile.write(data[:1])
                            self.wfile.flush()
                            data = data[1:]
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler hung up

        self.server = LoopbackServer(Handler, "stalling-site").start()


@pytest.fixture
def world(tmp_path, make_repo):
    repo = drift_repo(make_repo, "drift")
    site = Site()
    config = write_config(tmp_path, [
        {"kind": "git", "name": "drift", "team": "ML", "url": str(repo.path)},
        {"kind": "web", "name": "docs", "team": "ML", "url": site.server.url + "/"},
    ], teams=["ML"])
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    first = subprocess.run([GUILDBOT, "--config", str(config), "crawl", "--quiet"], env=env, capture_output=True,
                           text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    yield config, site, repo, env
    site.release.set()
    site.server.stop()


def test_readers_answer_while_a_crawl_waits_on_a_stalling_source(world):
    config, site, repo, env = world
    reader = subprocess.Popen([sys.executable, READER, str(config)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)
    crawl = None
    try:
        assert json.loads(reader.stdout.readline())["ready"]
        repo.commit("Grace Hopper", "grace@northwind.test", {"docs/new.md": "# New\n\nA runbook for drift alerts.\n"})
        site.stall = True
        crawl = subprocess.Popen([GUILDBOT, "--config", str(config), "crawl", "--quiet"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert site.stalling.wait(300), "the crawl never reached the stalling page"

        def ask(command: str) -> dict:
            reader.stdin.write(command + "\n")
            reader.stdin.flush()
            return json.loads(reader.stdout.readline())

        doc_id = None
        for command in ("search drift monitoring", "who drift monitoring", "search feature store backfill",
                        "who paging thresholds"):
            answer = ask(command)
            assert answer["ok"], answer
            assert answer["n"] > 0 and answer["seconds"] < ANSWER_BOUND, (command, answer)
        g = Guild.from_config(config)  # opening the store while the crawl runs: no lock, no write
        doc_id = g.store.query("SELECT id FROM documents LIMIT 1")[0]["id"]
        g.close()
        answer = ask(f"feedback {doc_id}")
        assert answer["ok"] and answer["seconds"] < ANSWER_BOUND, answer

        clis = [subprocess.Popen([GUILDBOT, "--config", str(config), *argv], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
                for argv in (["search", "drift monitoring", "--json"], ["who", "drift monitoring", "--json"],
                             ["sources", "--json"], ["crawl", "--quiet"])]
        results = [p.communicate(timeout=STALL_MAX - 60) for p in clis]
        assert crawl.poll() is None and not site.release.is_set()  # all of it answered while the crawl waited
        for p, (out, err) in zip(clis[:3], results[:3]):
            assert p.returncode == 0 and json.loads(out) and "Traceback" not in err, err
        assert clis[3].returncode == 2 and "another crawl is running" in results[3][1]
        assert f"pid {crawl.pid}" in results[3][1]
    finally:
        site.release.set()
        reader.stdin.close()
        reader.wait(60)
        if crawl is not None:
            out, err = crawl.communicate(timeout=300)
    assert crawl.returncode == 0, err
    g = Guild.from_config(config)
    assert "drift:docs/new.md" in g.store.doc_ids("drift") and g.store.count("feedback") == 1
    g.close()
