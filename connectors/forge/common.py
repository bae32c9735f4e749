"""What the GitHub and GitLab connectors share: the forge API, repo selection, per-repo git crawls.

A forge source is one organisation, user or group. Its repositories are discovered through the
forge's REST API (paginated, authenticated, rate-limit aware) and each is crawled with the git
connector in its own work folder. Document ids carry the repository: `<source>:<repo>/<path>`.

The state is `{"v", "repos": {repo: {"git": <git state>, "meta": {...}, "url": clone url}}}`.
Every repository ends with a Checkpoint, so progress survives a failure. A crawl in which every
repository succeeded ends with a full sweep: the files of unchanged repositories are confirmed
with Unchanged (listed from git, so no document ids live in the state), and the pipeline deletes
whatever was not seen: files of repositories that left the org, were excluded or archived.

With `history` (the default, as for a git source) each repository's commits and folders are
documents too (`<source>:<repo>/commit:<sha>`, `<source>:<repo>/<folder>/`), so questions about a
part of a repository find who changed it; the sweep confirms them as it confirms files.
"""
from __future__ import annotations

import fnmatch
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, ClassVar, Generator, Iterator
from urllib.parse import quote, urlsplit

from requests.structures import CaseInsensitiveDict
from requests.utils import parse_header_links

from connectors.base import Checkpoint, Deleted, Document, Field, Item, SourceContext, SourceError, Unchanged, make_id
from connectors.common.history import folders_of
from connectors.git import GitConnector, http_auth_config, with_git_config
from connectors.common.http import HttpClient, Response, rate_limit_wait
from connectors.common.redact import register_secret

STATE_VERSION = 1
MAX_RATE_LIMIT_WAIT = 60.0  # seconds we sleep for an exhausted rate limit before giving up with an error
MAX_PAGES = 1000
RATE_LIMIT_ATTEMPTS = 3

COMMON_FIELDS = (
    Field("include", list, False, "only these repositories (names or glob patterns)"),
    Field("exclude", list, False, "skip these repositories (names or glob patterns)"),
    Field("archived", bool, False, "also crawl archived repositories (default false)"),
    Field("history", bool, False, "also index each repository's commits and folders, for questions about parts "
                                  "of a repository (default true)"),
)


@dataclass
class Repo:
    """One repository as the forge API describes it."""

    name: str  # unique within the source; becomes the id prefix and metadata["repo"]
    clone_url: str
    web_url: str = ""
    browse_url: str = ""  # link template with {commit} and {path}, as the git connector takes it
    description: str = ""
    topics: list[str] = field(default_factory=list)
    archived: bool = False


def select(repos: list[Repo], include: list[str], exclude: list[str], archived: bool) -> list[Repo]:
    """The repositories to crawl: include/exclude by name or glob, archived ones only when asked."""

    def hit(name: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(name.casefold(), p.casefold()) for p in patterns)

    return [r for r in repos
            if (archived or not r.archived) and (not include or hit(r.name, include)) and not hit(r.name, exclude)]


def clone_env(clone_url: str, user: str, token: str) -> dict[str, str]:
    """Git config in the environment that sends the token to the clone URL's host only.

    An http.<url>.extraheader keeps the token out of the clone URL, the mirror's config on disk,
    git's messages and therefore the crawl report.
    """
    if not token or urlsplit(clone_url).scheme not in ("http", "https"):
        return {}
    git_config = {k: v for k, v in os.environ.items() if k.startswith("GIT_CONFIG_")}
    return with_git_config(git_config, [http_auth_config(clone_url, user, token)])


