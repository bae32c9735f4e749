"""Who is signed in to the web app: resolved once per request, in one place.

    [web] auth = "none"    nobody is signed in; `guildbot serve` listens on 127.0.0.1 unless told
    [web] auth = "proxy"   an authenticating proxy (oauth2-proxy and the like) sets X-Forwarded-Email;
                           the header is believed only from a `trusted_proxies` address, and any
                           other request is refused with 401

The signed-in person is matched through the directory and shown on every page; `ViewerGuild`
hands what they may see (`SignedIn.access`) to every Guild call that filters answers by it.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from index.expertise.profiles import AmbiguousPerson

from guildbot.config.loader import WebConfig

if TYPE_CHECKING:
    from index.catalog.build import Project
    from index.catalog.overlaps import Overlap
    from index.catalog.teams import Team
    from index.expertise.experts import Expert
    from index.expertise.profiles import Profile, SimilarPerson
    from index.retrieval.facets import SearchPage
    from index.retrieval.search import Hit

    from guildbot.config.loader import Config
    from guildbot.guild import Guild

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


class ViewerGuild:
    """The Guild as one signed-in person sees it: each answer the web shows is asked with their access.

    The routes talk to this, never to the Guild directly (the `viewer_guild` dependency in
    web/deps.py builds it per request), so no route can forget the viewer. Every method the web
    uses is listed here with the Guild's own signature minus `viewer`."""

    def __init__(self, guild: "Guild", signed_in: SignedIn):
        self._guild, self.signed_in = guild, signed_in
        self.access = signed_in.access

    @property
    def config(self) -> "Config":
        return self._guild.config

    def search(self, query: str, limit: int = 10, team: str | None = None, **kw: Any) -> list["Hit"]:
        return self._guild.search(query, limit, team, viewer=self.access, **kw)

    def search_page(self, query: str, team: str | None = None, source: str | None = None, kind: str | None = None,
                    since: str | None = None, page: int = 1, per_page: int = 10, **kw: Any) -> "SearchPage":
        return self._guild.search_page(query, team, source, kind, since, page, per_page, viewer=self.access, **kw)

    def experts(self, question: str, limit: int = 10, team: str | None = None, **kw: Any) -> list["Expert"]:
        return self._guild.experts(question, limit, team, viewer=self.access, **kw)

    def sources(self) -> list[dict[str, Any]]:
        return self._guild.sources(viewer=self.access)

    def projects(self, team: str | None = None, topic: str | None = None) -> list["Project"]:
        return self._guild.projects(team, topic, viewer=self.access)

    def project(self, name: str) -> "Project | None":
        return self._guild.project(name, viewer=self.access)

    def projects_of(self, doc_ids: list[str]) -> dict[str, "Project"]:
        return self._guild.projects_of(doc_ids, viewer=self.access)

    def project_documents(self, project_id: str, limit: int = 50) -> list[dict[str, Any]]:
        return self._guild.project_documents(project_id, limit, viewer=self.access)

    def project_overlaps(self, project_id: str) -> list["Overlap"]:
        return self._guild.project_overlaps(project_id, viewer=self.access)

    def overlaps(self, limit: int = 10, include_same_team: bool = False, min_score: float | None = None) -> list["Overlap"]:
        return self._guild.overlaps(limit, include_same_team, min_score, viewer=self.access)

    def people(self) -> list[dict[str, Any]]:
        return self._guild.people(viewer=self.access)

    def person(self, query: str) -> "Profile | None":
        return self._guild.person(query, viewer=self.access)

    def similar(self, person: str, limit: int = 5) -> list["SimilarPerson"]:
        return self._guild.similar(person, limit, viewer=self.access)

    def at_risk(self, team: str | None = None) -> list[dict[str, Any]]:
        return self._guild.at_risk(team, viewer=self.access)

    def teams(self) -> list["Team"]:
        return self._guild.teams(viewer=self.access)

    def team(self, name: str) -> "Team | None":
        return self._guild.team(name, viewer=self.access)

    # -- the signed-in person's own consent (the /me page): never anyone else's -----------------------------
    def me(self) -> "Profile | None":
        """The signed-in person's own profile (all of it: they see themselves); None when nobody is signed
        in or the directory does not know them."""
        if not self.signed_in.person_id:
            return None
        return self._guild.whoami(email=self.signed_in.email) or self._guild.person(self.signed_in.person_id)

    def my_consent(self) -> dict[str, Any]:
        return dict(self._guild.consent(self.signed_in.person_id))

    def my_suggestions(self) -> int:
        pid = self.signed_in.person_id
        return self._guild.suggestion_counts([pid]).get(pid, 0)

    def set_my_consent(self, **change: Any) -> None:
        """Change the signed-in person's consent (Guild.set_consent's keywords); ValueError for a bad pause."""
        if not self.signed_in.person_id:
            raise PermissionError("nobody the directory knows is signed in")
        self._guild.set_consent(self.signed_in.person_id, **change)

