"""Key phrase candidates and their selection: stopwords, written forms, maximal marginal relevance.

Used for project topics (index/catalog/content.py) and people's topics (index/expertise/profiles.py).
"""
from __future__ import annotations

from functools import lru_cache

from connectors.common.stopwords import KEYPHRASE_STOPWORDS

import re
from collections import Counter

import numpy as np

STOPWORDS = KEYPHRASE_STOPWORDS
MIN_LEN = 3


def fold(word: str) -> str:
    """A plural folded onto its singular, so 'listings' and 'listing' count as one term."""
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


# -- key phrases with the embedding model ---------------------------------------------------------
# Candidate n-grams of a text (as written), scored by how close their embedding is to the content's
# characteristic direction (KeyBERT's idea), then diversified by maximal marginal relevance, so the
# topics are phrases such as "matrix factorization" rather than stems or generic words.
PHRASE_BREAK = re.compile(r"[.,;:!?()\[\]{}<>\"'`|=*#+/\\\n\t]+|\s-\s|\s{2,}")
PHRASE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
MAX_PHRASE_WORDS = 3
GENERIC = frozenset("""
api apis app apps argument arguments attribute attributes bug bugs build builds case cases change changelog changes
class classes code command commands config configuration contributing contributor contributors copyright data dataset
datasets default defaults dependencies dependency description doc docs documentation error errors example examples
feature features file files fix fixed fixes function functions guide github http https image images import install
installation installing issue issues license licence line lines link links list main method methods module modules
need note notes number numbers object objects option options output package packages page pages parameter parameters
pip pull python readme reference release released releases request requests result results return returns section
see setup source step steps support supported test tests thanks tutorial tutorials type types update updated updates
user users value values variable variable version versions warning warnings www
txt md rst yml yaml json csv html htm cfg toml ini ipynb py sh requirements notebook notebooks jupyter colab
makefile dockerfile todo faq news authors pypi conda badge badges com org net www
automodule autoclass autosummary toctree maxdepth members undoc inherited inheritance show exclude param params
rtype len assert self def init args kwargs str int bool none true false cmakelists src lib usr env dev
code conduct covenant community leaders maintainer maintainers contribute contributing contribution contributions
security policy vulnerability vulnerabilities harassment consequences enforcement pledge welcome thank thanks feel free
fork library libraries project projects available provides provide toolkit tool tools getting started quickstart
bash shell console block code-block
""".split())


def _verb_like(word: str) -> bool:
    """'shipped', 'changed': a past form says what happened, not what a project is about."""
    w = word.casefold()
    return len(w) > 5 and w.endswith("ed") and not w.endswith("eed")


def phrase_candidates(text: str, max_words: int = MAX_PHRASE_WORDS) -> Counter:
    """Counts of the 1-3 word phrases of a text, as written, that start and end with a content word.

    Phrases never cross punctuation, numbers or stopwords; a phrase made only of generic
    documentation words ("install guide", "pull request") is not a candidate.
    """
    out: Counter = Counter()
    for piece in PHRASE_BREAK.split(text or ""):
        run: list[str] = []
        for w in piece.split():
            m = PHRASE_WORD.fullmatch(w.strip("-_~"))
            low = m.group(0).casefold() if m else ""
            if not m or len(low) < MIN_LEN or low in STOPWORDS or len(low) > 30:
                run = []
                continue
            run.append(m.group(0))
            for n in range(1, min(max_words, len(run)) + 1):
                gram = run[-n:]
                if all(set(g.casefold().split("-")) <= GENERIC for g in gram) or _verb_like(gram[-1]) or \
                        len({g.casefold() for g in gram}) < len(gram):
                    continue
                out[" ".join(gram)] += 1
    return out


def phrase_key(phrase: str) -> str:
    """What makes two written forms the same candidate: case and a plural ending do not."""
    return " ".join(fold(w) for w in phrase.casefold().replace("-", " ").split())


def merge_forms(counts: Counter) -> tuple[Counter, dict[str, str]]:
    """Candidate counts keyed by phrase_key, and each key's most common written form (lower case
    unless it is always written with capitals, like 'ALS' or 'PyTorch')."""
    by_key: Counter = Counter()
    forms: dict[str, Counter] = {}
    for phrase, n in counts.items():
        k = phrase_key(phrase)
        by_key[k] += n
        forms.setdefault(k, Counter())[phrase] += n
    shown = {}
    for k, f in forms.items():
        best = max(f.items(), key=lambda x: (x[1], x[0]))[0]
        lowered = [p for p in f if p == p.casefold()]
        shown[k] = max(lowered, key=lambda p: f[p]) if lowered else (best if any(c.isupper() for c in best[1:]) else best.casefold())
    return by_key, shown


def _inside(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    if len(short) > len(long):
        short, long = long, short
    return any(long[i:i + len(short)] == short for i in range(len(long) - len(short) + 1))


@lru_cache(maxsize=1 << 18)
def nested(a: str, b: str) -> bool:
    """One phrase inside the other, word by word: 'cold' and 'cold start', 'stability index' and
    'population stability index'."""
    return _inside(tuple(phrase_key(a).split()), tuple(phrase_key(b).split()))


def mmr(candidates: list[str], vectors: np.ndarray, relevance: np.ndarray, limit: int,
        diversity: float = 0.5, min_relevance: float = 0.0) -> list[tuple[str, float]]:
    """Maximal marginal relevance: each pick is relevant and unlike the picks before it.

    `vectors` are unit rows for `candidates`; returns (candidate, relevance) in pick order.
    """
    chosen: list[int] = []
    words = [tuple(phrase_key(c).split()) for c in candidates]
    pool = [i for i in range(len(candidates)) if relevance[i] > min_relevance]
    while pool and len(chosen) < limit:
        if chosen:  # never a phrase inside a pick, nor one holding it
            pool = [i for i in pool if not _inside(words[i], words[chosen[-1]])]
            if not pool:
                break
        if chosen:
            redundancy = (vectors[pool] @ vectors[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(pool), dtype="float32")
        gain = (1 - diversity) * relevance[pool] - diversity * redundancy
        best = pool[int(np.argmax(gain))]
        chosen.append(best)
        pool.remove(best)
    return [(candidates[i], float(relevance[i])) for i in chosen]
