"""What a document is, judged once at crawl time from its text, path and title: a MinHash
fingerprint of its word shingles (near-duplicates share most of it), its kind of writing (`genre`: a
changelog, release notes, a TODO list, a licence, a generated API index, a bibliography, a table of
contents; "" for ordinary prose) and
its language.

Search reads these stored traits (index/retrieval/search.py): one result per near-duplicate group,
priors by genre, and a preference for the question's language. They are pure functions of the
document, so a stored document without them is given them again without a crawl (`backfill`).
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index.storage.sqlite.store import UNIT_KINDS

SHINGLE = 3  # words per shingle
MIN_SHINGLES = 12  # fewer: the fingerprint stands for the exact words (only the same words match)
PERMUTATIONS = 64  # MinHash functions: the share of equal minima estimates the shingles' Jaccard within ~.05
MIRROR = 0.75  # estimated Jaccard at which texts in two sources are one text published twice: a wiki copy of
# a repository's guide differs by its title line, markup and some drift (.8 to .95 on real mirrors)
SAME_SOURCE = 0.9  # inside one source the bar is higher: pages made from one template (one per class or
# estimator) share most of their words yet are different pages (.8 to .86); moved copies are .9 and above
_PRIME = (1 << 61) - 1
_RNG = np.random.default_rng(20261206)  # fixed: fingerprints must compare across crawls and processes
_A = _RNG.integers(1, _PRIME, PERMUTATIONS, dtype=np.uint64)
_B = _RNG.integers(0, _PRIME, PERMUTATIONS, dtype=np.uint64)
LANG_SAMPLE = 4000  # characters the language detector reads
_WORD = re.compile(r"\w+")

log = logging.getLogger("guildbot")


@dataclass(frozen=True)
class Traits:
    fingerprint: str  # MinHash signature, hex
    genre: str  # "" for ordinary prose, else one of GENRES
    lang: str | None  # ISO 639-1 code; "" when unclear or too little text; None when no detector judged it


# -- near-duplicates ---------------------------------------------------------------------------------------
def _hash32(items: list[str]) -> np.ndarray:
    return np.array([int.from_bytes(hashlib.blake2b(s.encode("utf-8", "replace"), digest_size=4).digest(), "big")
                     for s in items], dtype=np.uint64)


def fingerprint(text: str) -> str:
    """A MinHash signature (PERMUTATIONS 32-bit minima, as hex) of the text's set of word shingles.
    A text with too few shingles is one feature, its words: it matches only the same words."""
    words = _WORD.findall(text.casefold())
    shingles = {" ".join(words[i:i + SHINGLE]) for i in range(max(len(words) - SHINGLE + 1, 0))}
    if len(shingles) < MIN_SHINGLES:
        shingles = {" ".join(words)}
    x = _hash32(sorted(shingles))
    # (a * x + b) mod p, with x < 2^32 and a, b < 2^61: split a to stay inside 64 bits
    a_hi, a_lo = _A >> np.uint64(32), _A & np.uint64(0xFFFFFFFF)
    xs = x[:, None]
    mixed = (((a_hi * xs) % _PRIME) * np.uint64(1 << 32) % _PRIME + (a_lo * xs) % _PRIME + _B) % _PRIME
    minima = (mixed.min(axis=0) & np.uint64(0xFFFFFFFF)).astype(">u4")
    return minima.tobytes().hex()


def resemblance(a: str, b: str) -> float:
    """The estimated Jaccard resemblance of two fingerprints' shingle sets."""
    x, y = bytes.fromhex(a), bytes.fromhex(b)
    if len(x) != len(y) or not x:
        return 0.0
    n = len(x) // 4
    return sum(x[i * 4:i * 4 + 4] == y[i * 4:i * 4 + 4] for i in range(n)) / n


def near_duplicates(a: str | None, b: str | None, same_source: bool = False) -> bool:
    """Whether two stored fingerprints mark the same text (either missing: no); documents of one
    source must be nearer (SAME_SOURCE) than a page and its mirror in another source (MIRROR)."""
    if not a or not b:
        return False
    return resemblance(a, b) >= (SAME_SOURCE if same_source else MIRROR)


# -- genres ------------------------------------------------------------------------------------------------
GENRES = ("changelog", "release_notes", "todo", "licence", "api_index", "bibliography", "contents")
GENRE_VERSION = 3  # raised whenever the rules below change: stored documents are judged again (no crawl)
_NAME_GENRE = (  # the file or page name (its last path part, without suffix), as words
    (re.compile(r"^(change ?log|changes|history|news|changelog ?\w*)$"), "changelog"),
    (re.compile(r"^(release ?notes?|whats ?new|what s new|v ?\d+(?: \d+)*|\d{1,2}(?: \d+){1,2})$"), "release_notes"),
    (re.compile(r"^(todo|to do|backlog)$"), "todo"),
    (re.compile(r"^(licen[cs]e|copying|notice|copyright)( \w+)?$"), "licence"),
    (re.compile(r"^(references|bibliography|citations?|citing( \w+)?|how to cite( \w+)?|pubs|publications|papers)$"),
     "bibliography"),
    (re.compile(r"^(index|contents|toc|table of contents)$"), "contents"),  # a folder's table of contents
)
_FOLDER_GENRE = (  # a folder on the path
    (re.compile(r"^(whats ?new|what s new|release ?notes?|releases|changelog|changes|news)$"), "release_notes"),
)
_VERSION_HEADING = re.compile(r"^[ \t]*(?:#+[ \t]*|\[)?(?:(?:v|version|release)[ \t]*\d+\.\d+|\d+\.\d+\.\d+)\b.{0,60}$",
                              re.IGNORECASE | re.MULTILINE)
