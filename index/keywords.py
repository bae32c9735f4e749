"""Keywords by TF-IDF: the terms frequent in one group of documents and rare in the other groups.

Used for project topics (a group = a project's documents) and people's topics (a group = the
documents a person contributed to). Terms are single words and two-word phrases of adjacent
non-stopwords; each keyword keeps its count and score so it can be explained.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping

STOPWORDS = frozenset("""
a about above after again against all almost also although always am among an and another any anyone anything
are around as at away be became because become been before being below between both but by can cannot could did
do does doing done down during each either else enough etc even ever every few first for from further get gets
got had has have having he her here hers him his how however i if in into is it its itself just last least less
let like made make makes many may me might more most much must my near need needs never new next no nor not now
of off often on once one only onto or other others our ours out over own per please put rather same see seen
several she should show since so some something still such than that the their theirs them then there these
they this those though through thus to too under until up upon us use used uses using very via was way we
well were what when where whether which while who whom whose why will with within without would yet you your
yours
able add added adds already based day days don end etc every example get good great help include includes
including keep kept know lot lots makes part run runs set sets take takes time times today want week
within work works year years yes
""".split())
MIN_LEN = 3
WORD = re.compile(r"[a-z][a-z0-9]+")


def tokens(text: str) -> list[str | None]:
    """Lower-case words; stopwords, short words and numbers become None so phrases never span them."""
    return [w if len(w) >= MIN_LEN and w not in STOPWORDS else None for w in WORD.findall(text.casefold())]


def file_words(name: str) -> str:
    """A code file's name as words for keywords: 'two_tower.py' -> 'two_tower'; dotfiles give nothing."""
    return "" if name.startswith(".") else name.rsplit(".", 1)[0]


def fold(word: str) -> str:
    """A plural folded onto its singular, so 'listings' and 'listing' count as one term."""
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


def terms(text: str, surface: Counter | None = None) -> Counter:
    """Counts of the (plural-folded) words and two-word phrases of a text.

    `surface`, when given, counts the written forms so a term can be shown as people write it.
    """
    raw = tokens(text)
    words = [fold(w) if w else None for w in raw]
    counts: Counter = Counter(w for w in words if w)
    pairs = [(i, f"{a} {b}") for i, (a, b) in enumerate(zip(words, words[1:])) if a and b and a != b]
    counts.update(t for _, t in pairs)
    if surface is not None:
        surface.update((w, r) for w, r in zip(words, raw) if w)
        surface.update((t, f"{raw[i]} {raw[i + 1]}") for i, t in pairs)
    return counts


def written_form(term: str, surface: Counter) -> str:
    """The most common way a folded term was written."""
    forms = [(n, form) for (t, form), n in surface.items() if t == term]
    return max(forms)[1] if forms else term


@dataclass(frozen=True)
class Keyword:
    term: str
    count: float  # weighted occurrences in the group
    score: float  # count x inverse group frequency


def document_frequency(groups: Iterable[Counter]) -> tuple[Counter, int]:
    """In how many groups each term occurs, and the number of groups."""
    df: Counter = Counter()
    n = 0
    for g in groups:
        df.update(g.keys())
        n += 1
    return df, n


def top_keywords(counts: Mapping[str, float], df: Mapping[str, int], n_groups: int, limit: int = 8,
                 min_count: float = 2.0) -> list[Keyword]:
    """The best TF-IDF terms of one group against all groups.

    Terms must occur at least `min_count` times (unless none does); with three groups or more, a
    term found in every group is never a keyword. A word is dropped when a
    qualifying phrase holds most of its occurrences: "cold start" rather than "cold".
    """
    def idf(term: str) -> float:
        return math.log((1 + n_groups) / (1 + df.get(term, 0))) + 1.0

    everywhere = n_groups >= 3  # then a term every group uses says nothing about any one of them
    scored = sorted(((t, c, math.log1p(c) * idf(t)) for t, c in counts.items()
                     if c > 0 and not (everywhere and df.get(t, 0) >= n_groups)), key=lambda x: (-x[2], x[0]))
    frequent = [s for s in scored if s[1] >= min_count] or scored
    in_phrase: dict[str, float] = {}  # word -> count of the most frequent phrase holding it
    for term, count, _ in frequent:
        if " " in term:
            for w in term.split():
                in_phrase[w] = max(in_phrase.get(w, 0.0), count)
    chosen: list[Keyword] = []
    for term, count, score in frequent:
        if " " not in term and count <= 1.5 * in_phrase.get(term, 0.0):
            continue  # the word mostly occurs inside a phrase that is a keyword itself
        chosen.append(Keyword(term, round(float(count), 3), round(score, 4)))
        if len(chosen) >= limit:
            break
    return chosen
