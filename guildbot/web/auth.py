"""Who is signed in to the web app: resolved once per request, in one place.

    [web] auth = "none"    nobody is signed in; `guildbot serve` listens on 127.0.0.1 unless told
    [web] auth = "proxy"   an authenticating proxy (oauth2-proxy and the like) sets X-Forwarded-Email;
                           the header is believed only from a `trusted_proxies` address, and any
                           other request is refused with 401

The signed-in person is matched through the directory and shown on every page; `ViewerGuild`
hands what they may see (`SignedIn.access`) to every Guild call that filters answers by it.
"""
from __future__ import annotations

import functools
import inspect
import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Callable

from index.expertise.profiles import AmbiguousPerson

from guildbot.config.loader import WebConfig

EMAIL_HEADER = "x-forwarded-email"
EMAIL = re.compile(r"^[^@\s\x00-\x1f]{1,200}@[^@\s\x00-\x1f]{1,200}$")


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in (nobody under auth = "none") and what they may see."""

    email: str = ""
    person_id: str = ""  # empty when the email matches nobody in the directory
    name: str = ""
    team: str = ""
    access: Any = None  # the Guild's viewer, passed as `viewer=` to its calls; None: no filter

    @property
    def signed_in(self) -> bool:
        return bool(self.email)


ANONYMOUS = SignedIn()


class Unauthorized(Exception):
    """A request the web app must refuse with 401; the message says why and what to do."""


class WebAuth:
    def __init__(self, config: WebConfig, guild: Any):
        self.mode = config.auth
        self.guild = guild
        self.trusted = [ipaddress.ip_network(p, strict=False) for p in config.trusted_proxies]

    def from_trusted_proxy(self, host: str | None) -> bool:
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        return any(address in net for net in self.trusted)

    def viewer(self, client_host: str | None, headers: Any) -> SignedIn:
        """The viewer of a request; raises Unauthorized in proxy mode for anything a trusted proxy did not vouch for."""
        if self.mode == "none":
            return ANONYMOUS
        if not self.from_trusted_proxy(client_host):
            raise Unauthorized(f"requests must come through the sign-in proxy; {client_host or 'this address'} "
                               "is not in [web] trusted_proxies")
        email = (headers.get(EMAIL_HEADER) or "").strip()
        if not EMAIL.match(email):
            raise Unauthorized("the sign-in proxy did not say who is signed in (no valid X-Forwarded-Email header)")
        return self.person(email.casefold())

    def person(self, email: str) -> SignedIn:
        """The directory's person for a signed-in email; the email alone when nobody (or several) match."""
        access = self.guild.viewer_for(email=email)  # public sources only when the directory does not know them
        try:
            found = self.guild.person(email, viewer=access)
        except AmbiguousPerson:
            found = None
        if found is None:
            return SignedIn(email=email, access=access)
        return SignedIn(email=email, person_id=found.person_id, name=found.name, team=found.team, access=access)


@functools.lru_cache(maxsize=None)
def _takes_viewer(method: Callable) -> bool:
    try:
        return "viewer" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


class ViewerGuild:
    """The Guild as one signed-in person sees it: every method that accepts `viewer=` gets their access.

    The web's routes talk to this, never to the Guild directly, so the signed-in person reaches
    every Guild call without each route remembering to pass it."""

    def __init__(self, guild: Any, signed_in: SignedIn):
        self._guild, self.signed_in = guild, signed_in

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._guild, name)
        if callable(attr) and _takes_viewer(getattr(type(self._guild), name, attr)):
            return functools.partial(attr, viewer=self.signed_in.access)
        return attr
