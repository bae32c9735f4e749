"""Units of a repository's history: commits and folders, as pure functions over parsed `git log`.

A question about a part of a repository ("who built the drift detectors?") is answered by the
people who changed that part, so besides its files a repository yields:
- one `commit` document per non-merge, non-bot commit: its subject and body (trailers dropped)
  as text, its author and co-authors as contributors, the paths it changed in its metadata and
  their deepest common folder as its path;
- one `folder` document per directory holding at least MIN_FOLDER_FILES files: its path, the
  names of what it holds, its README or package docstring, and the subjects of the commits that
  changed mostly it, with each person's distinct commits to the folder (not a sum over files,
  which would count a commit touching twenty files twenty times).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Iterable

from connectors.common.text import path_words

MIN_FOLDER_FILES = 2  # a folder with one file says no more than the file
FOLDER_SUBJECTS = 40  # commit subjects kept in a folder's text
SUBJECT_FOCUS = 0.2  # a commit describes a folder when at least this share of the files it changed lie there
FOLDER_NAMES = 150  # names of a folder's entries kept in its text
MAX_BODY_CHARS = 2000
MAX_COMMIT_PATHS = 50  # changed paths kept in a commit's metadata
DOCSTRING_CHARS = 1000
FOLDER_README_CHARS = 1500

TRAILER = re.compile(r"^\s*[A-Za-z][\w-]*(?:-by|-to)\s*:", re.IGNORECASE)  # Signed-off-by:, Co-authored-by:, Reported-to:
TAGS = re.compile(r"^\s*(?:(?:\[[^\]\n]{1,24}\]|[A-Z]{2,8}:|[a-z]{2,10}(?:\([^)\n]{0,30}\))?!?:)\s*)+")
PR_REF = re.compile(r"\s*\((?:#|!)\d+\)\s*$|\s+(?:#|!)\d+\s*$")
DOCSTRING = re.compile(r'\A(?:\s*#[^\n]*\n|\s)*(?:[rRuU]{0,2})("""|\'\'\')(.*?)\1', re.DOTALL)
FOLDER_README = re.compile(r"^readme(?:\.(?:md|markdown|rst|txt))?$", re.IGNORECASE)


@dataclass
class Commit:
    sha: str
    merge: bool
    people: list[tuple[str, str]]  # (name, email): author first, then co-authors; bots dropped
    when: int
    subject: str
    body: str
    changes: list[tuple[str, int]] = field(default_factory=list)  # (path, lines added + deleted)

    @property
    def lines(self) -> int:
        return sum(n for _, n in self.changes)


def clean_subject(subject: str) -> str:
    """'[ENH] Add NSGA-II sampler (#123)' -> 'Add NSGA-II sampler'; 'feat(io): read parquet' -> 'read parquet'."""
    text = PR_REF.sub("", subject.strip())
    stripped = TAGS.sub("", text, count=1).strip()
    return stripped or text


def message_body(body: str) -> str:
    """A commit body without trailers (Co-authored-by, Signed-off-by), squeezed and capped."""
    lines = [ln for ln in body.splitlines() if not TRAILER.match(ln)]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text[:MAX_BODY_CHARS]


def renamed(field: str) -> tuple[str | None, str]:
    """A `git log --numstat -M` path: 'a/{x => y}/f.py' -> ('a/x/f.py', 'a/y/f.py'), 'f.py => g.py' ->
    ('f.py', 'g.py'), 'f.py' -> (None, 'f.py')."""
    m = re.match(r"^(.*)\{(.*) => (.*)\}(.*)$", field)
    if m:
        pre, a, b, post = m.groups()
        return re.sub("//+", "/", pre + a + post).lstrip("/"), re.sub("//+", "/", pre + b + post).lstrip("/")
    if " => " in field:
        a, b = field.split(" => ", 1)
        return a, b
    return None, field


