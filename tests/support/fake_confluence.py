"""A stateful fake Confluence (Cloud or Data Center flavour) speaking the documented REST API v1 JSON.

Served over real HTTP on 127.0.0.1. It implements what the connector uses:

  GET {context}/rest/api/space/{key}
  GET {context}/rest/api/content?spaceKey&type=page&status&expand&limit&start
  GET {context}/rest/api/content/search?cql&expand&limit&start|cursor   (space in (...), type = page,
                                                                       lastmodified >= "yyyy-MM-dd HH:mm")
  GET {context}/rest/api/content/{id}?expand
  GET {context}/rest/api/content/{id}/version?limit&start               (newest first)

Responses carry `results`, `start`, `limit`, `size` and `_links` (`base`, `context`, `next`
relative to the base; Cloud search pages by an opaque cursor). Limits are capped by the server
like the real one. Basic auth (Cloud: email + API token) or Bearer (Data Center: PAT) is
required, else 401. Modes: "429" (with Retry-After), "500", "malformed" (truncated JSON), "401".
"""
from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlencode, urlsplit

from support.loopback import LoopbackServer

EMAIL, TOKEN, PAT = "bot@northwind.test", "cloud-api-token", "dc-personal-access-token"
OLD = datetime(2023, 3, 1, 9, 30, tzinfo=timezone.utc)


@dataclass
class User:
    key: str  # Cloud accountId / Data Center username
    name: str
    email: str = ""
    app: bool = False


@dataclass
class Version:
    by: User
    when: datetime
    message: str = ""


