"""Split document text into chunks of about 200 word pieces, each prefixed with its title.

MiniLM reads 256 word pieces at most; chunks end at a paragraph or sentence boundary when one
lies in the last part of the window, and consecutive chunks overlap a little.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from connectors.common.identifiers import identifier_words
from connectors.common.text import drop_repeats

MAX_TOKENS = 200
OVERLAP = 24
MAX_CHUNKS = 300  # about 60k word pieces; the rest of a longer document is not embedded
_BOUNDARY = re.compile(r"\n\s*\n|(?<=[.!?])\s+|\n")


def chunk_text(title: str, text: str, tokenizer, max_tokens: int = MAX_TOKENS, overlap: int = OVERLAP,
               max_chunks: int = MAX_CHUNKS) -> list[str]:
    """Chunks of `text`, each starting with `title` on its own line; at most `max_chunks` of them."""
    text = drop_repeats(text).strip()[: max_chunks * max_tokens * 8]
    prefix = f"{title}\n" if title else ""
    if not text:
        return [title] if title else []
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


def embedding_input(chunk: str) -> str:
    """What the embedding model reads for a chunk: the chunk, and the words inside its identifiers
    ('AlternatingLeastSquares', 'BayesSearchCV': 'alternating least squares', 'bayes search cv'). The
    model cuts a glued identifier into word pieces that mean little, so an API page made of class names
    would match no question in words; full-text search already reads the words (index/storage). The
    stored chunk, shown in snippets, stays as written; past the model's window the words change nothing."""
    words = identifier_words(chunk)
    return f"{chunk}\n{' '.join(words)}" if words else chunk


# -- sections ----------------------------------------------------------------------------------------
# A connector keeps the outline of a document's headings (metadata["outline"]: [[level, heading], ...],
# wikitext, Markdown, reStructuredText). Search names and links the section its best passage lies in.
# Chunks themselves do not follow sections: chunks cut at headings with the breadcrumb in their first
# line were measured on the evaluation orgs (issue 25) and cost answers and moved the experts.
CRUMB = " › "


def heading_marks(text: str, outline: Sequence[Sequence[Any]] | None) -> list[tuple[int, int, str]]:
    """(offset, level, heading) of the outline's headings found in `text` as whole lines, in order; a
    heading not found (or malformed) is skipped."""
    marks: list[tuple[int, int, str]] = []
    pos = 0
    for item in outline or []:
        try:
            level, heading = int(item[0]), str(item[1]).strip()
        except (TypeError, ValueError, IndexError):
            continue
        if not heading:
            continue
        m = re.compile(r"(?m)^[ \t]*" + re.escape(heading) + r"[ \t]*$").search(text, pos)
        if m:
            marks.append((m.start(), level, heading))
            pos = m.end()
    return marks


def section_at(title: str, text: str, outline: Sequence[Sequence[Any]] | None, offset: int) -> list[str]:
    """The headings, outermost first, of the section holding `offset` of `text` ([] before the first
    heading or without an outline); a heading equal to the title adds nothing."""
    stack: list[tuple[int, str]] = []
    for start, level, heading in heading_marks(text, outline):
        if start > offset:
            break
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
    return [h for _, h in stack if h.casefold() != title.strip().casefold()]


def passage_section(title: str, text: str, outline: Sequence[Sequence[Any]] | None, chunk: str,
                    terms: Sequence[str] = ()) -> list[str]:
    """The section (as `section_at`) of a stored chunk of this document: where the chunk starts, or,
    when headings fall inside it, the part of it holding most of `terms` (lower-case words). [] when
    the chunk is not found in the text."""
    if not outline or "\n" not in chunk:
        return []
    body = chunk.split("\n", 1)[1].strip()
    cleaned = drop_repeats(text)
    start = cleaned.find(body[:160]) if body else -1
    if start < 0:
        return []
    end = start + len(body)
    cuts = [start] + [at for at, _, _ in heading_marks(cleaned, outline) if start < at < end]
    if len(cuts) > 1 and terms:
        parts = [(cleaned[a:b].casefold(), a) for a, b in zip(cuts, cuts[1:] + [end])]
        best = max(parts, key=lambda p: sum(p[0].count(t) for t in terms))
        if sum(best[0].count(t) for t in terms):
            start = best[1]
    return section_at(title, cleaned, outline, start)
