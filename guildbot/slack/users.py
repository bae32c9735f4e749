"""Slack users and the people of the index: Slack ids for mentions, and who is asking.

- `SlackIds.resolve(people)`: person id -> Slack id, from the directory, else users.lookupByEmail;
- `SlackIds.profile(user)`: email and names from users.info (for a mention of someone the
  directory does not know by Slack id);
- `SlackIds.viewer(guild, user)`: what the asking Slack user may see: their directory team by
  Slack id, else by the email users.info gives (index/people/visibility.py). Everything is cached for
  `ttl` seconds; a failed Slack call is not cached, because an outage is not an answer.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Iterable

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from index.people.visibility import Viewer

from guildbot.guild import Guild

log = logging.getLogger("guildbot.slack")
TTL = 3600.0
VIEWER_TTL = 600.0  # a team move in the directory counts within ten minutes
CACHED = 50_000      # entries kept at most per cache


class SlackIds:
    def __init__(self, client: WebClient | None, ttl: float = TTL):
        self.client, self.ttl = client, ttl
        # Slack ids and profiles for an hour; a person's viewer (their team) for ten minutes
        self._caches = {"long": TTLCache(maxsize=CACHED, ttl=ttl), "viewer": TTLCache(maxsize=CACHED, ttl=VIEWER_TTL)}
        self._lock = threading.Lock()

    def _cache(self, key: str) -> TTLCache:
        return self._caches["viewer" if key.startswith("viewer:") else "long"]

    def _cached(self, key: str, ttl: float | None = None) -> tuple[bool, Any]:
        with self._lock:
            cache = self._cache(key)
            return (True, cache[key]) if key in cache else (False, None)

    def _keep(self, key: str, value: Any) -> Any:
        with self._lock:
            self._cache(key)[key] = value
        return value

    def by_email(self, email: str) -> str:
        email = (email or "").strip().casefold()
        if not email or self.client is None:
            return ""
        known, value = self._cached(f"email:{email}", self.ttl)
        if known:
            return value
        try:
            user = self.client.users_lookupByEmail(email=email)["user"]
            found = "" if user.get("deleted") or user.get("is_bot") else user.get("id", "")
        except SlackApiError as e:
            if e.response.get("error") not in ("users_not_found", "user_not_found"):
                log.warning("users.lookupByEmail failed for %s: %s", email, e.response.get("error"))
                return ""
            found = ""
        except Exception as e:  # noqa: BLE001 - the answer goes out without mentions rather than not at all
            log.warning("users.lookupByEmail failed for %s: %s", email, e)
            return ""
        return self._keep(f"email:{email}", found)

    def resolve(self, people: Iterable[Any]) -> dict[str, str]:
        """person_id -> Slack id for people with `person_id`, `slack_id` and `emails`."""
        out = {}
        for p in people:
            sid = p.slack_id or next((s for s in (self.by_email(e) for e in p.emails) if s), "")
            if sid:
                out[p.person_id] = sid
        return out

    def profile(self, user: str) -> dict[str, str] | None:
        """{"email", "real_name", "display_name"} of a Slack user from users.info; None when unknown."""
        if not user or self.client is None:
            return None
        known, value = self._cached(f"user:{user}", self.ttl)
        if known:
            return value
        try:
            info = self.client.users_info(user=user)["user"]
        except SlackApiError as e:
            log.info("users.info %s: %s", user, e.response.get("error"))
            return None
        except Exception as e:  # noqa: BLE001 - without the profile the question is still answered
            log.warning("users.info %s failed: %s", user, e)
            return None
        p = info.get("profile") or {}
        return self._keep(f"user:{user}", {"email": p.get("email", ""), "real_name": p.get("real_name") or info.get("real_name", ""),
                                           "display_name": p.get("display_name", "")})

    def viewer(self, guild: Guild, user: str) -> Viewer:
        """What Slack user `user` may see: their directory team's sources; public ones when the
        directory knows them neither by Slack id nor by their Slack email."""
        known, value = self._cached(f"viewer:{user}", VIEWER_TTL)
        if known:
            return value
        found = guild.viewer_for(slack_id=user)
        if not found.team:
            email = (self.profile(user) or {}).get("email", "")
            if email:
                found = guild.viewer_for(email=email)
        return self._keep(f"viewer:{user}", found)