class ForgeApi:
    """GET JSON from a forge's REST API: auth errors named, rate limits waited out, pages followed."""

    def __init__(self, source: str, api_url: str, headers: dict[str, str], token_env: str,
                 max_wait: float = MAX_RATE_LIMIT_WAIT):
        self.source, self.api_url, self.token_env, self.max_wait = source, api_url.rstrip("/"), token_env, max_wait
        self.http = HttpClient(source, headers=headers)
        origin = urlsplit(self.api_url)
        self.origin = (origin.scheme, origin.netloc)

    def get(self, url: str, params: dict[str, Any] | None = None, what: str = "") -> Response:
        for _ in range(RATE_LIMIT_ATTEMPTS):
            r = self.http.get(url, params=params, ok=(200, 401, 403, 404))
            if r.status == 200:
                return r
            if r.status == 401:
                raise SourceError(self.source, f"HTTP 401 from {url}: the token in ${self.token_env} was not accepted"
                                  if self.token_env else f"HTTP 401 from {url}: the API wants a token",
                                  f"put a valid token with read access in ${self.token_env or '<token_env>'}")
            if r.status == 404:
                raise SourceError(self.source, f"HTTP 404 from {url}: {what or 'not found'}",
                                  "check the name in guild.toml and that the token can see it")
            wait = rate_limit_wait(r.headers)  # 429 and 5xx were retried by HttpClient already
            if wait is None:
                raise SourceError(self.source, f"HTTP 403 from {url}: access denied",
                                  f"check that the token in ${self.token_env} may read it")
            if wait > self.max_wait:
                at = datetime.fromtimestamp(time.time() + wait, tz=timezone.utc).strftime("%H:%M:%S UTC")
                raise SourceError(self.source, f"API rate limit exhausted at {url}; it resets in {wait:.0f}s (at {at})",
                                  "crawl again after the reset, or use a token with a higher limit")
            self.http.sleep(wait)
        raise SourceError(self.source, f"{url} is still rate limited after {RATE_LIMIT_ATTEMPTS} waits",
                          "crawl again later")

    def pages(self, url: str, params: dict[str, Any], what: str = "") -> Iterator[list[dict[str, Any]]]:
        """Every page of a list endpoint, following Link rel="next" or else X-Next-Page."""
        seen: set[tuple[str, str]] = set()
        for _ in range(MAX_PAGES):
            key = (url, str(params))
            if key in seen:
                raise SourceError(self.source, f"pagination of {url} loops", "report this to the forge's admins")
            seen.add(key)
            r = self.get(url, params, what)
            data = r.json(self.source)
            if not isinstance(data, list):
                raise SourceError(self.source, f"expected a JSON list from {r.url}, got {type(data).__name__}",
                                  "check that api_url points at the REST API root")
            yield data
            headers = CaseInsensitiveDict(r.headers)
            nxt = next((link["url"] for link in parse_header_links(headers.get("Link", ""))
                        if "next" in link.get("rel", "").split()), None)
            if nxt:
                parts = urlsplit(nxt)
                if (parts.scheme, parts.netloc) != self.origin:
                    raise SourceError(self.source, f"the next page link leaves {self.api_url}: {nxt}",
                                      "set api_url to the address the API itself uses")
                url, params = nxt, {}
            elif (headers.get("X-Next-Page") or "").strip().isdigit():
                params = {**params, "page": headers["X-Next-Page"].strip()}
            else:
                return
        raise SourceError(self.source, f"{url} has more than {MAX_PAGES} pages", "narrow the source with include")


class ForgeConnector:
    """A forge source: discover repositories through the API, crawl each with the git connector.

    Subclasses set the class attributes and implement api_headers() and discover().
    """

    kind: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]]
    default_api: ClassVar[str]
    default_token_env: ClassVar[str]
    clone_user: ClassVar[str]  # the user name sent with the token in git's HTTP basic auth

    def __init__(self, options: dict[str, Any], ctx: SourceContext):
        self.ctx, self.options = ctx, options
        self.api_url = str(options.get("api_url") or self.default_api).rstrip("/")
        self.token_env = str(options.get("token_env", self.default_token_env))

    def api_headers(self, token: str) -> dict[str, str]:
        raise NotImplementedError

    def discover(self, api: ForgeApi) -> Iterator[Repo]:
        raise NotImplementedError

    def _names(self, key: str) -> list[str]:
        value = self.options.get(key) or []
        if not all(isinstance(v, str) for v in value):
            raise SourceError(self.ctx.name, f"`{key}` must be a list of repository names",
                              f'write e.g. {key} = ["recsys", "ml-*"]')
        return list(value)

    def _token(self) -> str:
        if not self.token_env:
            return ""  # token_env = "" asks for anonymous access (public repositories only)
        token = os.environ.get(self.token_env, "").strip()
        register_secret(token)  # masked in every message and log line from now on
        if not token:
            raise SourceError(self.ctx.name, f"no API token: the environment variable {self.token_env} is not set",
                              f"export {self.token_env}=<a token that can read the repositories>, name another "
                              f'variable with token_env, or set token_env = "" for public repositories')
        return token

    def crawl(self, state: dict[str, Any] | None) -> Iterator[Item]:
        include, exclude = self._names("include"), self._names("exclude")
        token = self._token()
        api = ForgeApi(self.ctx.name, self.api_url, self.api_headers(token), self.token_env)
        repos = select(list(self.discover(api)), include, exclude, bool(self.options.get("archived", False)))
        names = [r.name for r in repos]
        if len(set(names)) != len(names):
            raise SourceError(self.ctx.name, "the API listed a repository name twice", "exclude the duplicate")
        if not self.ctx.allow_shrink:
            check_shrink(self.ctx.name, state, names, include, exclude)
        yield from crawl_repos(self.ctx, repos, state, lambda url: clone_env(url, self.clone_user, token),
                               history=bool(self.options.get("history", True)))


