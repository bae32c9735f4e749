"""Split document text into chunks of about 200 word pieces, each prefixed with its title and,
when the document has an outline, its section's breadcrumb ("title › section › subsection").

MiniLM reads 256 word pieces at most; chunks end at a paragraph or sentence boundary when one
lies in the last part of the window, and consecutive chunks overlap a little.

Sections (a connector's `metadata["outline"]`: [[level, heading], ...], found as lines of the
text in order): a chunk never spans two sections of the same level or above, so a passage is about
one thing and its breadcrumb says which. Sibling subsections too small to stand alone share a
chunk under their parent's breadcrumb, so a page of many short sections does not become many
short chunks (the embedding cost of a crawl grows with the chunks).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from connectors.common.text import drop_repeats

MAX_TOKENS = 200
OVERLAP = 24
MAX_CHUNKS = 300  # about 60k word pieces; the rest of a longer document is not embedded
_BOUNDARY = re.compile(r"\n\s*\n|(?<=[.!?])\s+|\n")
CHARS_PER_TOKEN = 4  # English prose in MiniLM's word pieces, about
CRUMB = " › "  # between the title and the headings of a chunk's first line
MAX_CRUMB_CHARS = 160  # a breadcrumb longer than this keeps its last headings


@dataclass
class Section:
    path: list[str]  # headings from the outermost down to this section's own
    text: str  # with the heading lines of sections packed into it, without its own


def sections(title: str, text: str, outline: Sequence[Sequence[Any]] | None) -> list[Section]:
    """The text cut at the outline's headings (found in order as whole lines; one not found is
    skipped). The part before the first heading has an empty path; a heading equal to the title
    adds nothing to the path."""
    if not outline:
        return [Section([], text)]
    marks: list[tuple[int, int, int, str]] = []
    pos = 0
    for item in outline:
        try:
            level, heading = int(item[0]), str(item[1]).strip()
        except (TypeError, ValueError, IndexError):
            continue
        if not heading:
            continue
        m = re.compile(r"(?m)^[ \t]*" + re.escape(heading) + r"[ \t]*$").search(text, pos)
        if m:
            marks.append((m.start(), m.end(), level, heading))
            pos = m.end()
    if not marks:
        return [Section([], text)]
    out = [Section([], text[:marks[0][0]].strip())]
    stack: list[tuple[int, str]] = []
    for i, (_, end, level, heading) in enumerate(marks):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
        body = text[end:marks[i + 1][0] if i + 1 < len(marks) else len(text)].strip()
        out.append(Section([h for _, h in stack if h.casefold() != title.strip().casefold()], body))
    return [s for s in out if s.text]  # a heading right above its first subsection is in their breadcrumbs


def _pack(parts: list[Section], tokenizer, max_tokens: int) -> list[Section]:
    """Consecutive sections with the same parent, each too small to fill a chunk, as one section under
    the parent (their headings kept as lines); a section never joins another parent's."""
    sizes = [len(s.text) // CHARS_PER_TOKEN + 1 for s in parts]  # an estimate is enough to decide, and costs no tokenizing
    out: list[Section] = []
    group: list[int] = []

    def flush() -> None:
        if not group:
            return
        if len(group) == 1:
            out.append(parts[group[0]])
        else:
            first = parts[group[0]]
            text = "\n\n".join(f"{parts[i].path[-1]}\n{parts[i].text}" if parts[i].path else parts[i].text
                               for i in group)
            out.append(Section(first.path[:-1], text.strip()))
        group.clear()

    for i, s in enumerate(parts):
        if group:
            prev = parts[group[-1]]
            same_parent = prev.path[:-1] == s.path[:-1] and len(prev.path) == len(s.path) and s.path
            if same_parent and sum(sizes[j] + 8 for j in group) + sizes[i] <= max_tokens // 2:
                group.append(i)
                continue
            flush()
        group.append(i)
    flush()
    return out


def breadcrumb(title: str, path: list[str]) -> str:
    """A chunk's first line: the title, then the headings, the innermost kept when it is too long."""
    line = CRUMB.join([title, *path]) if title else CRUMB.join(path)
    while len(line) > MAX_CRUMB_CHARS and len(path) > 1:
        path = path[1:]
        line = CRUMB.join([title, "…", *path])
    return line[:MAX_CRUMB_CHARS * 2]


def section_of(chunk: str) -> list[str]:
    """The headings of a chunk's breadcrumb ([] for a chunk outside any section)."""
    first = chunk.split("\n", 1)[0]
    return [h for h in first.split(CRUMB)[1:] if h != "…"]


def chunk_text(title: str, text: str, tokenizer, max_tokens: int = MAX_TOKENS, overlap: int = OVERLAP,
               max_chunks: int = MAX_CHUNKS, outline: Sequence[Sequence[Any]] | None = None) -> list[str]:
    """Chunks of `text`, each starting with `title` (and its section's headings) on its own line;
    at most `max_chunks` of them."""
    text = text.strip()[: max_chunks * max_tokens * 8]
    prefix = f"{title}\n" if title else ""
    if not drop_repeats(text).strip():
        return [title] if title else []
    parts = sections(title, text, outline)
    if len(parts) > 1:
        parts = _pack(parts, tokenizer, max_tokens)
    chunks: list[str] = []
    for part in parts:
        head = f"{breadcrumb(title, part.path)}\n" if part.path else prefix
        chunks += _window(head, drop_repeats(part.text).strip(), tokenizer, max_tokens, overlap,
                          max_chunks - len(chunks))
        if len(chunks) >= max_chunks:
            break
    return chunks or ([title] if title else [])


def _window(prefix: str, text: str, tokenizer, max_tokens: int, overlap: int, max_chunks: int) -> list[str]:
    """`text` in overlapping windows of at most `max_tokens` word pieces, each after `prefix`."""
    if not text or max_chunks <= 0:
        return []
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False)
    offsets = enc["offset_mapping"]
    if len(offsets) <= max_tokens:
        return [prefix + text]
    chunks, start = [], 0
    while start < len(offsets):
        end = min(start + max_tokens, len(offsets))
        char_start = offsets[start][0]
        char_end = offsets[end - 1][1]
        if end < len(offsets):
            # end at the last boundary in the final 40% of the window, if there is one
            window = text[char_start:char_end]
            cut = None
            for m in _BOUNDARY.finditer(window):
                if m.start() >= len(window) * 0.6:
                    cut = m.start()
            if cut:
                char_end = char_start + cut
                while end > start + 1 and offsets[end - 1][0] >= char_end:
                    end -= 1
        chunks.append(prefix + text[char_start:char_end].strip())
        if end >= len(offsets) or len(chunks) >= max_chunks:
            break
        start = max(end - overlap, start + 1)
    return chunks
