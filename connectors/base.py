"""Core types every connector speaks: Document, Contributor, Deleted, Unchanged, Checkpoint.

A connector turns one configured source into a stream of these items. It knows nothing of the
index: the pipeline (index/ingest/pipeline.py) consumes the stream, stores what changed, and persists
the state carried by each Checkpoint so the next crawl fetches only what changed since.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Iterator, Protocol, Union, runtime_checkable

from connectors.common.redact import redact  # every message a SourceError carries is free of credentials

ROLES = ("author", "editor", "committer", "owner", "mentioned")


@dataclass
class Contributor:
    """How one person touched one document."""

    name: str = ""
    email: str = ""
    username: str = ""
    role: str = "author"
    count: int = 1  # commits, revisions or edits
    lines: int = 0  # lines added + deleted, where the source knows
    first_at: datetime | None = None
    last_at: datetime | None = None


@dataclass
class Document:
    """One unit of knowledge: a wiki page, a README, a doc file, a code path."""

    id: str  # stable: "<source>:<external id>"
    source: str
    team: str
    kind: str  # wiki_page, readme, doc, code_path, web_page, ...
    title: str
    text: str
    url: str = ""
    path: str = ""  # file path for git documents, page title for wiki pages
    updated_at: datetime | None = None
    contributors: list[Contributor] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Deleted:
    """The document with this id no longer exists at the source."""

    id: str


@dataclass
class Unchanged:
    """The document with this id still exists and did not change (e.g. HTTP 304)."""

    id: str


@dataclass
class Checkpoint:
    """Everything yielded so far is consistent: store it together with this state.

    full_sweep=True means the crawl enumerated every live document of the source since it
    started, so any stored document of the source that was not yielded has been deleted.
    """

    state: dict[str, Any]
    full_sweep: bool = False


Item = Union[Document, Deleted, Unchanged, Checkpoint]


class SourceError(Exception):
    """A source cannot be crawled. The message names the source, the cause and the fix."""

    def __init__(self, source: str, cause: str, fix: str = ""):
        self.source, self.cause, self.fix = source, redact(cause), redact(fix)
        super().__init__(f"source {source!r}: {self.cause}" + (f" — {self.fix}" if fix else ""))


@dataclass(frozen=True)
class Field:
    """One configuration key a connector accepts in its [[sources]] entry."""

    name: str
    type: type | tuple[type, ...] = str
    required: bool = False
    help: str = ""


@runtime_checkable
class Connector(Protocol):
    """One source kind. Built from its [[sources]] entry; crawl() streams what changed.

    `state` is the dict of the last Checkpoint that was stored (None on a first crawl).
    A connector must end a successful crawl with a Checkpoint.
    """

    kind: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]]

    def crawl(self, state: dict[str, Any] | None) -> Iterator[Item]: ...


@dataclass(frozen=True)
class SourceContext:
    """What every connector gets besides its own options."""

    name: str
    team: str
    work_dir: Path  # a private folder under data_dir for clones and caches
    base_dir: Path  # the folder of guild.toml: relative paths resolve against it
    allow_shrink: bool = False  # `crawl --allow-shrink`: a forge listing may lose most repositories


BOT_PATTERNS = re.compile(
    r"(\[bot\]|\(bot\)|\bbot\b|dependabot|github-actions|pre-commit-ci|renovate|greenkeeper|"
    r"snyk-bot|codecov|allcontributors|web-flow|imgbot|mergify)",
    re.IGNORECASE,
)


BOT_SUFFIX = re.compile(r"(?:[a-z0-9]Bot|[-_. ](?i:bot))$")  # MaintenanceBot, deploy-bot; not Talbot


def is_bot(name: str = "", email: str = "", username: str = "") -> bool:
    """True for automation accounts that must never become people."""
    return any(BOT_PATTERNS.search(v) or BOT_SUFFIX.search(v) for v in (name, email, username) if v)


def make_id(source: str, external_id: str) -> str:
    return f"{source}:{external_id}"
