"""Identifiers as words: 'ExpandingCutoffSplitter', 'soft_dtw' and 'expandingcutoff.py' should
match a question about an "expanding cutoff splitter" or "soft DTW".

CamelCase and snake_case split by their own marks; a run of lower-case letters written together
('expandingcutoff') is cut into words the repository itself uses elsewhere (in commit messages,
in other file names, split the first way). Pure functions.
"""
from __future__ import annotations

import re
from typing import Iterable

MIN_PIECE = 3  # shorter pieces ('a', 'to') would cut any word somewhere
MIN_COMPOUND = 7  # shorter runs are words or acronyms, not two words glued together
MAX_RUN = 40
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def pieces(token: str) -> list[str]:
    """'ExpandingCutoffSplitter' -> ['expanding', 'cutoff', 'splitter']; 'HTTPServer2' -> ['http', 'server', '2']."""
    return [p.casefold() for part in re.split(r"[_\-.]+", token) for p in CAMEL.findall(part)]


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """The words a repository uses on their own: every piece of every identifier or word of its
    commit messages and paths, of at least MIN_PIECE letters."""
    words: set[str] = set()
    for text in texts:
        for token in WORD.findall(text):
            words.update(p for p in pieces(token) if len(p) >= MIN_PIECE and p.isalpha())
    return frozenset(words)


def split_compound(run: str, vocab: frozenset[str]) -> list[str]:
    """'expandingcutoff' -> ['expanding', 'cutoff'] when both are words of `vocab`: the cut into
    the fewest known words, each of at least MIN_PIECE letters; [] when there is none or the run is
    short. A run that is itself a word of the vocabulary is still cut when it can be: a file's
    own name is part of the vocabulary."""
    if len(run) < MIN_COMPOUND or len(run) > MAX_RUN or not run.isalpha():
        return []
    n = len(run)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(MIN_PIECE, n + 1):
        for start in range(0, end - MIN_PIECE + 1):
            prev = best[start]
            if prev is not None and (start, end) != (0, n) and run[start:end] in vocab and (best[end] is None or len(prev) + 1 < len(best[end])):
                best[end] = prev + [run[start:end]]
    cut = best[n]
    return cut if cut and len(cut) > 1 else []


def identifier_words(text: str, vocab: frozenset[str] = frozenset()) -> list[str]:
    """The words hidden in a text's identifiers, in order, without repeats: CamelCase and
    snake_case pieces, and glued lower-case runs cut by `vocab`; plain words are left out (the text
    already holds them)."""
    out: list[str] = []
    for token in WORD.findall(text):
        split = pieces(token)
        if len(split) > 1:
            out += split
        for p in split:
            out += split_compound(p, vocab) if vocab else []
    return list(dict.fromkeys(w for w in out if not w.isdigit()))
