"""A stateful fake of the Slack Web API (and of response_url endpoints) on a free loopback port.

It speaks the wire protocol slack_sdk's WebClient and WebhookClient use: form, query or JSON
arguments, a Bearer token, `{"ok": ...}` answers with Slack's error names, HTTP 429 with
Retry-After. It keeps state (users, conversations, messages), checks Block Kit like Slack does
(at most 50 blocks, each valid for slack_sdk's models), and records every call, so tests assert
on what a user would see.

    fake = FakeSlack(users=[...]).start()
    client = WebClient(token=fake.token, base_url=fake.api_url)
    fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    fake.wait_for(lambda c: c.method == "chat.postMessage")

With `channels={"ml-guild": "C0MLGUILD"}` it also knows channels by name, as Slack does:
chat.postMessage to "#ml-guild" lands in C0MLGUILD (an unknown #name is channel_not_found),
conversations.list lists them, and conversations.history returns a channel's messages newest
first (paginated, message metadata only with include_all_metadata).
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

RESPONSE_URL = "response_url"  # the pseudo method name under which response_url posts are recorded


@dataclass
class Call:
    method: str                      # "chat.postMessage", ... or "response_url"
    args: dict[str, Any]
    status: int = 200                # HTTP status the fake answered
    result: dict[str, Any] = field(default_factory=dict)
    key: str = ""                    # response_url key
    at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.result.get("ok", True) is not False

    @property
    def blocks(self) -> list[dict]:
        return self.args.get("blocks") or []


@dataclass
class User:
    id: str
    name: str
    email: str = ""
    real_name: str = ""
    tz: str = "Europe/London"
    deleted: bool = False
    is_bot: bool = False

    def as_dict(self, team_id: str) -> dict[str, Any]:
        return {"id": self.id, "team_id": team_id, "name": self.name, "deleted": self.deleted,
                "real_name": self.real_name or self.name, "tz": self.tz, "is_bot": self.is_bot,
                "profile": {"email": self.email, "real_name": self.real_name or self.name,
                            "display_name": self.name}}


def _valid_blocks(blocks: Any) -> str | None:
    """Slack's own checks, approximated with slack_sdk's models: None when fine, else the error."""
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        return "invalid_blocks_format"
    if len(blocks) > 50:
        return "invalid_blocks"
    from slack_sdk.models.blocks import Block
    for b in blocks:
        try:
            model = Block.parse(b)
            if model is None or type(model) is Block:
                return "invalid_blocks"
            model.to_dict()
        except Exception:  # noqa: BLE001 - SlackObjectFormationError, KeyError, ...
            return "invalid_blocks"
    return None


def _view_of(args: dict) -> Any:
    """A views.* call's `view`: Slack takes it as a JSON string or an object; None when it is not JSON."""
    view = args.get("view")
    if isinstance(view, str):
        try:
            return json.loads(view)
        except ValueError:
            return None
    return view


