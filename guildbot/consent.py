"""Consent and load, applied to a ranked list of experts (issue 26). Pure: the Guild reads the rows
(index/storage/consent.py, asks.py) and calls these.

- A person who opted out, or paused until a time still to come, is never suggested.
- A person who hid a topic is not suggested for a question about it: every word of the topic is in
  the question (plurals folded), or the question means nearly the same (cosine of the two embeddings at
  least HIDE_SIMILAR).
- Load: a person suggested more than `budget` times in the last 7 days gives way to the next person whose
  score is within `band` (a fraction) of theirs and who is under the budget; the evidence says so. Nobody
  further away moves up: a clearly better answer stays first however often it was given.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Iterable, Sequence

import numpy as np

from index.expertise.experts import Evidence, Expert

HIDE_SIMILAR = 0.75   # a question this near a hidden topic is about it
WORD = re.compile(r"[a-z0-9][a-z0-9+#.-]*")
LOAD_SOURCE = "guildbot:load"  # Evidence.source of the load note (surfaces may show it apart)
MAX_PAUSE_DAYS = 365


def checked_pause(days: int) -> int:
    """`days` when it is a pause guildbot keeps (1 to MAX_PAUSE_DAYS); ValueError naming the fix otherwise."""
    if not 1 <= days <= MAX_PAUSE_DAYS:
        raise ValueError(f"a pause of {days} days: pause for 1 to {MAX_PAUSE_DAYS} days")
    return days


def _stem(word: str) -> str:
    """Plurals folded: "avalanches" -> "avalanche", "libraries" -> "library"."""
    word = word.strip(".-")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> set[str]:
    return {_stem(w) for w in WORD.findall(text.casefold()) if len(w) > 1}


def hides(hidden: Iterable[str], question: str, question_vector: np.ndarray | None = None,
          encode: Callable[[list[str]], np.ndarray] | None = None) -> str | None:
    """The hidden topic the question is about, or None."""
    topics = [t for t in hidden if t.strip()]
    if not topics:
        return None
    asked = words(question)
    for t in topics:
        need = words(t)
        if need and need <= asked:
            return t
    if question_vector is not None and encode is not None:
        vectors = encode(topics)
        sims = np.asarray(vectors, dtype="float32") @ np.asarray(question_vector, dtype="float32")
        best = int(np.argmax(sims))
        if float(sims[best]) >= HIDE_SIMILAR:
            return topics[best]
    return None


def spread(experts: Sequence[Expert], counts: dict[str, int], budget: int, band: float) -> list[Expert]:
    """Experts in the order to show them: each place goes to the best remaining person unless they are
    over `budget` and someone under it scores within `band` of them; that person goes first, and their
    evidence says why (second line, so a one-line answer keeps its document link)."""
    if budget <= 0 or not experts:
        return list(experts)
    left = list(experts)
    out: list[Expert] = []
    while left:
        best = left[0]
        pick = best
        if counts.get(best.person_id, 0) > budget:
            floor = best.score * (1 - band)
            pick = next((e for e in left[1:] if e.score >= floor and counts.get(e.person_id, 0) <= budget), best)
        left.remove(pick)
        if pick is not best:
            note = Evidence(title="Suggested to spread the load", url="", source=LOAD_SOURCE,
                            what=(f"{best.name}, of nearly equal score, was suggested {counts.get(best.person_id, 0)} "
                                  f"times in the last 7 days (weekly budget {budget})"))
            pick = replace(pick, evidence=[*pick.evidence[:1], note, *pick.evidence[1:]])
        out.append(pick)
    return out
