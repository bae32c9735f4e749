"""What a document is, judged once at crawl time from its text, path and title: a SimHash
fingerprint (near-duplicates share it within a few bits), its kind of writing (`genre`: a
changelog, release notes, a TODO list, a licence, a generated API index; "" for ordinary prose) and
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

SIMHASH_BITS = 64
SHINGLE = 3  # words per shingle
MIN_SHINGLES = 12  # fewer: the fingerprint is the hash of the words themselves (only equal texts match)
NEAR_DUPLICATE_BITS = 3  # fingerprints this close are one text published twice (Manku et al., WWW 2007)
LANG_SAMPLE = 4000  # characters the language detector reads
_WORD = re.compile(r"\w+")

log = logging.getLogger("guildbot")


@dataclass(frozen=True)
class Traits:
    simhash: str  # 16 hex digits
    genre: str  # "" for ordinary prose, else one of GENRES
    lang: str  # ISO 639-1 code, "" when unknown (no detector, too little text)


# -- near-duplicates ---------------------------------------------------------------------------------------
def _hash64(items: list[str]) -> np.ndarray:
    return np.array([int.from_bytes(hashlib.blake2b(s.encode("utf-8", "replace"), digest_size=8).digest(), "big")
                     for s in items], dtype=np.uint64)


def simhash(text: str) -> str:
    """A 64-bit SimHash (Charikar) over the set of word shingles, as 16 hex digits. Each distinct
    shingle counts once: a line repeated a hundred times (a signature, a rule) must not outvote the text.
    Texts with too few shingles get the hash of their words: equal only to the same words."""
    words = _WORD.findall(text.casefold())
    shingles = [" ".join(words[i:i + SHINGLE]) for i in range(max(len(words) - SHINGLE + 1, 0))]
    if len(shingles) < MIN_SHINGLES:
        return f"{int(_hash64([' '.join(words)])[0]):016x}"
    hashes = _hash64(sorted(set(shingles)))
    bits = np.unpackbits(hashes.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)  # (n, 64), high bit first
    votes = (bits.astype(np.int64) * 2 - 1).sum(axis=0)
    value = 0
    for b in votes > 0:
        value = (value << 1) | int(b)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near_duplicates(a: str | None, b: str | None, bits: int = NEAR_DUPLICATE_BITS) -> bool:
    """Whether two stored fingerprints mark the same text (either missing: no)."""
    return bool(a) and bool(b) and hamming(a, b) <= bits  # type: ignore[arg-type]


# -- genres ------------------------------------------------------------------------------------------------
GENRES = ("changelog", "release_notes", "todo", "licence", "api_index")
_NAME_GENRE = (  # the file or page name (its last path part, without suffix), as words
    (re.compile(r"^(change ?log|changes|history|news|changelog ?\w*)$"), "changelog"),
    (re.compile(r"^(release ?notes?|whats ?new|what s new|v ?\d+(?: \d+)*|\d{1,2}(?: \d+){1,2})$"), "release_notes"),
    (re.compile(r"^(todo|to do|backlog)$"), "todo"),
    (re.compile(r"^(licen[cs]e|copying|notice|copyright)( \w+)?$"), "licence"),
)
_FOLDER_GENRE = (  # a folder on the path
    (re.compile(r"^(whats ?new|what s new|release ?notes?|releases|changelog|changes|news)$"), "release_notes"),
)
_VERSION_HEADING = re.compile(r"^[ \t]*(?:#+[ \t]*|\[)?(?:(?:v|version|release)[ \t]*\d+\.\d+|\d+\.\d+\.\d+)\b.{0,60}$",
                              re.IGNORECASE | re.MULTILINE)
_API_LINE = re.compile(r"^\s*(?:[-*]\s*)?(?:\.\. \w+::\s*)?:?\s*~?[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+(?:\(\))?\s*$"
                       r"|^\s*(?:\.\. )?(?:autosummary|automodule|autoclass|autofunction|currentmodule)::.*$"
                       r"|^\s*:(?:toctree|template|members|nosignatures|recursive)\w*:.*$")


def _name_words(part: str) -> str:
    stem = re.sub(r"\.(md|markdown|rst|txt|html?|ipynb|adoc)$", "", part.strip(), flags=re.IGNORECASE)
    return " ".join(_WORD.findall(stem.casefold().replace("_", " ")))


def genre(title: str, path: str, text: str) -> str:
    """The kind of writing, recognised by name and by shape ("" for ordinary prose):
    - by name: CHANGELOG, HISTORY, NEWS, release notes, what's new, TODO, LICENSE (file or page name);
    - by shape: many version headings ("1.2.0 (2024-01-01)") make a changelog; a page whose lines
      are mostly dotted API names and autodoc directives is a generated API index."""
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
    return ""


# -- language ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _detector():
    """langdetect's detector factory (seeded, so a text always gets the same answer), or None when the
    package is missing: documents then have no language and search prefers none."""
    try:
        from langdetect import DetectorFactory, detector_factory
    except ImportError:
        log.warning("language detection is off: the `langdetect` package is not installed "
                    "(pip install langdetect); documents are stored without a language")
        return None
    DetectorFactory.seed = 0
    detector_factory.init_factory()
    return detector_factory._factory


def detector_available() -> bool:
    return _detector() is not None


_MARKUP = re.compile(r"https?://\S+|`[^`]*`|\b\w*[_.(]\w*\b|[{}\[\]<>=#*|]")


def language(text: str, min_letters: int = 40, min_probability: float = 0.8) -> str:
    """The ISO 639-1 code of the text's language, "" when it is unclear, too short, or no detector
    is installed. Code, links and identifiers are left out of what the detector reads."""
    factory = _detector()
    if factory is None:
        return ""
    sample = _MARKUP.sub(" ", text[:LANG_SAMPLE])
    if sum(ch.isalpha() for ch in sample) < min_letters:
        return ""
    try:
        det = factory.create()
        det.append(sample)
        best = max(det.get_probabilities(), key=lambda p: p.prob, default=None)
    except Exception:  # noqa: BLE001 - langdetect raises on text without features; no language then
        return ""
    return best.lang.split("-")[0] if best is not None and best.prob >= min_probability else ""


NAME_ONLY_KINDS = frozenset({"code_path"})  # documents known by their name: no prose to judge a language from


def traits(title: str, path: str, text: str, kind: str = "") -> Traits:
    """A document's traits; its language only when it holds prose."""
    return Traits(simhash(text or title), genre(title, path, text),
                  "" if kind in NAME_ONLY_KINDS else language(text))