class Renames:
    """The names paths have today, for a log read newest first: name a commit's paths (`today`), then record its
    moves (`moved`), so that each commit's paths go through the moves made after it ('a.py' changed, then
    moved to 'b.py', then to 'c.py': the change was to 'c.py'). A path later freed and used again by a new
    file is that file's only for the commits after the move."""

    def __init__(self) -> None:
        self._later: dict[str, str] = {}

    def today(self, path: str) -> str:
        return self._later.get(path, path)

    def moved(self, before: str, after: str) -> None:
        self._later[before] = self.today(after)


def ancestors(path: str) -> list[str]:
    """'a/b/c.py' -> ['a/', 'a/b/'] (folders with a trailing slash, the root excluded)."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def common_folder(paths: Iterable[str]) -> str:
    """The deepest folder holding every path ('' for the root)."""
    split = [p.split("/")[:-1] for p in paths]
    if not split:
        return ""
    prefix = split[0]
    for parts in split[1:]:
        n = 0
        while n < min(len(prefix), len(parts)) and prefix[n] == parts[n]:
            n += 1
        prefix = prefix[:n]
    return "/".join(prefix) + "/" if prefix else ""


def folders_of(tree: Iterable[str], min_files: int = MIN_FOLDER_FILES) -> dict[str, list[str]]:
    """folder -> the files under it (at any depth), for folders holding at least `min_files` files."""
    files: dict[str, list[str]] = defaultdict(list)
    for path in tree:
        for folder in ancestors(path):
            files[folder].append(path)
    return {f: sorted(ps) for f, ps in files.items() if len(ps) >= min_files}


def docstring(source: str) -> str:
    """The module docstring of a Python file (a package's __init__.py), capped."""
    m = DOCSTRING.match(source[:20000])
    return re.sub(r"\s+", " ", m.group(2)).strip()[:DOCSTRING_CHARS] if m else ""


def folder_readme(folder: str, tree: Iterable[str]) -> str | None:
    """The README right inside `folder`, else its package __init__.py, else None."""
    inside = [p for p in tree if p.startswith(folder) and "/" not in p[len(folder):]]
    readmes = sorted(p for p in inside if FOLDER_README.match(PurePosixPath(p).name))
    if readmes:
        return readmes[0]
    init = folder + "__init__.py"
    return init if init in inside else None


def folder_entries(folder: str, files: Iterable[str], vocab: frozenset[str] = frozenset()) -> list[str]:
    """The names right inside a folder: its files and subfolders, as words (glued ones cut by `vocab`)."""
    names = {p[len(folder):].split("/", 1)[0] for p in files}
    return [path_words(n, vocab).split("\n", 1)[-1] for n in sorted(names)][:FOLDER_NAMES]


def folder_subjects(commits: Iterable[Commit], folders: set[str]) -> dict[str, list[str]]:
    """folder -> subjects of the commits that changed mostly it, biggest change first."""
    scored: dict[str, list[tuple[float, int, str]]] = defaultdict(list)
    for c in commits:
        if c.merge or not c.changes or not c.people:  # merges and bots' commits describe nothing
            continue
        subject = clean_subject(c.subject)
        if not subject:
            continue
        inside: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for path, lines in c.changes:
            for folder in ancestors(path):
                if folder in folders:
                    inside[folder][0] += 1
                    inside[folder][1] += lines
        for folder, (n, lines) in inside.items():
            focus = n / len(c.changes)
            if focus >= SUBJECT_FOCUS:
                scored[folder].append((focus, lines, subject))
    out = {}
    for folder, rows in scored.items():
        rows.sort(key=lambda r: (-r[0], -r[1]))
        out[folder] = list(dict.fromkeys(s for _, _, s in rows))[:FOLDER_SUBJECTS]
    return out


def folder_text(folder: str, files: list[str], about: str, subjects: list[str], vocab: frozenset[str] = frozenset()) -> str:
    """What a folder is about: its path, what it holds, its README or docstring, what changed it."""
    parts = [path_words(folder.rstrip("/"), vocab), "holds: " + ", ".join(folder_entries(folder, files, vocab))]
    if about:
        parts.append(about)
    if subjects:
        parts.append("changes: " + "\n".join(subjects))
    return "\n".join(parts)