_CITATION = re.compile(r"\b(?:19|20)\d{2}[a-z]?\b.*\b(?:et al|journal|proceedings|conference|arxiv|doi|press|"
                       r"vol|pp)\b|\bet al\.?,? \(?(?:19|20)\d{2}", re.IGNORECASE)
_API_LINE = re.compile(r"^\s*(?:[-*]\s*)?(?:\.\. \w+::\s*)?:?\s*~?[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+(?:\(\))?\s*$"
                       r"|^\s*(?:\.\. )?(?:autosummary|automodule|autoclass|autofunction|currentmodule)::.*$"
                       r"|^\s*:(?:toctree|template|members|nosignatures|recursive)\w*:.*$")


def _name_words(part: str) -> str:
    stem = re.sub(r"\.(md|markdown|rst|txt|html?|ipynb|adoc)$", "", part.strip(), flags=re.IGNORECASE)
    return " ".join(_WORD.findall(stem.casefold().replace("_", " ")))


def genre(title: str, path: str, text: str) -> str:
    """The kind of writing, recognised by name and by shape ("" for ordinary prose):
    - by name: CHANGELOG, HISTORY, NEWS, release notes, what's new, TODO, LICENSE, references and
      citing pages, a folder's index or contents page (file or page name);
    - by shape: many version headings ("1.2.0 (2024-01-01)") make a changelog; a page whose lines
      are mostly dotted API names and autodoc directives is a generated API index; one whose lines are
      mostly citations (a year beside "et al.", a journal, proceedings, arXiv) is a bibliography."""
    parts = [p for p in re.split(r"[/\\]", path or title or "") if p.strip()]
    name = _name_words(parts[-1]) if parts else ""
    for pattern, kind in _NAME_GENRE:
        if name and pattern.match(name):
            return kind
    for folder in parts[:-1]:
        for pattern, kind in _FOLDER_GENRE:
            if pattern.match(_name_words(folder)):
                return kind
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) >= 8:
        versions = len(_VERSION_HEADING.findall(text))
        if versions >= 4 and versions * 12 >= len(lines):
            return "changelog"
        api = sum(1 for ln in lines if _API_LINE.match(ln))
        if api >= 8 and api * 2 >= len(lines):
            return "api_index"
        citations = sum(1 for ln in lines if _CITATION.search(ln))
        if citations >= 8 and citations * 2 >= len(lines):
            return "bibliography"
    return ""


# -- language ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _detector():
    """py3langid's identifier with probabilities normalised (so a confidence can be judged), or None
    when the package is missing: documents then have no language and search prefers none. py3langid
    (a maintained fork of langid.py) is a wheel needing only numpy, and it is deterministic."""
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError:
        return None
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def _say_detection_is_off() -> None:
    """Once per process, at crawl time (a question never prints it)."""
    log.warning("language detection is off: the `py3langid` package is not installed "
                "(pip install py3langid); documents are stored without a language")


def detector_available() -> bool:
    return _detector() is not None


_MARKUP = re.compile(r"https?://\S+|`[^`]*`|\b\w*[_.(]\w*\b|[{}\[\]<>=#*|]")


def language(text: str, min_letters: int = 40, min_probability: float = 0.8) -> str:
    """The ISO 639-1 code of the text's language, "" when it is unclear, too short, or no detector
    is installed. Code, links and identifiers are left out of what the detector reads."""
    identifier = _detector()
    if identifier is None:
        return ""
    sample = _MARKUP.sub(" ", text[:LANG_SAMPLE])
    if sum(ch.isalpha() for ch in sample) < min_letters:
        return ""
    lang, probability = identifier.classify(sample)
    return lang if probability >= min_probability else ""


NAME_ONLY_KINDS = frozenset({"code_path"})  # documents known by their name: no prose to judge a language from


def traits(title: str, path: str, text: str, kind: str = "") -> Traits:
    """A document's traits; its language only when it holds prose."""
    if kind not in NAME_ONLY_KINDS and _detector() is None:
        _say_detection_is_off()
    if kind in NAME_ONLY_KINDS:
        lang: str | None = ""
    else:
        lang = language(text) if detector_available() else None  # None: judged when a detector is installed
    # history units (commits, folders) are named by the paths they changed, and search never ranks them
    return Traits(fingerprint(text or title), "" if kind in UNIT_KINDS else genre(title, path, text), lang)
