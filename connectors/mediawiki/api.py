"""The MediaWiki action API (api.php): requests, JSON decoding, API errors, continuation and bot-password login."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterator

from connectors.base import SourceError

if TYPE_CHECKING:  # requests loads only when a crawl talks HTTP, not when a question reads the config
    from connectors.common.http import HttpClient

USER_ENV, PASSWORD_ENV = "GUILDBOT_MEDIAWIKI_USER", "GUILDBOT_MEDIAWIKI_PASSWORD"


class Api:
    """api.php over the shared HttpClient: JSON decoding, API errors and continuation."""

    def __init__(self, source: str, url: str, http: HttpClient):
        self.source, self.url, self.http = source, url, http

    def call(self, params: dict[str, Any], post: bool = False) -> dict[str, Any]:
        p = {"format": "json", "formatversion": "2", **{k: _param(v) for k, v in params.items()}}
        r = self.http.get(self.url, data=p, method="POST") if post else self.http.get(self.url, params=p)
        data = self._decode(r.content, p.get("action", ""))
        if "error" in data:
            raise self._error(data["error"])
        return data

    def query(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The `query` part of every response, following `continue` until the result is complete."""
        cont: dict[str, Any] = {}
        while True:
            data = self.call({"action": "query", **params, **cont})
            yield data.get("query") or {}
            nxt = data.get("continue")
            if not nxt:
                return
            if nxt == cont:
                raise SourceError(self.source, f"{self.url} repeated the same continuation {nxt}",
                                  "the wiki's API is misbehaving; check its version and extensions")
            cont = nxt

    def _decode(self, content: bytes, action: str) -> dict[str, Any]:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SourceError(self.source, f"the {action} response of {self.url} is not valid UTF-8 "
                              f"(byte {e.start})", "check that url points at the wiki's api.php and "
                              "that no proxy rewrites its responses")
        if text.lstrip().startswith("<"):
            raise SourceError(self.source, f"{self.url} answered with HTML, not API JSON",
                              "set url to the wiki's api.php, e.g. https://wiki.example/w/api.php")
        try:
            data = json.loads(text)
        except ValueError as e:
            raise SourceError(self.source, f"malformed JSON from {self.url} ({e})",
                              "check that url points at the wiki's api.php, not a login or error page")
        if not isinstance(data, dict):
            raise SourceError(self.source, f"unexpected JSON from {self.url}: not an object",
                              "check that url points at the wiki's api.php")
        return data

    def _error(self, err: Any) -> SourceError:
        err = err if isinstance(err, dict) else {"code": "unknown", "info": str(err)}
        code, info = str(err.get("code", "unknown")), str(err.get("info", ""))[:300]
        if code in ("readapidenied", "permissiondenied") or code.endswith("denied"):
            fix = (f"the wiki is private: create a bot password (Special:BotPasswords) and set {USER_ENV} and "
                   f"{PASSWORD_ENV} (or the variables named by username_env/password_env)")
        elif code in ("ratelimited", "maxlag"):
            fix = "the wiki is busy or rate limiting; crawl again later"
        else:
            fix = "check the source's options in guild.toml and the wiki's API"
        return SourceError(self.source, f"API error {code} from {self.url}: {info}", fix)

    def login(self, user: str, password: str) -> None:
        """Bot-password login; the session keeps the cookies for every later request."""
        token = self.call({"action": "query", "meta": "tokens", "type": "login"})
        lgtoken = ((token.get("query") or {}).get("tokens") or {}).get("logintoken")
        if not lgtoken:
            raise SourceError(self.source, f"{self.url} gave no login token", "check that url is the wiki's api.php")
        res = self.call({"action": "login", "lgname": user, "lgpassword": password, "lgtoken": lgtoken},
                        post=True).get("login") or {}
        if res.get("result") != "Success":
            reason = res.get("reason") or res.get("result") or "no reason given"
            if isinstance(reason, dict):
                reason = reason.get("text") or reason.get("code") or str(reason)
            raise SourceError(self.source, f"login as {user!r} failed: {reason}",
                              "check the bot password (Special:BotPasswords: the user name is "
                              "User@BotName) and its grants (basic rights: read)")


def _param(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (list, tuple, set)):
        return "|".join(str(x) for x in v)
    return str(v)
