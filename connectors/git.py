"""Git repositories: a local path or any URL git can clone.

Prose files (Markdown, reStructuredText, text, notebook Markdown cells) give their text; every
other tracked file gives a path-only document so file names count. Contributors per file come
from one `git log --numstat` pass (mailmap applied, Co-authored-by trailers credited, bots
dropped); the README carries the repository-level contributors. With `history` (the default),
every commit made by a person (subject and body; merges and bots skipped) and every folder of two or
more files (path, names, README or package docstring, subjects of the commits that changed it,
each person's distinct commits) is a document too: evidence for questions about a part of the
repository (connectors/common/history.py). Housekeeping files (.mailmap, lock files, CI configurations,
version bumps: connectors/common/housekeeping.py) are no evidence: they give no document, and changes
to them count towards no folder, commit or repository. Credentials in a URL are never written to disk: the mirror
stores the URL without them and git gets them from the environment on every clone and fetch. The state is the last indexed commit: a re-crawl reads only
the diff since then, and a rewritten history is read again whole.
"""
from __future__ import annotations

import base64
import os
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator
from urllib.parse import unquote, urlsplit, urlunsplit

from connectors.base import Checkpoint, Contributor, Deleted, Document, Field, Item, SourceContext, SourceError, is_bot, make_id
from connectors.common.housekeeping import is_housekeeping
from connectors.common.identifiers import identifier_words, vocabulary
from connectors.common.history import (Commit, Renames, ancestors, renamed, clean_subject, common_folder, docstring, folder_readme, folder_subjects,
                      folder_text, folders_of, message_body, MAX_COMMIT_PATHS, FOLDER_README_CHARS)
from connectors.common.projectfiles import MAX_PROJECT_FILE_BYTES, project_files, project_metadata
from connectors.common.text import PROSE_SUFFIXES, decode, is_binary, path_words, prose_to_text

STATE_VERSION = 5  # 2: commits and folders are documents too; 3: glued words in paths cut, identifiers in commits split;
# 4: housekeeping files dropped (the full re-read deletes their documents); 5: a commit's paths named as they are
# today (a moved file's earlier commits point at it), a co-author repeating an address counted once
MAX_PROSE_BYTES = 5_000_000
INCREMENTAL_PATH_LIMIT = 400  # beyond this many changed paths one full log pass is cheaper
CO_AUTHOR = re.compile(r"^\s*(.*?)\s*<([^>]*)>\s*$")


@dataclass
class _Stat:
    name: str
    email: str
    commits: int = 0
    lines: int = 0
    first: int = 0
    last: int = 0

    def add(self, when: int, lines: int) -> None:
        self.commits += 1
        self.lines += lines
        self.first = min(self.first, when) if self.first else when
        self.last = max(self.last, when)


@dataclass
class _History:
    per_path: dict[str, dict[tuple[str, str], _Stat]] = field(default_factory=lambda: defaultdict(dict))
    per_folder: dict[str, dict[tuple[str, str], _Stat]] = field(default_factory=lambda: defaultdict(dict))
    repo: dict[tuple[str, str], _Stat] = field(default_factory=dict)
    commits: list[Commit] = field(default_factory=list)
    moved: dict[str, set[str]] = field(default_factory=dict)  # sha -> the files it moved, by their names today


def http_auth_config(url: str, user: str, password: str) -> tuple[str, str]:
    """The git config (key, value) that sends HTTP basic auth to the URL's host, and only there."""
    parts = urlsplit(url)
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"http.{parts.scheme}://{parts.netloc.rpartition('@')[2]}/.extraheader", f"Authorization: Basic {basic}"


