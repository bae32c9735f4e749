"""The relevance floor: below it, nothing matched a question well.

A hit's fused score is a rank (reciprocal rank fusion), the same for a good and a hopeless best
match, so the floor is judged on an absolute measure instead: the answer's strength, the best
cosine between the question's embedding and any passage of the first few documents. Search
(`index/retrieval/search.py`) returns nothing below the floor, so every surface shows its "nothing
found" answer, and the digest's knowledge gaps (`querylog.gaps`, index/digest/weekly.py) count the
same questions as unanswered.

Three signs make the floor, all absolute: the answer's strength, whether the index knows every word
of the question at all (a word no document holds, "offsite", "redux", says the question is about
something else), and whether one passage of the first documents holds every word of the question
(a one-word query, "design", embeds weakly but is answered by a page that says it). Calibrated on
all-MiniLM-L6-v2 with the evaluation organisations' questions, which labelled pages answer
(strength .30 to .85, every word known), and questions about things no page of theirs covers
(expenses, passports, a recipe, web frameworks: .07 to .35). A question is answered well when its
best passage reaches STRONG, or reaches WEAK and the index knows all its words, or a passage holds
all its words.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from index.storage import documents as documents_store
from index.storage.sqlite.store import Store

WEAK = 0.30  # below: nothing matched well, whatever the words
STRONG = 0.40  # at or above: matched well, even with a word the index does not know
RELEVANCE_FLOOR = WEAK  # the one number the digest's knowledge gaps use (querylog.WEAK_BELOW)
STRENGTH_DOCS = 3  # how many top documents the strength looks at


def answer_strength(store: Store, query_vector: np.ndarray | None, doc_ids: Sequence[str],
                    top: int = STRENGTH_DOCS) -> float | None:
    """The best cosine between the query and any passage of the first `top` documents
    (None without a query vector; 0.0 without documents or vectors)."""
    ids = list(dict.fromkeys(doc_ids))[:top]
    if query_vector is None:
        return None
    if not ids:
        return 0.0
    blobs = documents_store.chunk_vectors_of(store, ids)
    if not blobs:
        return 0.0
    matrix = np.frombuffer(b"".join(blobs), dtype="float32").reshape(len(blobs), -1)
    return float(np.max(matrix @ np.asarray(query_vector, dtype="float32")))


def known_share(store: Store, terms: Sequence[str]) -> float:
    """The share of the question's words (index/retrieval/search.py query_terms) that any passage holds."""
    if not terms:
        return 1.0
    return sum(1 for t in terms if store.fts(f'"{t}"', 1)) / len(terms)


def holds_every_word(passages: Sequence[str], terms: Sequence[str]) -> bool:
    """Whether one of the passages (of the first documents) holds every one of the question's words (as
    word starts, so a plural or a longer form counts)."""
    if not terms:
        return False
    patterns = [re.compile(r"\b" + re.escape(t), re.IGNORECASE) for t in terms]
    return any(all(p.search(text) for p in patterns) for text in passages)


def below_floor(strength: float | None, known: float = 1.0, every_word: bool = False) -> bool:
    """Whether an answer this strong, to a question whose words the index knows in this share,
    counts as nothing found (an unknown strength never does; a passage holding every word never does)."""
    if strength is None or every_word:
        return False
    return strength < WEAK or (strength < STRONG and known < 1.0)
