"""GitHub (and GitHub Enterprise): every repository of an organisation or a user.

    [[sources]]
    kind = "github"
    name = "gh-home-feed"
    team = "Home Feed"
    org = "northwind-home"              # or user = "someone"
    # api_url = "https://ghe.example.com/api/v3"   (GitHub Enterprise)
    # include = ["recsys", "feed-*"]   exclude = ["sandbox"]   archived = false
    # token_env = "GITHUB_TOKEN"       (the default; "" for anonymous access to public repositories)

Repositories come from GET /orgs/{org}/repos (or /users/{user}/repos), 100 a page, following
Link rel="next"; each is crawled by the git connector (see connectors/forge/common.py), with its
commits and folders unless `history = false`, so "who built this part?" finds who changed it.
"""
from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import quote

from connectors.base import Field, SourceError
from connectors.forge.common import COMMON_FIELDS, ForgeApi, ForgeConnector, Repo


class GitHubConnector(ForgeConnector):
    kind = "github"
    fields = (
        Field("org", str, False, "the organisation whose repositories to crawl"),
        Field("user", str, False, "or: the user whose own repositories to crawl"),
        Field("api_url", str, False, "default https://api.github.com; GitHub Enterprise: https://HOST/api/v3"),
        *COMMON_FIELDS,
        Field("token_env", str, False, "environment variable holding the token (default GITHUB_TOKEN)"),
    )
    default_api = "https://api.github.com"
    default_token_env = "GITHUB_TOKEN"
    clone_user = "x-access-token"

    def api_headers(self, token: str) -> dict[str, str]:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def discover(self, api: ForgeApi) -> Iterator[Repo]:
        org, user = self.options.get("org"), self.options.get("user")
        if bool(org) == bool(user):
            raise SourceError(self.ctx.name, "set exactly one of `org` and `user`",
                              'e.g. org = "northwind" for an organisation, user = "ada" for a personal account')
        if org:
            url, params = f"{api.api_url}/orgs/{quote(org, safe='')}/repos", {"per_page": 100, "type": "all"}
            what = f"no organisation {org!r} at {api.api_url} (for a personal account use user = {org!r})"
        else:
            url, params = f"{api.api_url}/users/{quote(user, safe='')}/repos", {"per_page": 100, "type": "owner"}
            what = f"no user {user!r} at {api.api_url}"
        for page in api.pages(url, params, what):
            for r in page:
                yield _repo(self.ctx.name, r)


def _repo(source: str, r: Any) -> Repo:
    if not isinstance(r, dict) or not isinstance(r.get("name"), str) or not isinstance(r.get("clone_url"), str):
        raise SourceError(source, f"unexpected repository entry from the GitHub API: {str(r)[:200]}",
                          "check that api_url points at the GitHub REST API")
    html = str(r.get("html_url") or "").rstrip("/")
    return Repo(name=r["name"], clone_url=r["clone_url"], web_url=html,
                browse_url=(html.replace("{", "{{").replace("}", "}}") + "/blob/{commit}/{path}") if html else "",
                description=str(r.get("description") or ""), topics=[str(t) for t in r.get("topics") or []],
                archived=bool(r.get("archived")))