def split_credentials(url: str) -> tuple[str, list[tuple[str, str]]]:
    """The URL without its credentials, and the git config that authenticates in their stead.

    `git clone` writes its URL into the mirror's config, so a password or token in it would lie on
    disk; the config returned here is meant for the environment only (with_git_config).
    'https://u:p@host/x' -> basic auth for the host; 'https://TOKEN@host/x' -> the user name for
    git's credential lookup (a lone user part may be a token); 'ssh://git@host/x' is no secret and
    stays, 'ssh://u:p@host/x' loses the password, which ssh never reads from a URL anyway.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:  # no credentials, or no URL at all (a path, 'git@host:org/repo.git')
        return url, []
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if parts.scheme.lower() in ("http", "https"):
        clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        if colon:
            return clean, [http_auth_config(clean, unquote(user), unquote(password))]
        return clean, [(f"credential.{parts.scheme}://{host}.username", unquote(user))]
    if colon:
        return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, parts.fragment)), []
    return url, []


def with_git_config(env: dict[str, str], config: list[tuple[str, str]]) -> dict[str, str]:
    """`env` with `config` added to the configuration it gives git (GIT_CONFIG_COUNT/KEY_n/VALUE_n:
    read by git as if passed with -c, written nowhere)."""
    if not config:
        return env
    out = dict(env)
    n = int(out.get("GIT_CONFIG_COUNT") or 0)
    for i, (key, value) in enumerate(config, start=n):
        out[f"GIT_CONFIG_KEY_{i}"], out[f"GIT_CONFIG_VALUE_{i}"] = key, value
    out["GIT_CONFIG_COUNT"] = str(n + len(config))
    return out


def _ts(epoch: int) -> datetime | None:
    return datetime.fromtimestamp(epoch, tz=timezone.utc) if epoch else None


class GitConnector:
    kind = "git"
    fields = (
        Field("url", str, True, "a local repository path or any URL git can clone"),
        Field("branch", str, False, "the branch to read (default: the repository's HEAD)"),
        Field("browse_url", str, False, "link template for files, e.g. https://git.example/x/blob/main/{path}"),
        Field("history", bool, False, "also index commits and folders, for questions about parts of the repository "
                                      "(default true)"),
    )

    def __init__(self, options: dict[str, Any], ctx: SourceContext):
        self.ctx = ctx
        self.url = str(options["url"])
        self.branch = options.get("branch")
        self.browse_url = options.get("browse_url")
        self.history = bool(options.get("history", True))  # commit and folder documents
        local = Path(os.path.expanduser(self.url))
        if not local.is_absolute() and "://" not in self.url and ":" not in self.url.split("/")[0]:
            local = ctx.base_dir / local
        self.local = local if local.exists() else None
        self.git_dir = self.local or ctx.work_dir / "repo.git"
        self.git_env: dict[str, str] = {}  # extra environment for clone and fetch (forge auth config)
        self.vocab: frozenset[str] = frozenset()  # the repository's words, to cut glued file names (set per crawl)

    # -- git plumbing ------------------------------------------------------------------------
    def _git(self, *args: str, input: str | None = None, check: bool = True) -> str:
        cmd = ["git", "-c", "core.quotepath=off", "-C", str(self.git_dir), *args]
        try:
            out = subprocess.run(cmd, input=input, capture_output=True, text=True, errors="replace", timeout=3600)
        except subprocess.TimeoutExpired:
            raise SourceError(self.ctx.name, f"git {args[0]} timed out", "check the repository's size and the network")
        if check and out.returncode != 0:
            raise SourceError(self.ctx.name, f"git {args[0]} failed: {out.stderr.strip()[:300]}",
                              f"check that {self.url} is a readable git repository")
        return out.stdout

    def _sync(self) -> None:
        """Clone or fetch a remote repository into work_dir; local paths are read in place."""
        if self.local:
            if subprocess.run(["git", "-C", str(self.local), "rev-parse", "--git-dir"], capture_output=True).returncode:
                raise SourceError(self.ctx.name, f"{self.local} is not a git repository",
                                  "point url at the folder that holds the repository's .git")
            return
        clean, auth = split_credentials(self.url)  # the mirror's config on disk holds the clean URL only
        env = with_git_config(dict(os.environ, GIT_TERMINAL_PROMPT="0", **self.git_env), auth)
        if (self.git_dir / "HEAD").exists():
            if self._git("config", "--get", "remote.origin.url", check=False).strip() != clean:
                self._git("config", "remote.origin.url", clean)  # a mirror cloned with credentials in its URL loses them
            cmd = ["git", "-C", str(self.git_dir), "fetch", "--prune", "--force", "--quiet", "origin",
                   "+refs/heads/*:refs/heads/*"]
        else:
            self.git_dir.parent.mkdir(parents=True, exist_ok=True)
            cmd = ["git", "clone", "--mirror", "--quiet", clean, str(self.git_dir)]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
        if out.returncode != 0:
            raise SourceError(self.ctx.name, f"cannot fetch {self.url}: {out.stderr.strip()[:300]}",
                              "check the URL, the network and your git credentials")

    def _head(self) -> str | None:
        rev = self.branch or "HEAD"
        out = subprocess.run(["git", "-C", str(self.git_dir), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            if self.branch:
                raise SourceError(self.ctx.name, f"branch {self.branch!r} not found in {self.url}",
                                  "fix `branch` in guild.toml or remove it to read the default branch")
            return None  # an empty repository
        return out.stdout.strip()

    def _is_ancestor(self, old: str, new: str) -> bool:
        return subprocess.run(["git", "-C", str(self.git_dir), "merge-base", "--is-ancestor", old, new],
                              capture_output=True).returncode == 0

    def _tree(self, head: str) -> dict[str, tuple[str, int]]:
        """path -> (blob id, size) for every tracked file at head but housekeeping files, which are no
        evidence: what is not in the tree gives no document, folder entry or Unchanged confirmation."""
        out = self._git("ls-tree", "-r", "-l", "-z", head)
        files = {}
        for rec in out.split("\0"):
            if not rec:
                continue
            meta, _, path = rec.partition("\t")
            parts = meta.split()
            if len(parts) == 4 and parts[1] == "blob" and not is_housekeeping(path):
                files[path] = (parts[2], int(parts[3]) if parts[3].isdigit() else 0)
        return files

    def _blobs(self, oids: list[str]) -> dict[str, bytes]:
        if not oids:
            return {}
        proc = subprocess.run(["git", "-C", str(self.git_dir), "cat-file", "--batch"],
                              input=("\n".join(oids) + "\n").encode(), capture_output=True, timeout=3600)
        data, pos, out = proc.stdout, 0, {}
        for oid in oids:
            nl = data.index(b"\n", pos)
            header = data[pos:nl].split()
            pos = nl + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            out[oid] = data[pos:pos + size]
            pos += size + 1
        return out

    def _mailmap(self, contacts: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
        """Apply .mailmap to Co-authored-by contacts (git applies it to authors itself)."""
        result = {}
        batch = sorted(contacts)
        for i in range(0, len(batch), 200):
            part = batch[i:i + 200]
            out = self._git("check-mailmap", *[f"{n} <{e}>" for n, e in part], check=False).splitlines()
            for (n, e), line in zip(part, out):
                m = CO_AUTHOR.match(line)
                result[(n, e)] = (m.group(1), m.group(2)) if m else (n, e)
        return result

    def _log(self, head: str) -> "_History":
        """Per-path, per-folder and repository-level contributor statistics, and the commits, from one log pass."""
        fmt = "%x1e%H%x1f%P%x1f%aN%x1f%aE%x1f%at%x1f%(trailers:key=Co-authored-by,valueonly,separator=%x1d)%x1f%s%x1f%b%x1f"
        out = self._git("log", head, "-M", "--numstat", f"--format={fmt}")  # -M: a moved file keeps its history
        raw = []
        co_contacts: set[tuple[str, str]] = set()
        for rec in out.split("\x1e")[1:]:
            fields = rec.split("\x1f")
            if len(fields) < 9:
                continue
            sha, parents, name, email, at, trailers, subject, body, rest = fields[:9]
            co = []
            for t in trailers.split("\x1d"):
                m = CO_AUTHOR.match(t.strip()) if t.strip() else None
                if m:
                    co.append((m.group(1), m.group(2)))
                    co_contacts.add(co[-1])
            changes, moves, housekeeping = [], [], False
            for line in rest.strip("\n").splitlines():
                parts = line.split("\t", 2)
                if len(parts) == 3:
                    a, d, p = parts
                    before, p = renamed(p)
                    if is_housekeeping(p):  # no evidence: not a change to any file, folder or commit document
                        housekeeping = True
                        continue
                    changes.append((p, (int(a) if a.isdigit() else 0) + (int(d) if d.isdigit() else 0)))
                    if before and before != p:
                        moves.append((before, p))
            if housekeeping and not changes:
                continue  # a commit that only did housekeeping ('Update .mailmap', 'Bump version') counts nowhere
            raw.append((sha, len(parents.split()) > 1, (name, email), co, int(at or 0), subject, body, changes, moves))
        history = _History()
        # a commit document names the files it changed as they are today, so a question matched through a commit
        # made before a move finds the file; the statistics stay by path at the time (a folder's history is the
        # commits made to it, as `git log -- folder` tells), except that a moved file keeps its own people
        names, today = Renames(), {}
        for sha, _, _, _, _, _, _, changes, moves in raw:  # newest first
            today[sha] = [(names.today(p), n) for p, n in changes]
            if moves:
                history.moved[sha] = {names.today(after) for _, after in moves}
            for before, after in moves:
                names.moved(before, after)
        mapped = self._mailmap(co_contacts) if co_contacts else {}
        for sha, merge, author, co, when, subject, body, changes, moves in reversed(raw):  # oldest first
            for before, after in moves:  # the moved file's people come along
                for key, stat in history.per_path.pop(before, {}).items():
                    into = history.per_path[after].setdefault(key, _Stat(*key))
                    into.commits, into.lines = into.commits + stat.commits, into.lines + stat.lines
                    into.first = min(x for x in (into.first, stat.first) if x) if (into.first or stat.first) else 0
                    into.last = max(into.last, stat.last)
            people: list[tuple[str, str]] = []
            for name, email in [author] + [mapped.get(c, c) for c in co]:
                key = (name.strip(), email.strip().lower())
                # one commit counts once per person: a co-author trailer repeating the author's (or another
                # trailer's) address under another name ('rania', 'Rania Xu') is the same person
                if key in people or (key[1] and any(key[1] == e for _, e in people)):
                    continue
                if not is_bot(name, email) and (key[0] or key[1]):
                    people.append(key)
            history.commits.append(Commit(sha, merge, people, when, subject, body, today[sha]))
            total = sum(n for _, n in changes)
            for key in people:
                history.repo.setdefault(key, _Stat(*key)).add(when, total)
                inside: dict[str, int] = defaultdict(int)
                for path, lines in changes:
                    history.per_path[path].setdefault(key, _Stat(*key)).add(when, lines)
                    for folder in ancestors(path):
                        inside[folder] += lines
                for folder, lines in inside.items():  # one commit counts once per folder
                    history.per_folder[folder].setdefault(key, _Stat(*key)).add(when, lines)
        return history

    # -- documents ---------------------------------------------------------------------------
    def _url(self, path: str, head: str, view: str = "blob") -> str:
        """A link to a file (view "blob"), a folder ("tree") or a commit ("commit": head is its sha)."""
        if self.browse_url:
            return self.browse_url.format(path=path, commit=head)
        m = re.match(r"^(https?://(?:github\.com|gitlab\.com)/[^/]+/[^/]+?)(?:\.git)?/?$", self.url)
        if m:
            return f"{m.group(1)}/commit/{head}" if view == "commit" else f"{m.group(1)}/{view}/{head}/{path}"
        base = str(self.local) if self.local else self.url
        anchor = head if view == "commit" else path
        return f"{base}#{anchor}" if "://" in base else f"file://{base}#{anchor}"

    @staticmethod
    def _contributors(stats: dict[tuple[str, str], _Stat], role: str) -> list[Contributor]:
        return [Contributor(name=s.name, email=s.email, role=role, count=s.commits, lines=s.lines,
                            first_at=_ts(s.first), last_at=_ts(s.last))
                for s in sorted(stats.values(), key=lambda s: -s.commits)]

    def _documents(self, head: str, paths: list[str], tree: dict[str, tuple[str, int]], per_path, repo) -> Iterator[Document]:
        readme = self._readme(tree)
        wanted = sorted(set(paths) | ({readme} if readme else set()))
        formats = {p: PROSE_SUFFIXES.get(PurePosixPath(p).suffix.lower()) or ("text" if p == readme else None)
                   for p in wanted}
        prose = {p: f for p, f in formats.items() if f and tree[p][1] <= MAX_PROSE_BYTES}
        # CODEOWNERS, catalog-info.yaml and package keywords ride on the README's metadata
        extras = [p for p in project_files(tree) if tree[p][1] <= MAX_PROJECT_FILE_BYTES] if readme else []
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            blobs = self._blobs([tree[p][0] for p in part if p in prose or p == readme] +
                                ([tree[p][0] for p in extras] if readme in part else []))
            for path in part:
                doc = self._document(head, path, formats.get(path), blobs.get(tree[path][0]), tree[path][1],
                                     per_path.get(path, {}), repo if path == readme else None)
                if path == readme:
                    doc.metadata.update(project_metadata({p: decode(blobs[tree[p][0]]) for p in extras
                                                          if tree[p][0] in blobs}))
                yield doc

    def _document(self, head, path, fmt, data, size, stats, repo_stats) -> Document:
        name = PurePosixPath(path).name
        meta: dict[str, Any] = {"repo": self.ctx.name, "size": size}
        title, text = "", ""
        if fmt and data is not None and not is_binary(data):
            title, text, extra = prose_to_text(fmt, decode(data))
            meta.update({k: extra[k] for k in ("error", "skipped", "outline") if k in extra})
        elif fmt and size > MAX_PROSE_BYTES:
            meta["skipped"] = f"larger than {MAX_PROSE_BYTES // 1_000_000} MB: indexed by path only"
        is_readme = repo_stats is not None
        kind = "readme" if is_readme else ("doc" if fmt else "code_path")
        if not text:
            text = path_words(path, self.vocab)
        contributors = self._contributors(stats, "author" if fmt else "committer")
        if is_readme:
            contributors = self._contributors(repo_stats, "committer")
            title = title or self.ctx.name
        last = max((s.last for s in stats.values()), default=0)
        return Document(id=make_id(self.ctx.name, path), source=self.ctx.name, team=self.ctx.team, kind=kind,
                        title=title or name, text=text, url=self._url(path, head), path=path,
                        updated_at=_ts(last), contributors=contributors, metadata=meta)

    def _folders(self, head: str, folders: list[str], tree: dict[str, tuple[str, int]], history: _History) -> Iterator[Document]:
        """One document per folder: what it holds, its README or docstring, what changed it, and who."""
        units = folders_of(tree)
        subjects = folder_subjects(history.commits, set(folders))
        about_paths = {f: folder_readme(f, units[f]) for f in folders}
        for i in range(0, len(folders), 500):
            part = folders[i:i + 500]
            blobs = self._blobs([tree[p][0] for f in part if (p := about_paths[f]) and tree[p][1] <= MAX_PROSE_BYTES])
            for folder in part:
                about, path = "", about_paths[folder]
                data = blobs.get(tree[path][0]) if path else None
                if data is not None and not is_binary(data):
                    if path.endswith(".py"):
                        about = docstring(decode(data))
                    else:
                        fmt = PROSE_SUFFIXES.get(PurePosixPath(path).suffix.lower()) or "text"
                        about = prose_to_text(fmt, decode(data))[1][:FOLDER_README_CHARS]
                stats = history.per_folder.get(folder, {})
                yield Document(id=make_id(self.ctx.name, folder), source=self.ctx.name, team=self.ctx.team, kind="folder",
                               title=folder, text=folder_text(folder, units[folder], about, subjects.get(folder, []), self.vocab),
                               url=self._url(folder.rstrip("/"), head, "tree"), path=folder,
                               updated_at=_ts(max((s.last for s in stats.values()), default=0)),
                               contributors=self._contributors(stats, "author"),
                               metadata={"repo": self.ctx.name, "files": len(units[folder])})

    def _commits(self, commits: Iterable[Commit]) -> Iterator[Document]:
        """One document per commit a person made: its message, attached to the paths it changed."""
        for c in commits:
            subject = clean_subject(c.subject)
            if c.merge or not c.people or not c.changes or not subject:
                continue
            paths = [p for p, _ in c.changes]
            when = _ts(c.when)
            body = message_body(c.body)
            named = identifier_words(subject)  # 'Fix ExpandingCutoffSplitter' also says 'expanding cutoff splitter'
            body = body + ("\n" if body else "") + " ".join(named) if named else body
            yield Document(id=make_id(self.ctx.name, f"commit:{c.sha}"), source=self.ctx.name, team=self.ctx.team,
                           kind="commit", title=subject[:200], text=subject + ("\n" + body if body else ""),
                           url=self._url(common_folder(paths), c.sha, "commit"), path=common_folder(paths), updated_at=when,
                           contributors=[Contributor(name=n, email=e, role="author", count=1, lines=c.lines,
                                                     first_at=when, last_at=when) for n, e in c.people],
                           metadata={"repo": self.ctx.name, "sha": c.sha, "files": len(paths),
                                     "paths": paths[:MAX_COMMIT_PATHS]})

    @staticmethod
    def _vocabulary(history: "_History", tree: dict[str, tuple[str, int]]) -> frozenset[str]:
        """The words the repository uses: in its commit subjects and, split, in its paths."""
        return vocabulary([c.subject for c in history.commits] + list(tree))

    @staticmethod
    def _readme(tree: dict[str, tuple[str, int]]) -> str | None:
        roots = sorted((p for p in tree if "/" not in p and p.lower().startswith("readme")),
                       key=lambda p: (PurePosixPath(p).suffix.lower() not in (".md", ".rst"), p))
        return roots[0] if roots else None

    # -- crawl -------------------------------------------------------------------------------
    def crawl(self, state: dict[str, Any] | None) -> Iterator[Item]:
        self._sync()
        head = self._head()
        state = state or {}
        same = state.get("v") == STATE_VERSION and state.get("history", True) == self.history
        old = state.get("commit") if same else None  # a new version or a toggled `history` reads everything again
        if head is None:
            yield Checkpoint({"v": STATE_VERSION, "commit": None, "history": self.history}, full_sweep=True)
            return
        if old == head:
            yield Checkpoint(dict(state))
            return
        tree = self._tree(head)
        if old and self._is_ancestor(old, head):
            changed = self._git("diff", "--name-status", "-z", "--no-renames", old, head).split("\0")
            pairs = list(zip(changed[0::2], changed[1::2]))
            upserts = [p for s, p in pairs if s[:1] in "AMT" and p in tree]
            if len(upserts) <= INCREMENTAL_PATH_LIMIT:
                history = self._log(head)
                self.vocab = self._vocabulary(history, tree)
                new = set(self._git("rev-list", f"{old}..{head}").split())
                yield from self._documents(head, upserts, tree, history.per_path, history.repo)
                for s, p in pairs:
                    if s.startswith("D") and p not in tree:
                        yield Deleted(make_id(self.ctx.name, p))
                units = folders_of(tree) if self.history else {}
                touched = sorted({f for _, p in pairs for f in ancestors(p)}) if self.history else []
                yield from self._folders(head, [f for f in touched if f in units], tree, history)
                for f in touched:
                    if f not in units:
                        yield Deleted(make_id(self.ctx.name, f))
                if self.history:
                    # the new commits, and the earlier ones that changed a file a new commit moved: their paths are renamed
                    moved = set().union(*(history.moved.get(sha, set()) for sha in new))
                    yield from self._commits(c for c in history.commits if c.sha in new or (moved and moved.intersection(p for p, _ in c.changes)))
                yield Checkpoint({"v": STATE_VERSION, "commit": head, "history": self.history})
                return
        # first crawl, rewritten history (force-push) or a very large change: read everything
        history = self._log(head)
        self.vocab = self._vocabulary(history, tree)
        yield from self._documents(head, sorted(tree), tree, history.per_path, history.repo)
        if self.history:
            yield from self._folders(head, sorted(folders_of(tree)), tree, history)
            yield from self._commits(history.commits)
        yield Checkpoint({"v": STATE_VERSION, "commit": head, "history": self.history}, full_sweep=True)
