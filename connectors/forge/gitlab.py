"""GitLab: every project of a group and its subgroups.

    [[sources]]
    kind = "gitlab"
    name = "gl-search"
    team = "Search"
    group = "northwind/search"          # the full path, or the numeric group id
    # api_url = "https://gitlab.example.com/api/v4"   (default https://gitlab.com/api/v4)
    # include = ["ranker", "ml/*"]   exclude = ["sandbox"]   archived = false
    # token_env = "GITLAB_TOKEN"       (the default; "" for anonymous access to public projects)

Projects come from GET /groups/{group}/projects?include_subgroups=true, 100 a page, following
X-Next-Page (or Link rel="next"). Projects merely shared with the group are left to their own
group's source. A project's name is its path below the group, e.g. "ml/ranker". Each is crawled
with its commits and folders unless `history = false`, as for GitHub.
"""
from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import quote

from connectors.base import Field, SourceError
from connectors.forge.common import COMMON_FIELDS, ForgeApi, ForgeConnector, Repo


class GitLabConnector(ForgeConnector):
    kind = "gitlab"
    fields = (
        Field("group", (str, int), True, "the group's full path (e.g. northwind/search) or numeric id"),
        Field("api_url", str, False, "default https://gitlab.com/api/v4; self-hosted: https://HOST/api/v4"),
        *COMMON_FIELDS,
        Field("token_env", str, False, "environment variable holding the token (default GITLAB_TOKEN)"),
    )
    default_api = "https://gitlab.com/api/v4"
    default_token_env = "GITLAB_TOKEN"
    clone_user = "oauth2"

    def api_headers(self, token: str) -> dict[str, str]:
        return {"PRIVATE-TOKEN": token} if token else {}

    def discover(self, api: ForgeApi) -> Iterator[Repo]:
        group = str(self.options.get("group", "")).strip("/")
        if not group:
            raise SourceError(self.ctx.name, "`group` is empty", 'set group = "your-group/path" or its numeric id')
        params: dict[str, Any] = {"include_subgroups": "true", "with_shared": "false", "per_page": 100,
                                  "order_by": "id", "sort": "asc"}
        if not self.options.get("archived", False):
            params["archived"] = "false"
        url = f"{api.api_url}/groups/{quote(group, safe='')}/projects"
        for page in api.pages(url, params, f"no group {group!r} at {api.api_url}"):
            for p in page:
                yield _repo(self.ctx.name, group, p)


def _repo(source: str, group: str, p: Any) -> Repo:
    if (not isinstance(p, dict) or not isinstance(p.get("path_with_namespace"), str)
            or not isinstance(p.get("http_url_to_repo"), str)):
        raise SourceError(source, f"unexpected project entry from the GitLab API: {str(p)[:200]}",
                          "check that api_url points at the GitLab REST API (…/api/v4)")
    full = p["path_with_namespace"]
    name = full[len(group) + 1:] if full.casefold().startswith(group.casefold() + "/") else full
    web = str(p.get("web_url") or "").rstrip("/")
    topics = p.get("topics") if p.get("topics") is not None else p.get("tag_list")
    return Repo(name=name, clone_url=p["http_url_to_repo"], web_url=web,
                browse_url=(web.replace("{", "{{").replace("}", "}}") + "/-/blob/{commit}/{path}") if web else "",
                description=str(p.get("description") or ""), topics=[str(t) for t in topics or []],
                archived=bool(p.get("archived")))
