"""Split document text into chunks of about 200 word pieces, each prefixed with its title.

MiniLM reads 256 word pieces at most; chunks end at a paragraph or sentence boundary when one
lies in the last part of the window, and consecutive chunks overlap a little.
"""
from __future__ import annotations

import re

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
