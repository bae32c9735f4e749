"""Loopback fakes of the GitHub and GitLab REST APIs (real HTTP; real git behind /git/).

The fakes speak the documented JSON and headers: GitHub's Link rel="next" pagination, Bearer
auth, X-RateLimit-* on 403; GitLab's PRIVATE-TOKEN, X-Page/X-Next-Page/X-Total-Pages. They are
stateful: tests change `repos`, `mode` and `fail_next` between crawls. Under /git/ the server is
a real smart-HTTP git remote (`git http-backend`) that demands the token as HTTP basic auth.
"""
from __future__ import annotations

import base64
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

# -- helpers ----------------------------------------------------------------------------------
def dead_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@lru_cache(maxsize=1)
def shared_embedder():
    """The real packaged model, loaded once per test session."""
    from index.embedding.embedder import Embedder

    return Embedder()


def open_guild(toml: Path):
    from guildbot.guild import Guild

    guild = Guild.from_config(toml)
    guild.embedder = shared_embedder()  # cached_property: the instance attribute is used as is
    return guild


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early (the HTTP client drops a 500 unread) are no test failure."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


# -- the API fake -----------------------------------------------------------------------------
class FakeForge:
    """A GitHub (flavor="github") or GitLab (flavor="gitlab") API on 127.0.0.1.

    repos: GitHub repository objects or GitLab project objects; use add_repo() to build them.
    mode: "ok", "500" (every API call fails) or "malformed" (200 with broken JSON).
    fail_next: (status, headers) answers given to the next API calls before normal service.
    rate_limited_until: GitHub answers 403 with X-RateLimit-Remaining: 0 until this epoch time.
    """

    def __init__(self, flavor: str, owner: str, token: str = "s3cret-token", page_size: int = 100,
                 prefix: str = "", git_root: Path | None = None, links: bool | None = None):
        self.flavor, self.owner, self.token, self.page_size = flavor, owner, token, page_size
        self.prefix = prefix or ("/api/v4" if flavor == "gitlab" else "")
        self.links = (flavor == "github") if links is None else links
        self.git_root = git_root
        self.git_password: str | None = None  # what /git/ demands; None: the API token
        self.repos: list[dict[str, Any]] = []
        self.mode = "ok"
        self.fail_next: list[tuple[int, dict[str, str]]] = []
        self.rate_limited_until = 0.0
        self.log: list[dict[str, Any]] = []  # every request: path, query, headers, time, status
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def api_url(self) -> str:
        return self.base + self.prefix

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def git_url(self, name: str) -> str:
        return f"{self.base}/git/{name}"

    def add_repo(self, name: str, clone_url: str, *, description: str = "", topics: list[str] | None = None,
                 archived: bool = False, subgroup: str = "") -> dict[str, Any]:
        n = len(self.repos) + 1
        topics = topics or []
        if self.flavor == "github":
            html = f"https://github.example/{self.owner}/{name}"
            obj = {"id": n, "name": name, "full_name": f"{self.owner}/{name}", "private": True,
                   "html_url": html, "description": description or None, "fork": False, "clone_url": clone_url,
                   "ssh_url": f"git@github.example:{self.owner}/{name}.git", "topics": topics,
                   "archived": archived, "default_branch": "main", "visibility": "private"}
        else:
            ns = f"{self.owner}/{subgroup}" if subgroup else self.owner
            obj = {"id": n, "name": name, "path": name, "path_with_namespace": f"{ns}/{name}",
                   "description": description or None, "default_branch": "main", "topics": topics,
                   "tag_list": topics, "http_url_to_repo": clone_url, "ssh_url_to_repo": f"git@gl.example:{ns}/{name}.git",
                   "web_url": f"https://gitlab.example/{ns}/{name}", "archived": archived, "empty_repo": False,
                   "namespace": {"full_path": ns, "kind": "group"}}
        self.repos.append(obj)
        return obj

    def remove_repo(self, name: str) -> None:
        self.repos = [r for r in self.repos if r["name"] != name]

    def api_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.log if not r["path"].startswith("/git/")]