@dataclass
class Page:
    id: str
    space: str
    title: str
    body: str
    parent: str | None
    versions: list[Version] = field(default_factory=list)


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeConfluence:
    def __init__(self, flavour: str = "cloud", max_limit: int = 25, version_api: str = "api"):
        self.flavour = flavour
        self.version_api = version_api  # where version history lives: "api", "experimental" (old DC) or "none"
        self.context = "/wiki" if flavour == "cloud" else ""
        self.max_limit = max_limit
        self.spaces: dict[str, str] = {}
        self.pages: dict[str, Page] = {}
        self.next_id = 1001
        self.lock = threading.RLock()
        self.mode = ""
        self.mode_left = -1
        self.retry_after = "2"
        self.requests: list[tuple[str, dict[str, list[str]], int]] = []
        self.host = ""
        self.clock = OLD

    # -- content edits used by tests -----------------------------------------------------------
    def add_space(self, key: str, name: str = "") -> None:
        self.spaces[key] = name or key

    def add_page(self, space: str, title: str, body: str, by: User, parent: str | None = None,
                 when: datetime | None = None) -> str:
        """A new page; by default dated in the fake's past (2023), edits default to now."""
        with self.lock:
            pid = str(self.next_id)
            self.next_id += 1
            self.pages[pid] = Page(pid, space, title, body, parent, [Version(by, when or self.tick())])
            return pid

    def edit_page(self, pid: str, by: User, body: str | None = None, title: str | None = None,
                  when: datetime | None = None) -> None:
        with self.lock:
            page = self.pages[pid]
            page.body = body if body is not None else page.body
            page.title = title if title is not None else page.title
            page.versions.append(Version(by, when or datetime.now(timezone.utc)))

    def delete_page(self, pid: str) -> None:
        with self.lock:
            del self.pages[pid]

    def tick(self) -> datetime:
        self.clock += timedelta(hours=1)
        return self.clock

    def set_mode(self, mode: str, count: int = -1, retry_after: str = "2") -> None:
        with self.lock:
            self.mode, self.mode_left, self.retry_after = mode, count, retry_after

    def calls(self, path_suffix: str) -> list[dict[str, list[str]]]:
        return [q for p, q, s in self.requests if p.endswith(path_suffix) and s == 200]

    # -- JSON shapes ---------------------------------------------------------------------------
    def user(self, u: User) -> dict[str, Any]:
        if self.flavour == "cloud":
            return {"type": "known", "accountId": u.key, "accountType": "app" if u.app else "atlassian",
                    "email": u.email, "publicName": u.name.split()[0], "displayName": u.name,
                    "_links": {"self": f"{self.base}/rest/api/user?accountId={u.key}"}}
        return {"type": "known", "username": u.key, "userKey": "ff80" + u.key, "displayName": u.name,
                "_links": {"self": f"{self.base}/rest/api/user?key=ff80{u.key}"}}

    @property
    def base(self) -> str:
        return self.host + self.context

    def webui(self, page: Page) -> str:
        if self.flavour == "cloud":
            return f"/spaces/{page.space}/pages/{page.id}/{quote_plus(page.title)}"
        return f"/display/{page.space}/{quote_plus(page.title)}"

    def ancestors(self, page: Page) -> list[Page]:
        chain, pid = [], page.parent
        while pid and pid in self.pages:
            chain.insert(0, self.pages[pid])
            pid = self.pages[pid].parent
        return chain

    def content(self, page: Page, expand: set[str]) -> dict[str, Any]:
        latest = page.versions[-1]
        out: dict[str, Any] = {"id": page.id, "type": "page", "status": "current", "title": page.title,
                               "_links": {"webui": self.webui(page), "self": f"{self.base}/rest/api/content/{page.id}",
                                          "tinyui": f"/x/{page.id}"},
                               "_expandable": {"body": "", "version": "", "ancestors": "", "history": "", "space": ""}}
        if "version" in expand:
            out["version"] = {"by": self.user(latest.by), "when": iso(latest.when), "number": len(page.versions),
                              "message": latest.message, "minorEdit": False}
        if "ancestors" in expand:
            out["ancestors"] = [{"id": a.id, "type": "page", "status": "current", "title": a.title}
                                for a in self.ancestors(page)]
        if "history" in expand:
            out["history"] = {"latest": True, "createdBy": self.user(page.versions[0].by),
                              "createdDate": iso(page.versions[0].when)}
        if "space" in expand:
            out["space"] = {"key": page.space, "name": self.spaces[page.space], "type": "global"}
        if "body.storage" in expand:
            out["body"] = {"storage": {"value": page.body, "representation": "storage"}}
        return out

    def listing(self, items: list[dict], start: int, limit: int, next_path: str | None) -> dict[str, Any]:
        links: dict[str, Any] = {"base": self.base, "context": self.context}
        if next_path:
            links["next"] = next_path
        return {"results": items, "start": start, "limit": limit, "size": len(items), "_links": links}

    # -- routing -------------------------------------------------------------------------------
    def authorised(self, header: str | None) -> bool:
        if self.flavour == "cloud":
            return header == "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        return header == f"Bearer {PAT}"

    def forced(self) -> tuple[int, dict[str, str], bytes] | None:
        with self.lock:
            if not self.mode or self.mode_left == 0:
                return None
            if self.mode_left > 0:
                self.mode_left -= 1
            mode = self.mode
        if mode == "429":
            return 429, {"Retry-After": self.retry_after}, b'{"statusCode":429,"message":"Rate limit exceeded"}'
        if mode == "500":
            return 500, {}, b'{"statusCode":500,"message":"java.lang.NullPointerException"}'
        if mode == "401":
            return 401, {}, b'{"statusCode":401,"message":"Unauthorized"}'
        return 200, {}, b'{"results": [{"id": "1001", "title": "trunc'

    def handle(self, raw_path: str, auth: str | None) -> tuple[int, dict[str, str], Any]:
        forced = self.forced()
        if forced:
            return forced
        if not self.authorised(auth):
            return 401, {"WWW-Authenticate": 'Basic realm="Confluence"'}, {"statusCode": 401, "message": "Unauthorized"}
        parts = urlsplit(raw_path)
        q = parse_qs(parts.query)
        path = parts.path
        experimental = re.fullmatch(re.escape(self.context) + r"/rest/experimental(/content/\d+/version)", path)
        if experimental and self.version_api == "experimental":
            path = self.context + "/rest/api" + experimental.group(1)
        elif path.endswith("/version") and self.version_api != "api":
            return 404, {}, {"statusCode": 404, "message": "No route"}
        if not path.startswith(self.context + "/rest/api/"):
            return 404, {}, {"statusCode": 404, "message": "No route"}
        path = path[len(self.context):]
        with self.lock:
            return self.route(path, q)

    def route(self, path: str, q: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        expand = set((q.get("expand") or [""])[0].split(","))
        m = re.fullmatch(r"/rest/api/space/([^/]+)", path)
        if m:
            if m.group(1) not in self.spaces:
                return 404, {}, {"statusCode": 404, "message": f"No space with key : {m.group(1)}"}
            return 200, {}, {"key": m.group(1), "name": self.spaces[m.group(1)], "type": "global"}
        if path == "/rest/api/content":
            return self.list_content(q, expand)
        if path == "/rest/api/content/search":
            return self.search(q, expand)
        m = re.fullmatch(r"/rest/api/content/(\d+)(/version)?", path)
        if m and m.group(1) in self.pages:
            page = self.pages[m.group(1)]
            return (self.versions(page, q) if m.group(2) else (200, {}, self.content(page, expand)))
        return 404, {}, {"statusCode": 404, "message": "Not found"}

    def window(self, q: dict[str, list[str]]) -> tuple[int, int]:
        start = int((q.get("start") or ["0"])[0])
        cursor = (q.get("cursor") or [""])[0]
        if cursor:
            start = int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":")[1])
        return start, max(1, min(int((q.get("limit") or ["25"])[0]), self.max_limit))

    def list_content(self, q: dict[str, list[str]], expand: set[str]):
        key = (q.get("spaceKey") or [""])[0]
        pages = [p for p in sorted(self.pages.values(), key=lambda p: int(p.id)) if p.space == key]
        start, limit = self.window(q)
        nxt = None
        if start + limit < len(pages):
            params = {k: v[0] for k, v in q.items() if k != "start"} | {"limit": limit, "start": start + limit}
            nxt = "/rest/api/content?" + urlencode(params)
        return 200, {}, self.listing([self.content(p, expand) for p in pages[start:start + limit]], start, limit, nxt)

    def search(self, q: dict[str, list[str]], expand: set[str]):
        cql = (q.get("cql") or [""])[0]
        parsed = parse_cql(cql)
        if parsed is None:
            return 400, {}, {"statusCode": 400, "message": f"Could not parse cql : {cql}"}
        spaces, since = parsed
        pages = [p for p in sorted(self.pages.values(), key=lambda p: int(p.id))
                 if p.space in spaces and (since is None or p.versions[-1].when.replace(second=0) >= since)]
        start, limit = self.window(q)
        nxt = None
        if start + limit < len(pages):
            params = {k: v[0] for k, v in q.items() if k not in ("start", "cursor")} | {"limit": limit}
            if self.flavour == "cloud":
                token = base64.urlsafe_b64encode(f"offset:{start + limit}".encode()).decode()
                params |= {"next": "true", "cursor": token}
            else:
                params["start"] = start + limit
            nxt = "/rest/api/content/search?" + urlencode(params, quote_via=quote)
        return 200, {}, self.listing([self.content(p, expand) for p in pages[start:start + limit]], start, limit, nxt)

    def versions(self, page: Page, q: dict[str, list[str]]):
        start, limit = self.window(q)
        newest_first = list(reversed(list(enumerate(page.versions, 1))))
        items = [{"by": self.user(v.by), "when": iso(v.when), "number": n, "message": v.message, "minorEdit": False,
                  "_links": {"self": f"{self.base}/rest/api/content/{page.id}/version/{n}"}}
                 for n, v in newest_first[start:start + limit]]
        nxt = None
        if start + limit < len(newest_first):
            nxt = f"/rest/api/content/{page.id}/version?" + urlencode({"limit": limit, "start": start + limit})
        return 200, {}, self.listing(items, start, limit, nxt)


