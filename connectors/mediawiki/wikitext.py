"""Wikitext to readable plain text (mwparserfromhell's parse tree rendered node by node)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import mwparserfromhell
from mwparserfromhell.nodes import (Argument, Comment, ExternalLink, Heading, HTMLEntity, Tag, Template, Text,
                                    Wikilink)
from mwparserfromhell.wikicode import Wikicode

from connectors.common.text import MAX_TEXT_CHARS, squeeze

DROP_TAGS = frozenset({"ref", "references", "gallery", "imagemap", "math", "chem", "timeline", "graph", "score",
                       "mapframe", "maplink", "templatedata", "templatestyles", "categorytree", "inputbox", "style",
                       "script", "indicator"})
BLOCK_TAGS = frozenset({"p", "div", "blockquote", "pre", "center", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
                        "li", "dl", "dt", "dd", "hr", "section", "poem", "syntaxhighlight", "source"})
DEFAULT_HIDDEN_NAMESPACES = frozenset({"file", "image", "media", "category"})
BEHAVIOR_SWITCH = re.compile(r"__[A-Z]{3,}__")  # __NOTOC__, __HIDDENCAT__, ...


def wikitext_to_text(wikitext: str, hidden_namespaces: Iterable[str] = DEFAULT_HIDDEN_NAMESPACES) -> str:
    """Readable plain text of wikitext.

    Link text is kept, templates read as their parameter values, table rows as one line of
    cells joined by " | "; references, comments, files, categories and magic words are dropped.
    `hidden_namespaces` are lower-case namespace names whose links render no text (File:, Category:).
    """
    return wikitext_parts(wikitext, hidden_namespaces)[0]


def wikitext_parts(wikitext: str, hidden_namespaces: Iterable[str] = DEFAULT_HIDDEN_NAMESPACES
                   ) -> tuple[str, list[list[Any]]]:
    """(text, outline) of wikitext, parsed once: the text of `wikitext_to_text`, and [[level, heading], ...]
    of the page's section headings in order (== H == is level 2), each as its line reads in the text."""
    hidden = {n.casefold() for n in hidden_namespaces}
    code = mwparserfromhell.parse(wikitext[:MAX_TEXT_CHARS])
    outline: list[list[Any]] = []
    for node in code.filter_headings(recursive=False):
        heading = " ".join(BEHAVIOR_SWITCH.sub("", _render(node.title, hidden).replace("\xa0", " ")).split())
        if heading:
            outline.append([int(node.level), heading])
    text = BEHAVIOR_SWITCH.sub("", _render(code, hidden).replace("\xa0", " "))
    return squeeze("\n".join(line.strip() for line in text.splitlines())), outline


def _render(code: Wikicode | None, hidden: set[str]) -> str:
    if code is None:
        return ""
    return "".join(_node(n, hidden) for n in code.nodes)


def _node(node: Any, hidden: set[str]) -> str:
    if isinstance(node, Text):
        return str(node.value)
    if isinstance(node, Comment):
        return ""
    if isinstance(node, HTMLEntity):
        return node.normalize()
    if isinstance(node, Heading):
        return "\n" + _render(node.title, hidden).strip() + "\n"
    if isinstance(node, Wikilink):
        return _link(node, hidden)
    if isinstance(node, ExternalLink):
        if node.title is not None:
            return _render(node.title, hidden)
        return "" if node.brackets else str(node.url)
    if isinstance(node, Template):
        return _template(node, hidden)
    if isinstance(node, Argument):
        return _render(node.default, hidden)
    if isinstance(node, Tag):
        return _tag(node, hidden)
    return ""


def _link(node: Wikilink, hidden: set[str]) -> str:
    target = str(node.title).strip()
    explicit = target.startswith(":")  # [[:Category:X]] links to the category instead of adding the page to it
    target = target.lstrip(":")
    namespace = target.split(":", 1)[0].strip().casefold() if ":" in target else ""
    if namespace in hidden and not explicit:
        return ""
    if node.text is not None:
        return _render(node.text, hidden)
    return target


def _template(node: Template, hidden: set[str]) -> str:
    """A template as the text of its parameters; parser functions and magic words read as nothing.

    The template's own wording lives on another page and is not expanded: what a page says
    through a template is mostly in its arguments ({{Note|...}}, infobox fields).
    """
    name = str(node.name).strip()
    if not name or name.startswith("#") or ":" in name:  # {{#if:...}}, {{DISPLAYTITLE:...}}
        return ""
    parts = []
    for param in node.params:
        value = _render(param.value, hidden).strip()
        if not value:
            continue
        parts.append(f"{str(param.name).strip()}: {value}" if param.showkey else value)
    return " ".join(parts)


def _tag(node: Tag, hidden: set[str]) -> str:
    tag = str(node.tag).strip().casefold()
    if tag in DROP_TAGS:
        return ""
    if tag == "table":
        return "\n" + _table(node, hidden) + "\n"
    if tag in ("br", "hr"):
        return "\n"
    if tag in ("li", "dt") and node.wiki_markup:
        return ""  # a list marker at the start of its line
    if tag == "dd":
        return " " if node.wiki_markup else "\n" + _render(node.contents, hidden) + "\n"
    inner = _render(node.contents, hidden) if node.contents is not None else ""
    return f"\n{inner}\n" if tag in BLOCK_TAGS else inner


def _table(node: Tag, hidden: set[str]) -> str:
    """One line per row, cells joined by ' | '; the caption on its own line first."""
    caption: list[list[str]] = []
    loose: list[str] = []  # cells before the first row marker form an implicit first row
    rows: list[list[str]] = []
    for child in node.contents.nodes if node.contents is not None else []:
        if not isinstance(child, Tag):
            continue
        kind = str(child.tag).casefold()
        if kind == "tr":
            rows.append(_cells(child, hidden))
        elif kind == "caption" or _is_caption(child):
            caption.append([_cell(child, hidden)])
        elif kind in ("td", "th"):
            loose.append(_cell(child, hidden))
    return "\n".join(" | ".join(c for c in row if c) for row in caption + [loose] + rows if any(row))


def _is_caption(cell: Tag) -> bool:
    """mwparserfromhell reads a table caption (|+) as a cell whose text starts with '+'."""
    return cell.wiki_markup == "|" and str(cell.contents).lstrip().startswith("+")


def _cells(row: Tag, hidden: set[str]) -> list[str]:
    return [_cell(c, hidden) for c in (row.contents.nodes if row.contents is not None else [])
            if isinstance(c, Tag) and str(c.tag).casefold() in ("td", "th")]


def _cell(cell: Tag, hidden: set[str]) -> str:
    text = " ".join(_render(cell.contents, hidden).split())
    return text[1:].strip() if _is_caption(cell) else text