def _handler(fake: FakeForge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: bytes | str, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> None:
            data = body.encode() if isinstance(body, str) else body
            with fake.lock:
                fake.log[-1]["status"] = status
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> tuple[str, dict[str, list[str]]]:
            parts = urlsplit(self.path)
            with fake.lock:
                fake.log.append({"path": parts.path, "query": parse_qs(parts.query), "time": time.time(),
                                 "headers": {k.lower(): v for k, v in self.headers.items()}, "status": None})
            return parts.path, parse_qs(parts.query)

        def do_POST(self) -> None:
            path, _ = self._record()
            if path.startswith("/git/"):
                return self._git(path)
            self._send(404, json.dumps({"message": "Not Found"}))

        def do_GET(self) -> None:
            path, query = self._record()
            if path.startswith("/git/"):
                return self._git(path)
            if fake.fail_next:
                status, headers = fake.fail_next.pop(0)
                return self._send(status, json.dumps({"message": f"fake failure {status}"}), headers)
            if fake.mode == "500":
                return self._send(500, "<html><body>500 Internal Server Error</body></html>", content_type="text/html")
            if not self._authorized():
                msg = "Requires authentication" if fake.flavor == "github" else "401 Unauthorized"
                return self._send(401, json.dumps({"message": msg}))
            if fake.flavor == "github" and time.time() < fake.rate_limited_until:
                return self._send(403, json.dumps({"message": "API rate limit exceeded"}),
                                  {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0",
                                   "X-RateLimit-Reset": str(math.ceil(fake.rate_limited_until))})
            if fake.mode == "malformed":
                return self._send(200, '[{"name": "alpha", "clone_url": ')
            items = self._listing(path, query)
            if items is None:
                return self._send(404, json.dumps({"message": "Not Found"}))
            self._page(path, query, items)

        def _authorized(self) -> bool:
            if fake.flavor == "github":
                return self.headers.get("Authorization") in (f"Bearer {fake.token}", f"token {fake.token}")
            return self.headers.get("PRIVATE-TOKEN") == fake.token

        def _listing(self, path: str, query: dict[str, list[str]]) -> list[dict[str, Any]] | None:
            if not path.startswith(fake.prefix):
                return None
            parts = [unquote(p) for p in path[len(fake.prefix):].strip("/").split("/")]
            if fake.flavor == "github":
                if len(parts) == 3 and parts[0] in ("orgs", "users") and parts[2] == "repos" and parts[1] == fake.owner:
                    return list(fake.repos)
                return None
            if len(parts) == 3 and parts[0] == "groups" and parts[2] == "projects" and parts[1] == fake.owner:
                items = list(fake.repos)
                if query.get("include_subgroups", ["false"])[0] != "true":
                    items = [p for p in items if p["namespace"]["full_path"] == fake.owner]
                if query.get("archived", [""])[0] == "false":
                    items = [p for p in items if not p["archived"]]
                return items
            return None

        def _page(self, path: str, query: dict[str, list[str]], items: list[dict[str, Any]]) -> None:
            per_page = max(1, min(int(query.get("per_page", ["30" if fake.flavor == "github" else "20"])[0]),
                                  fake.page_size))
            page = int(query.get("page", ["1"])[0])
            pages = max(1, math.ceil(len(items) / per_page))
            body = items[(page - 1) * per_page: page * per_page]
            flat = {k: v[0] for k, v in query.items()}

            def link(n: int) -> str:
                return f"{fake.base}{path}?{urlencode({**flat, 'page': n})}"

            rels = ([(link(page + 1), "next"), (link(pages), "last")] if page < pages else []) + \
                   ([(link(page - 1), "prev"), (link(1), "first")] if page > 1 else [])
            headers = {}
            if fake.links and rels:
                headers["Link"] = ", ".join(f'<{u}>; rel="{r}"' for u, r in rels)
            if fake.flavor == "gitlab":
                headers.update({"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items)),
                                "X-Total-Pages": str(pages), "X-Next-Page": str(page + 1) if page < pages else "",
                                "X-Prev-Page": str(page - 1) if page > 1 else ""})
            self._send(200, json.dumps(body), headers)

        def _git(self, path: str) -> None:
            """Smart HTTP through the real `git http-backend`, only with the token as basic auth."""
            auth = self.headers.get("Authorization", "")
            password = ""
            if auth.startswith("Basic "):
                password = base64.b64decode(auth[6:]).decode().partition(":")[2]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if fake.git_root is None or password != (fake.git_password or fake.token):
                return self._send(401, "authentication required", {"WWW-Authenticate": 'Basic realm="fake"'},
                                  content_type="text/plain")
            parts = urlsplit(self.path)
            env = {"PATH": os.environ.get("PATH", ""), "GIT_PROJECT_ROOT": str(fake.git_root),
                   "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": unquote(parts.path[len("/git"):]),
                   "QUERY_STRING": parts.query, "REQUEST_METHOD": self.command, "REMOTE_USER": "fake",
                   "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                   "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                   "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", "")}
            out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            status, headers, ctype = 200, {}, "application/octet-stream"
            for line in head.decode().split("\r\n"):
                key, _, value = line.partition(":")
                if key.lower() == "status":
                    status = int(value.split()[0])
                elif key.lower() == "content-type":
                    ctype = value.strip()
                elif key:
                    headers[key] = value.strip()
            self._send(status, payload, headers, content_type=ctype)

    return Handler
