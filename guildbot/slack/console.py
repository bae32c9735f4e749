"""`guildbot slack-console "/guild who recommender"`: try the bot without a Slack workspace.

Sends the slash command to a running `guildbot serve` exactly as Slack would (form body,
x-slack-signature made with SLACK_SIGNING_SECRET), serves the command's response_url itself on a
free loopback port, and prints what the bot answers there as readable text.
"""
from __future__ import annotations

import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from guildbot.settings import ENV_HELP, environment
from guildbot.blockkit import COMMAND, to_text

DEFAULT_URL = "http://127.0.0.1:3000/slack/events"


class ResponseCatcher:
    """A tiny HTTP server standing in for Slack's response_url endpoint."""

    def __init__(self) -> None:
        self.posts: "queue.Queue[dict[str, Any]]" = queue.Queue()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"text": raw.decode("utf-8", "replace")}
                catcher.posts.put(body)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/response/console"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def split_command(line: str) -> tuple[str, str]:
    """'/guild who recommender' -> ('/guild', 'who recommender'); text without a command goes to /guild."""
    line = line.strip()
    if line.startswith("/"):
        command, _, text = line.partition(" ")
        return command, text.strip()
    return COMMAND, line


def render(post: dict[str, Any]) -> str:
    kind = "shared in channel" if post.get("response_type") == "in_channel" else "only visible to you"
    if post.get("delete_original"):
        return "── (the bot removed its earlier reply) ──"
    body = to_text(post["blocks"]) if post.get("blocks") else post.get("text", "")
    return f"── reply ({kind}) ──\n{body}"


def run(line: str, url: str = DEFAULT_URL, secret: str | None = None, user: str = "U0CONSOLE",
        channel: str = "C0CONSOLE", timeout: float = 30.0, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """0 when an answer arrived, 1 when none did in time, 2 on a usage or connection problem."""
    secret = secret if secret is not None else environment().slack_signing_secret.get_secret_value()
    if not secret:
        print(f"guildbot slack-console: SLACK_SIGNING_SECRET is not set; use the same value as the server's "
              f"({ENV_HELP['SLACK_SIGNING_SECRET']}), or any value when you started the server with it", file=err)
        return 2
    command, text = split_command(line)
    catcher = ResponseCatcher()
    try:
        form = {"token": "console", "team_id": "T0CONSOLE", "team_domain": "console", "channel_id": channel,
                "channel_name": "console", "user_id": user, "user_name": "console", "command": command, "text": text,
                "api_app_id": "A0CONSOLE", "is_enterprise_install": "false", "response_url": catcher.url,
                "trigger_id": f"{int(time.time())}.console"}
        body = urlencode(form)
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)}
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(urllib.request.Request(url, body.encode(), headers), timeout=10) as resp:
                status, ack = resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, ack = e.code, e.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as e:
            print(f"guildbot slack-console: cannot reach {url} ({getattr(e, 'reason', e)}); "
                  "is `guildbot serve` running there? (--url picks another address)", file=err)
            return 2
        ms = (time.perf_counter() - t0) * 1000
        print(f"> {command} {text}".rstrip(), file=out)
        if status == 401:
            print(f"the server rejected the request signature (HTTP 401): SLACK_SIGNING_SECRET differs from the "
                  f"server's", file=err)
            return 2
        if status != 200:
            print(f"the server answered HTTP {status}: {ack[:300]}", file=err)
            return 2
        print(f"(acknowledged in {ms:.0f} ms)", file=out)
        if ack.strip():
            try:
                shown = json.loads(ack)
                print(render(shown), file=out)
            except ValueError:
                print(ack, file=out)
        try:
            post = catcher.posts.get(timeout=timeout)
        except queue.Empty:
            print(f"no answer arrived at the response_url within {timeout:.0f} s; see the server's log", file=err)
            return 1
        print(render(post), file=out)
        while True:  # any follow-up posts that arrive right after
            try:
                print(render(catcher.posts.get(timeout=0.5)), file=out)
            except queue.Empty:
                break
        return 0
    finally:
        catcher.close()
