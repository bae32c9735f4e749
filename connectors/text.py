"""Markup to plain text: Markdown, HTML, reStructuredText and Jupyter notebooks.

Shared by the connectors that read files or pages. Pure functions; nothing here does I/O.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _markdown():
    """The Markdown renderer, loaded on first use (answering a question never needs it)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


BOILERPLATE_TAGS = ("script", "style", "nav", "header", "footer", "aside", "noscript", "template", "svg", "form")
MAX_TEXT_CHARS = 2_000_000  # beyond this a document is truncated, never loaded whole into the index

PROSE_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".txt": "text",
                  ".ipynb": "notebook", ".html": "html", ".htm": "html"}


def squeeze(text: str) -> str:
    """Collapse runs of blank lines and trailing spaces."""
    text = re.sub(r"[ \t\r\f\v]+\n", "\n", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str, *, remove_boilerplate: bool = True) -> tuple[str, dict[str, str]]:
    """Visible text of an HTML page and its useful head metadata (title, author, canonical)."""
    from bs4 import BeautifulSoup, NavigableString  # here, not at import: config loading imports this module

    soup = BeautifulSoup(html, "html.parser")
    meta: dict[str, str] = {}
    if soup.title and soup.title.string:
        meta["title"] = soup.title.string.strip()
    for m in soup.find_all("meta"):
        key = (m.get("name") or m.get("property") or "").lower()
        if key in ("author", "description", "keywords", "article:author") and m.get("content"):
            meta.setdefault("author" if "author" in key else key, m["content"].strip())
    link = soup.find("link", rel=lambda r: r and "canonical" in r)
    if link and link.get("href"):
        meta["canonical"] = link["href"]
    if remove_boilerplate:
        for tag in soup.find_all(BOILERPLATE_TAGS):
            tag.decompose()
        for tag in soup.find_all(attrs={"role": ["navigation", "banner", "contentinfo"]}):
            tag.decompose()
    body = soup.find("main") or soup.find("article") or soup.body or soup
    for br in body.find_all("br"):
        br.replace_with("\n")
    for block in body.find_all(["p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "section"]):
        block.insert_after("\n")
        before = block.previous_sibling
        if isinstance(before, NavigableString) and before and not before[-1].isspace():
            block.insert_before("\n")  # text running straight into a block must not glue to it
    for cell in body.find_all(["td", "th"]):
        cell.insert_after(" ")  # table cells must not glue their words together
    if "title" not in meta:
        h1 = body.find("h1")
        if h1:
            meta["title"] = h1.get_text(" ", strip=True)
    return squeeze(body.get_text()), meta


FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter (`---` fenced) as a dict, and the rest of the text."""
    m = FRONT_MATTER.match(text)
    if not m:
        return {}, text
    import yaml

    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}, text
    return (data if isinstance(data, dict) else {}), text[m.end():]


def markdown_to_text(md: str) -> str:
    text, _ = html_to_text(_markdown().render(md), remove_boilerplate=False)
    return text


def markdown_title(md: str) -> str:
    for line in md.splitlines():
        m = re.match(r"\s{0,3}#{1,2}\s+(.+?)\s*#*\s*$", line)
        if m:
            return re.sub(r"[*_`\[\]]", "", m.group(1)).strip()
    return ""


_RST_UNDERLINE = re.compile(r"^\s*(\S{1,60}?)\1{2,}\s*$")  # '=====', or any unit repeated as decoration
_RST_DIRECTIVE = re.compile(r"^\s*\.\.\s+([\w:-]+)::\s*(.*)$")
_RST_ROLE = re.compile(r":[\w:+-]+:`([^`<]*?)(?:\s*<[^>]*>)?`")


def rst_to_text(rst: str) -> str:
    """A light reStructuredText reader: keeps headings and prose, drops markup and directives' options."""
    out = []
    for line in rst.splitlines():
        if _RST_UNDERLINE.match(line):
            continue
        d = _RST_DIRECTIVE.match(line)
        if d:
            if d.group(1) in ("image", "figure", "toctree", "include", "raw", "contents", "automodule", "autoclass"):
                continue
            line = d.group(2)
        elif re.match(r"^\s*:[\w -]+:", line) or re.match(r"^\s*\.\.\s*(_[^:]+:|\|)", line):
            continue
        line = _RST_ROLE.sub(r"\1", line)
        line = re.sub(r"`([^`<]+?)\s*<[^>]+>`_+", r"\1", line)
        line = re.sub(r"``([^`]+)``", r"\1", line)
        line = re.sub(r"\*\*([^*]+)\*\*|\*([^*]+)\*", lambda m: m.group(1) or m.group(2), line)
        out.append(line)
    return squeeze("\n".join(out))


def rst_title(rst: str) -> str:
    lines = rst.splitlines()
    for i in range(len(lines) - 1):
        if lines[i].strip() and _RST_UNDERLINE.match(lines[i + 1]) and len(lines[i + 1].strip()) >= len(lines[i].strip()) - 1:
            if not _RST_UNDERLINE.match(lines[i]):
                return lines[i].strip()
    return ""


def notebook_to_text(raw: str) -> str:
    """The Markdown cells of a Jupyter notebook, as text. Raises ValueError on malformed JSON."""
    nb = json.loads(raw)
    parts = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            parts.append(markdown_to_text("".join(src) if isinstance(src, list) else str(src)))
    return squeeze("\n\n".join(parts))


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with BOM) first, invalid sequences replaced rather than failing."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


def is_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def prose_to_text(fmt: str, raw: str) -> tuple[str, str, dict[str, Any]]:
    """(title, text, metadata) of a prose file in one of PROSE_SUFFIXES' formats."""
    raw = raw[:MAX_TEXT_CHARS]
    title, text, meta = _prose_to_text(fmt, raw)
    if text and not looks_like_prose(text):
        return title, "", {**meta, "skipped": "not prose (mostly numbers or symbols): indexed by path only"}
    return title, text, meta


def _prose_to_text(fmt: str, raw: str) -> tuple[str, str, dict[str, Any]]:
    if fmt == "markdown":
        meta, body = split_front_matter(raw)
        return str(meta.get("title") or markdown_title(body)), markdown_to_text(body), meta
    if fmt == "rst":
        return rst_title(raw), rst_to_text(raw), {}
    if fmt == "notebook":
        try:
            text = notebook_to_text(raw)
        except (ValueError, AttributeError, TypeError):
            return "", "", {"error": "malformed notebook JSON"}
        return markdown_title(text), text, {}
    if fmt == "html":
        text, meta = html_to_text(raw)
        return meta.get("title", ""), text, meta
    return "", squeeze(raw), {}


REPEATED_UNIT = re.compile(r"([^\w\s]{1,3})\1{3,}|(\S{4,60}?)\2{2,}")


def drop_repeats(text: str) -> str:
    """Remove decoration: punctuation repeated ('=====', '-*-*-*-*') or a longer unit repeated three
    times or more (a string pasted as a heading rule). It only adds noise to words and vectors."""
    return REPEATED_UNIT.sub(" ", text)


def looks_like_prose(text: str, sample: int = 20000) -> bool:
    """False for data dumps saved as text (model files, CSV-like numbers): most tokens are not words."""
    tokens = text[:sample].split()
    if len(tokens) < 20:
        return True
    words = sum(1 for t in tokens if re.fullmatch(r"[^\W\d_]{2,}[.,;:!?)\]'\"]*", t.strip("([\"'")))
    return words / len(tokens) >= 0.35


def path_words(path: str) -> str:
    """A file path as words, so 'src/drift_monitor/KSTest.py' matches 'drift monitor ks test'."""
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", path)
    words = re.sub(r"[/_.\-]+", " ", words)
    return f"{path}\n{words.strip()}"