class FakeSlack:
    def __init__(self, token: str = "xoxb-fake-token", team_id: str = "T0GUILD", bot_user_id: str = "U0GUILDBOT",
                 users: list[User] | None = None, port: int = 0, channels: dict[str, str] | None = None):
        self.token, self.team_id, self.bot_user_id, self.port = token, team_id, bot_user_id, port
        self.bot_id = "B0GUILDBOT"
        self.channels: dict[str, str] = dict(channels or {})  # name (without #) -> id
        self._gone: set[str] = set()  # ids of channels deleted since (recreate_channel)
        self.users: dict[str, User] = {u.id: u for u in users or []}
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self._rate_limits: dict[str, list[int]] = {}    # method -> [times left, retry after]
        self._failures: dict[str, list[Any]] = {}       # method -> [times left, error]
        self._expired: set[str] = set()
        self.mpims: dict[str, str] = {}                  # sorted member ids -> group DM id
        self.files: dict[str, dict[str, Any]] = {}      # file id -> name, length, uploaded data, where shared
        self.homes: dict[str, dict[str, Any]] = {}      # user id -> the App Home view last published for them
        self._ts = itertools.count(1)
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "FakeSlack":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def api_url(self) -> str:
        return self.url + "api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}response/{key}"

    # -- behaviour switches -----------------------------------------------------------------------
    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` (or RESPONSE_URL) with HTTP 429 + Retry-After."""
        with self._cond:
            self._rate_limits[method] = [times, retry_after]

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with {"ok": false, "error": error}."""
        with self._cond:
            self._failures[method] = [times, error]

    def expire(self, key: str) -> None:
        """Make a response_url answer 404 expired_url, as Slack does after 30 minutes."""
        with self._cond:
            self._expired.add(key)

    def delete_message(self, channel: str, ts: str) -> None:
        """Delete a message as a person would in Slack: chat.update on it is message_not_found from now on."""
        with self._cond:
            cid = self._channel_id(channel) or ""
            self.messages[cid] = [m for m in self.messages.get(cid, []) if m["ts"] != ts]

    def recreate_channel(self, name: str, new_id: str) -> str:
        """The channel `name` (without #) was deleted and made again (or another took its name after a
        rename): it gets `new_id`, and the old id is channel_not_found from now on. Returns the old id."""
        with self._cond:
            old = self.channels[name]
            self.channels[name] = new_id
            self._gone.add(old)
            return old

    def add_user(self, user: User) -> None:
        with self._cond:
            self.users[user.id] = user

    def reset(self) -> None:
        """Forget calls, messages and switches (users stay)."""
        with self._cond:
            self.calls.clear()
            self.messages.clear()
            self._rate_limits.clear()
            self._failures.clear()
            self._expired.clear()
            self.mpims.clear()
            self.files.clear()
            self._gone.clear()
            self.homes.clear()

    # -- assertions ------------------------------------------------------------------------------------
    def calls_to(self, *methods: str, ok: bool | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if (not methods or c.method in methods) and (ok is None or c.ok == ok)]

    def wait_for(self, predicate: Callable[[Call], bool] | str, count: int = 1, timeout: float = 20.0) -> list[Call]:
        """Block until `count` recorded calls satisfy `predicate` (or are to that method, ok);
        returns them. Raises AssertionError with what was recorded on timeout."""
        if isinstance(predicate, str):
            method = predicate
            predicate = lambda c: c.method == method and c.ok  # noqa: E731
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if predicate(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {count} matching calls; recorded: "
                                         f"{[(c.method, c.status, c.result.get('error')) for c in self.calls]}")
                self._cond.wait(left)

    def quiet(self, seconds: float = 0.5) -> None:
        """Wait until no call has arrived for `seconds` (to assert that nothing more comes)."""
        while True:
            with self._cond:
                last = max((c.at for c in self.calls), default=0.0)
            idle = time.monotonic() - last
            if idle >= seconds:
                return
            time.sleep(seconds - idle)

    # -- the wire ------------------------------------------------------------------------------------
    def _handle(self, req: BaseHTTPRequestHandler, verb: str) -> None:
        parts = urlsplit(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip()
        if parts.path.startswith("/upload/v1/"):  # raw bytes (or multipart), not form fields
            return self._upload(req, parts.path.rsplit("/", 1)[-1], raw)
        args: dict[str, Any] = dict(parse_qsl(parts.query))
        if raw:
            if ctype == "application/json":
                try:
                    args.update(json.loads(raw))
                except ValueError:
                    return self._send(req, 400, {"ok": False, "error": "invalid_json"})
            else:
                args.update(parse_qsl(raw.decode("utf-8")))
        for key in ("blocks", "attachments", "metadata"):
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass
        if parts.path.startswith("/response/"):
            return self._response_url(req, parts.path.rsplit("/", 1)[-1], args)
        if not parts.path.startswith("/api/"):
            return self._send(req, 404, {"ok": False, "error": "not_found"})
        method = parts.path[len("/api/"):]
        token = (req.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or args.pop("token", "")
        call = Call(method, args)
        limited = self._take_rate_limit(method)
        if limited is not None:
            call.status = 429
            call.result = {"ok": False, "error": "ratelimited"}
            self._record(call)
            return self._send(req, 429, call.result, {"Retry-After": str(limited)})
        if token != self.token:
            call.result = {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        else:
            error = self._take_failure(method)
            call.result = {"ok": False, "error": error} if error else self._api(method, args)
        self._record(call)
        self._send(req, 200, call.result)

    def _upload(self, req: BaseHTTPRequestHandler, file_id: str, raw: bytes) -> None:
        """The upload URL files.getUploadURLExternal hands out: HTTP 200 "OK - <bytes>" as Slack answers."""
        call = Call("upload", {"file_id": file_id, "bytes": len(raw)})
        with self._cond:
            f = self.files.get(file_id)
            if f is None:
                call.status, call.result = 404, {"ok": False, "error": "file_not_found"}
            elif len(raw) != f["length"]:
                call.status, call.result = 400, {"ok": False, "error": "length_mismatch"}
            else:
                f["data"] = raw
                call.result = {"ok": True}
        self._record(call)
        self._send_text(req, call.status, f"OK - {len(raw)}" if call.ok else call.result["error"])

    def _response_url(self, req: BaseHTTPRequestHandler, key: str, args: dict[str, Any]) -> None:
        call = Call(RESPONSE_URL, args, key=key)
        limited = self._take_rate_limit(RESPONSE_URL)
        if limited is not None:
            call.status, call.result = 429, {"ok": False, "error": "ratelimited"}
            self._record(call)
            return self._send_text(req, 429, "rate_limited", {"Retry-After": str(limited)})
        if key in self._expired:
            call.status, call.result = 404, {"ok": False, "error": "expired_url"}
            self._record(call)
            return self._send_text(req, 404, "expired_url")
        error = _valid_blocks(args.get("blocks"))
        if error:
            call.status, call.result = 400, {"ok": False, "error": error}
            self._record(call)
            return self._send_text(req, 400, error)
        call.result = {"ok": True}
        self._record(call)
        self._send_text(req, 200, "ok")

    def _api(self, method: str, a: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            if method == "auth.test":
                return {"ok": True, "url": "https://acme.slack.com/", "team": "Acme", "user": "guildbot",
                        "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                        "is_enterprise_install": False}
            if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
                if not a.get("channel"):
                    return {"ok": False, "error": "channel_not_found"}
                if not a.get("text") and not a.get("blocks"):
                    return {"ok": False, "error": "no_text"}
                error = _valid_blocks(a.get("blocks"))
                if error:
                    return {"ok": False, "error": error}
                channel = self._channel_id(a["channel"])
                if channel is None:
                    return {"ok": False, "error": "channel_not_found"}
                if method == "chat.update":
                    msg = next((m for m in self.messages.get(channel, []) if m["ts"] == a.get("ts")), None)
                    if msg is None:
                        return {"ok": False, "error": "message_not_found"}
                    msg.update({k: a[k] for k in ("text", "blocks", "metadata") if k in a}, edited=True)
                    return {"ok": True, "channel": channel, "ts": msg["ts"], "text": msg.get("text", "")}
                ts = f"{int(time.time())}.{next(self._ts):06d}"  # now, unique: conversations.history filters by it
                if method == "chat.postEphemeral":
                    if a.get("user") not in self.users and not str(a.get("user", "")).startswith(("U", "W")):
                        return {"ok": False, "error": "user_not_found"}
                    return {"ok": True, "message_ts": ts}
                msg = {"ts": ts, "channel": channel, "user": self.bot_user_id, "bot_id": self.bot_id,
                       "text": a.get("text", ""), "blocks": a.get("blocks") or [], "thread_ts": a.get("thread_ts")}
                if isinstance(a.get("metadata"), dict):
                    msg["metadata"] = a["metadata"]
                self.messages.setdefault(channel, []).append(msg)
                return {"ok": True, "channel": channel, "ts": ts, "message": msg}
            if method == "conversations.list":
                listed = [{"id": cid, "name": name, "is_channel": True, "is_member": True}
                          for name, cid in sorted(self.channels.items())]
                return {"ok": True, **self._page(listed, a, "channels")}
            if method == "conversations.history":
                channel = str(a.get("channel", ""))
                if channel.startswith("#") or not channel:
                    return {"ok": False, "error": "channel_not_found"}
                oldest = float(a.get("oldest") or 0)
                with_meta = str(a.get("include_all_metadata", "")).lower() in ("1", "true")
                found = [{k: v for k, v in m.items() if k != "metadata" or with_meta}
                         for m in reversed(self.messages.get(channel, [])) if float(m["ts"]) >= oldest]
                page = self._page(found, a, "messages")
                page["has_more"] = bool(page["response_metadata"]["next_cursor"])
                return {"ok": True, **page}
            if method == "users.lookupByEmail":
                email = (a.get("email") or "").casefold()
                user = next((u for u in self.users.values() if u.email.casefold() == email and email), None)
                return {"ok": True, "user": user.as_dict(self.team_id)} if user else {"ok": False, "error": "users_not_found"}
            if method == "users.info":
                user = self.users.get(a.get("user", ""))
                return {"ok": True, "user": user.as_dict(self.team_id)} if user else {"ok": False, "error": "user_not_found"}
            if method == "conversations.open":
                users = [u for u in str(a.get("users", "")).split(",") if u]
                if not users:
                    return {"ok": False, "error": "users_list_not_supplied"}
                if len(users) > 8:
                    return {"ok": False, "error": "too_many_users"}
                if any(u not in self.users for u in users):
                    return {"ok": False, "error": "user_not_found"}
                if len(users) == 1:
                    return {"ok": True, "channel": {"id": "D" + users[0][1:], "is_im": True}}
                # a multi-person DM: the same members always get the same conversation
                key = ",".join(sorted(users))
                gid = self.mpims.setdefault(key, f"G{len(self.mpims) + 1:08d}")
                return {"ok": True, "channel": {"id": gid, "is_im": False, "is_mpim": True}}
            if method == "files.getUploadURLExternal":
                if not a.get("filename"):
                    return {"ok": False, "error": "invalid_arguments"}
                try:
                    length = int(a.get("length") or 0)
                except ValueError:
                    return {"ok": False, "error": "invalid_arguments"}
                if length <= 0:
                    return {"ok": False, "error": "missing_argument"}  # Slack's answer to length 0
                fid = f"F{next(self._ts):08d}"
                self.files[fid] = {"id": fid, "name": a["filename"], "length": length, "data": None, "shared": []}
                return {"ok": True, "file_id": fid, "upload_url": f"{self.url}upload/v1/{fid}"}
            if method == "files.completeUploadExternal":
                try:
                    items = a["files"] if isinstance(a.get("files"), list) else json.loads(a.get("files") or "")
                except (ValueError, TypeError):
                    return {"ok": False, "error": "invalid_arguments"}
                if not items or any(not isinstance(f, dict) or not f.get("id") for f in items):
                    return {"ok": False, "error": "invalid_arguments"}
                found = [self.files.get(f["id"]) for f in items]
                if any(f is None or f["data"] is None for f in found):
                    return {"ok": False, "error": "file_not_found"}  # unknown id, or nothing uploaded to its URL
                if a.get("thread_ts") and not a.get("channel_id"):
                    return {"ok": False, "error": "invalid_arguments"}
                for f, item in zip(found, items):
                    f["title"] = item.get("title") or f["name"]
                    if a.get("channel_id"):
                        f["shared"].append({"channel": a["channel_id"], "thread_ts": a.get("thread_ts"),
                                            "initial_comment": a.get("initial_comment", "")})
                return {"ok": True, "files": [{"id": f["id"], "name": f["name"], "title": f["title"]} for f in found]}
            if method == "views.publish":
                view = _view_of(a)
                if view is None:
                    return {"ok": False, "error": "invalid_arguments"}
                if a.get("user_id") not in self.users:
                    return {"ok": False, "error": "user_not_found"}
                if not isinstance(view, dict) or view.get("type") != "home":
                    return {"ok": False, "error": "invalid_arguments"}
                if len(view.get("blocks") or []) > 100:  # a home tab holds up to 100 blocks
                    return {"ok": False, "error": "invalid_blocks"}
                error = _valid_blocks((view.get("blocks") or [])[:50]) or _valid_blocks((view.get("blocks") or [])[50:])
                if error:
                    return {"ok": False, "error": error}
                self.homes[a["user_id"]] = view
                return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **view}}
            if method == "views.open":
                view = _view_of(a)
                if view is None:
                    return {"ok": False, "error": "invalid_arguments"}
                if not a.get("trigger_id"):
                    return {"ok": False, "error": "invalid_trigger_id"}
                if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("title"):
                    return {"ok": False, "error": "invalid_arguments"}
                error = _valid_blocks(view.get("blocks"))
                if error:
                    return {"ok": False, "error": error}
                return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **view}}
        return {"ok": False, "error": "unknown_method"}

    def _channel_id(self, channel: str) -> str | None:
        """A channel id for a name ('#ml-guild') or id; None for an unknown name when channels are declared."""
        if channel.startswith("#") and self.channels:
            return self.channels.get(channel[1:])
        return None if channel in self._gone else channel

    @staticmethod
    def _page(items: list, a: dict[str, Any], key: str) -> dict[str, Any]:
        """Cursor pagination as Slack does it: `limit` items from the opaque `cursor` on."""
        start = int(a.get("cursor") or 0)
        limit = max(1, min(int(a.get("limit") or 100), 1000))
        part = items[start:start + limit]
        more = start + limit < len(items)
        return {key: part, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages in a channel (by name or id), oldest first."""
        with self._cond:
            cid = self._channel_id(channel) or ""
            return [m for m in self.messages.get(cid, []) if not m.get("thread_ts")]

    def _take(self, queue: dict, method: str):
        """Use up one of the [times left, value] a test queued for `method`; None when none is left."""
        with self._cond:
            entry = queue.get(method)
            if entry and entry[0] > 0:
                entry[0] -= 1
                return entry[1]
        return None

    def _take_rate_limit(self, method: str) -> int | None:
        return self._take(self._rate_limits, method)

    def _take_failure(self, method: str) -> str | None:
        return self._take(self._failures, method)

    def _record(self, call: Call) -> None:
        call.at = time.monotonic()
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json; charset=utf-8")
        req.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            req.send_header(k, v)
        req.end_headers()
        req.wfile.write(data)

    @staticmethod
    def _send_text(req: BaseHTTPRequestHandler, status: int, text: str, headers: dict | None = None) -> None:
        data = text.encode()
        req.send_response(status)
        req.send_header("Content-Type", "text/plain; charset=utf-8")
        req.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            req.send_header(k, v)
        req.end_headers()
        req.wfile.write(data)
