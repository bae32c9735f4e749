"""A local folder of Markdown, reStructuredText and HTML pages (an exported wiki, a docs folder).

The author comes from front matter (`author:` or `authors:`) or `<meta name="author">`. The state
maps each file to its modification time and size, so a re-crawl reads only changed files.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from connectors.base import Checkpoint, Contributor, Deleted, Document, Field, Item, SourceContext, SourceError, Unchanged, make_id
from connectors.common.text import decode, prose_to_text

FORMATS = {".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".txt": "text", ".html": "html", ".htm": "html"}
MAX_FILE_BYTES = 20_000_000


def _authors(meta: dict[str, Any]) -> list[str]:
    raw = meta.get("authors", meta.get("author", []))
    if isinstance(raw, str):
        raw = [a for a in raw.replace(";", ",").split(",")]
    return [str(a).strip() for a in raw if str(a).strip()] if isinstance(raw, list) else []


def _contributor(spec: str, when: datetime) -> Contributor:
    """'Ada Lovelace <ada@x.org>', 'ada@x.org' or 'Ada Lovelace'."""
    name, email = spec, ""
    if "<" in spec and spec.endswith(">"):
        name, email = spec[:-1].split("<", 1)
    elif "@" in spec and " " not in spec:
        name, email = "", spec
    return Contributor(name=name.strip(), email=email.strip().lower(), role="author", last_at=when, first_at=when)


class FilesConnector:
    kind = "files"
    fields = (
        Field("path", str, True, "the folder to read, relative to guild.toml"),
        Field("url", str, False, "base URL the pages are published under; links become URL + relative path"),
    )

    def __init__(self, options: dict[str, Any], ctx: SourceContext):
        self.ctx = ctx
        root = Path(os.path.expanduser(str(options["path"])))
        self.root = root if root.is_absolute() else ctx.base_dir / root
        self.base_url = options.get("url")

    def _url(self, rel: str) -> str:
        return f"{self.base_url.rstrip('/')}/{rel}" if self.base_url else self.root.joinpath(rel).as_uri()

    def crawl(self, state: dict[str, Any] | None) -> Iterator[Item]:
        if not self.root.is_dir():
            raise SourceError(self.ctx.name, f"folder {self.root} does not exist", "fix `path` in guild.toml")
        seen_before: dict[str, list] = dict((state or {}).get("files", {}))
        now: dict[str, list] = {}
        for path in sorted(self.root.rglob("*")):
            fmt = FORMATS.get(path.suffix.lower())
            if not fmt or not path.is_file() or any(p.startswith(".") for p in path.relative_to(self.root).parts):
                continue
            rel = path.relative_to(self.root).as_posix()
            st = path.stat()
            now[rel] = [st.st_mtime_ns, st.st_size]
            doc_id = make_id(self.ctx.name, rel)
            if seen_before.get(rel) == now[rel]:
                yield Unchanged(doc_id)
                continue
            when = datetime.fromtimestamp(st.st_mtime, tz=timezone.utc)
            if st.st_size > MAX_FILE_BYTES:
                title, text, meta = path.stem, rel, {"skipped": f"larger than {MAX_FILE_BYTES // 1_000_000} MB"}
            else:
                title, text, meta = prose_to_text(fmt, decode(path.read_bytes()))
            yield Document(id=doc_id, source=self.ctx.name, team=self.ctx.team, kind="doc",
                           title=title or path.stem.replace("_", " ").replace("-", " "), text=text or rel,
                           url=self._url(rel), path=rel, updated_at=when,
                           contributors=[_contributor(a, when) for a in _authors(meta)],
                           metadata={k: v for k, v in meta.items() if isinstance(v, (str, int, float, list))})
        for rel in seen_before.keys() - now.keys():
            yield Deleted(make_id(self.ctx.name, rel))
        yield Checkpoint({"files": now}, full_sweep=True)
