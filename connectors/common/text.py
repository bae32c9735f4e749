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


def markdown_outline(md: str) -> list[list[Any]]:
    """[[level, heading], ...] of Markdown's headings in order, each as its line reads in the text."""
    tokens = _markdown().parse(md)
    out: list[list[Any]] = []
    for i, tok in enumerate(tokens[:-1]):
        if tok.type == "heading_open" and tokens[i + 1].type == "inline":
            html = _markdown().renderInline(tokens[i + 1].content)
            text = " ".join(re.sub(r"<[^>]+>", "", html).split())
            import html as html_module

            text = html_module.unescape(text).strip()
            if text:
                out.append([int(tok.tag[1:]), text])
    return out


_TAG = re.compile(r"<[^<>]*>")
_FENCE = re.compile(r"^\s{0,3}(```|~~~).*?^\s{0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)


def markdown_title(md: str) -> str:
    """The first level 1 or 2 heading, outside code blocks ('# install it' in a shell block is a comment)."""
    for line in _FENCE.sub("", md).splitlines():
        m = re.match(r"\s{0,3}#{1,2}\s+(.+?)\s*#*\s*$", line)
        if m:
            return _clean_heading(m.group(1))
    return ""


def _clean_heading(text: str) -> str:
    """A heading's words: 'Installation<a id="installation"></a>' -> 'Installation', emphasis and links' brackets dropped."""
    return " ".join(re.sub(r"[*_`\[\]]", "", _TAG.sub(" ", text)).split())


_RST_SETTINGS = {"report_level": 5, "halt_level": 5, "warning_stream": False, "file_insertion_enabled": False,
                 "raw_enabled": False, "input_encoding": "unicode", "syntax_highlight": "none",
                 "doctitle_xform": True, "sectsubtitle_xform": False, "_disable_config": True}
_RST_ROLE_NAME = re.compile(r"(?<![`\w]):([A-Za-z][\w.+:-]*?):`")
_RST_DROP = ("system_message", "comment", "raw", "image", "substitution_definition", "target", "field_list",
             "docinfo", "problematic", "pending")
_rst_roles: set[str] = set()


def _text_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """Any role docutils does not know (Sphinx's :func:, :ref:, :py:class: ...): its visible text."""
    from docutils import nodes, utils

    text = utils.unescape(text)
    m = re.match(r"^(.*?)\s*<[^<>]*>$", text, re.DOTALL)  # `title <target>`
    shown = (m.group(1) if m and m.group(1) else text).lstrip("~!")
    return [nodes.Text(shown)], []


def _register_roles(rst: str) -> None:
    from docutils.parsers.rst import roles
    from docutils.parsers.rst.languages import en

    for name in set(_RST_ROLE_NAME.findall(rst)) - _rst_roles:
        if name.lower() not in roles._role_registry and name.lower() not in en.roles:
            roles.register_local_role(name, _text_role)
        _rst_roles.add(name)


def _rst_doctree(rst: str):
    from docutils import nodes
    from docutils.core import publish_doctree

    _register_roles(rst)
    tree = publish_doctree(rst, settings_overrides=_RST_SETTINGS)
    drop = tuple(getattr(nodes, n) for n in _RST_DROP)
    for node in list(tree.findall(lambda n: isinstance(n, drop))):
        if node.parent is not None:
            node.parent.remove(node)
    return tree


def rst_document(rst: str) -> tuple[str, str]:
    """(title, text) of reStructuredText, read by docutils: headings and prose kept, markup,
    directives' options, comments and images dropped. Unparsable input is kept as plain text."""
    title, text, _ = rst_parts(rst)
    return title, text


def rst_parts(rst: str) -> tuple[str, str, list[list[Any]]]:
    """(title, text, outline) of reStructuredText; the outline is [[level, heading], ...] of its
    sections in order (the document's own title, promoted by docutils, is not one of them)."""
    from docutils import nodes

    try:
        tree = _rst_doctree(rst)
    except Exception:  # noqa: BLE001 - docutils raises for rare malformed input: index the words
        return "", squeeze(rst), []
    title = tree.next_node(nodes.title)
    outline: list[list[Any]] = []
    for section in tree.findall(nodes.section):
        head = section.next_node(nodes.title)
        if head is None:
            continue
        depth, parent = 1, section.parent
        while parent is not None:
            depth += isinstance(parent, nodes.section)
            parent = parent.parent
        text = " ".join(head.astext().split())
        if text:
            outline.append([depth, text])
    return (title.astext().strip() if title is not None else ""), squeeze(tree.astext()), outline


def rst_to_text(rst: str) -> str:
    return rst_document(rst)[1]


def rst_title(rst: str) -> str:
    return rst_document(rst)[0]


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
        outline = markdown_outline(body)
        return (str(meta.get("title") or markdown_title(body)), markdown_to_text(body),
                {**meta, "outline": outline} if outline else meta)
    if fmt == "rst":
        title, text, outline = rst_parts(raw)
        return title, text, {"outline": outline} if outline else {}
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


def path_words(path: str, vocab: frozenset[str] = frozenset()) -> str:
    """A file path as words, so 'src/drift_monitor/KSTest.py' matches 'drift monitor ks test'; with
    the repository's `vocab`, glued words are cut too ('expandingcutoff.py' -> 'expanding cutoff')."""
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", path)
    words = re.sub(r"[/_.\-]+", " ", words).strip()
    if vocab:
        from connectors.common.identifiers import split_compound
        cut = [w for t in words.split() for w in split_compound(t.casefold(), vocab)]
        words += (" " + " ".join(cut)) if cut else ""
    return f"{path}\n{words}"