def check_shrink(source: str, state: dict[str, Any] | None, names: list[str], include: list[str],
                 exclude: list[str]) -> None:
    """Refuse a listing that suddenly lost every repository, or more than half, of the last crawl's.

    A forge answering an empty or partial list (a token that lost access, an API hiccup) must not
    delete an organisation's documents; `crawl --allow-shrink` accepts a real shrink. Repositories
    the current include/exclude would skip anyway do not count.
    """
    old = list(((state or {}).get("repos") or {})) if (state or {}).get("v") == STATE_VERSION else []
    expected = [r.name for r in select([Repo(n, "") for n in old], include, exclude, archived=True)]
    lost = sorted(set(expected) - set(names))
    if expected and (not names or len(lost) * 2 > len(expected)):
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        raise SourceError(source, f"the repository listing returned {len(names)} repositories where the last crawl "
                          f"had {len(expected)} ({len(lost)} missing: {shown}); the old documents were kept",
                          "check the token's access and the organisation name; if the repositories really left, "
                          "crawl again with --allow-shrink")


def _work_dir(ctx: SourceContext, repo: str) -> Path:
    return ctx.work_dir / quote(repo, safe="")


def crawl_repos(ctx: SourceContext, repos: list[Repo], state: dict[str, Any] | None,
                git_env: Callable[[str], dict[str, str]] = lambda url: {}, history: bool = True) -> Iterator[Item]:
    """Crawl each repository with the git connector; ids, source and metadata rewritten per repo.

    `git_env(clone_url)` gives extra environment for clone and fetch (auth). One failing
    repository does not stop the others; the crawl then raises one SourceError naming them all.
    """
    old: dict[str, Any] = dict((state or {}).get("repos", {})) if (state or {}).get("v") == STATE_VERSION else {}
    done: dict[str, Any] = {}
    failures: list[str] = []
    for repo in repos:
        entry = old.get(repo.name) or {}
        meta = {"description": repo.description, "topics": repo.topics}
        git_state = entry.get("git")
        if entry.get("meta") != meta:
            git_state = None  # read the repository again so its README carries the new description and topics
        if entry.get("url") and entry["url"] != repo.clone_url:
            shutil.rmtree(_work_dir(ctx, repo.name), ignore_errors=True)  # the mirror fetches from its old remote
        try:
            new_git = yield from _crawl_repo(ctx, repo, git_state, git_env(repo.clone_url), history)
        except SourceError as e:
            failures.append(f"{repo.name}: {e.cause}")
            if entry:
                done[repo.name] = entry
            continue
        done[repo.name] = {"git": new_git, "meta": meta, "url": repo.clone_url}
        yield Checkpoint({"v": STATE_VERSION, "repos": {**old, **done}})
    if failures:  # no full sweep: the failed repositories' documents must stay
        raise SourceError(ctx.name, f"{len(failures)} of {len(repos)} repositories failed: " + "; ".join(failures),
                          "the other repositories were indexed; fix these and crawl again")
    yield Checkpoint({"v": STATE_VERSION, "repos": done}, full_sweep=True)
    for gone in set(old) - set(done):
        shutil.rmtree(_work_dir(ctx, gone), ignore_errors=True)


def _crawl_repo(ctx: SourceContext, repo: Repo, git_state: dict[str, Any] | None,
                env: dict[str, str], history: bool = True) -> Generator[Item, None, dict[str, Any] | None]:
    """Yield one repository's items under the forge source; return its new git state."""
    sub = SourceContext(name=f"{ctx.name}/{repo.name}", team=ctx.team, work_dir=_work_dir(ctx, repo.name),
                        base_dir=ctx.base_dir)
    options: dict[str, Any] = {"url": repo.clone_url, "history": history}
    if repo.browse_url:
        options["browse_url"] = repo.browse_url
    git = GitConnector(options, sub)
    git.git_env = env
    prefix = make_id(sub.name, "")

    def doc_id(inner: str) -> str:
        return make_id(ctx.name, f"{repo.name}/{inner[len(prefix):]}")

    yielded: set[str] = set()
    new_state = git_state
    for item in git.crawl(git_state):
        if isinstance(item, Checkpoint):
            new_state = item.state
        elif isinstance(item, Document):
            item.id, item.source = doc_id(item.id), ctx.name
            item.metadata["repo"] = repo.name
            if item.kind == "readme":
                if item.title == sub.name:
                    item.title = repo.name
                item.metadata.update(project=repo.name, description=repo.description, topics=list(repo.topics),
                                     repo_url=repo.web_url)
            yielded.add(item.id)
            yield item
        elif isinstance(item, (Deleted, Unchanged)):
            item.id = doc_id(item.id)
            yield item
    commit = (new_state or {}).get("commit")
    if commit:  # confirm the files (and folders and commits) that did not change, so the source's final full sweep keeps them
        tree = git._tree(commit)
        units = list(tree)
        if history:  # a commit id that never became a document (a merge, a bot's) confirms nothing: harmless
            units += list(folders_of(tree)) + [f"commit:{sha}" for sha in git._git("rev-list", "--no-merges", commit).split()]
        for inner in units:
            if (i := make_id(ctx.name, f"{repo.name}/{inner}")) not in yielded:
                yield Unchanged(i)
    return new_state