CQL_SPACES = re.compile(r'space\s+in\s*\(([^)]*)\)|space\s*=\s*"?([\w-]+)"?', re.IGNORECASE)
CQL_TYPE = re.compile(r'type\s*=\s*"?page"?', re.IGNORECASE)
CQL_MODIFIED = re.compile(r'lastmodified\s*>=\s*"(\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?)"', re.IGNORECASE)


def parse_cql(cql: str) -> tuple[set[str], datetime | None] | None:
    """(spaces, lastmodified lower bound) of the CQL the connector sends; None if it is anything else."""
    sm = CQL_SPACES.search(cql)
    if not sm or not CQL_TYPE.search(cql):
        return None
    spaces = set(re.findall(r'"([^"]+)"', sm.group(1))) if sm.group(1) is not None else {sm.group(2)}
    mm = CQL_MODIFIED.search(cql)
    since = None
    if mm:
        fmt = "%Y-%m-%d %H:%M" if " " in mm.group(1) else "%Y-%m-%d"
        since = datetime.strptime(mm.group(1), fmt).replace(tzinfo=timezone.utc)
    rest = CQL_MODIFIED.sub("", CQL_TYPE.sub("", CQL_SPACES.sub("", cql)))
    if re.sub(r"\s+|\band\b", "", rest, flags=re.IGNORECASE):
        return None
    return spaces, since


class Handler(BaseHTTPRequestHandler):
    fake: FakeConfluence

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        status, headers, body = self.fake.handle(self.path, self.headers.get("Authorization"))
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        # recorded before answering, so a test that just got the answer always sees the request
        self.fake.requests.append((urlsplit(self.path).path, parse_qs(urlsplit(self.path).query), status))
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ConfluenceServer(LoopbackServer):
    """The fake on 127.0.0.1 at a free port, served from a background thread."""

    def __init__(self, fake: FakeConfluence):
        super().__init__(type("BoundHandler", (Handler,), {"fake": fake}), name="fake-confluence")
        self.fake = fake
        fake.host = self.url
        self.url = fake.base
