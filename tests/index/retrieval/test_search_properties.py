"""Property-based tests (hypothesis) for query parsing and FTS5 escaping: any text, no syntax error."""
from __future__ import annotations

import re
import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.retrieval.search import STOPWORDS, fts_query, query_terms

# any Unicode except lone surrogates (which no str from a socket or a terminal holds), plus FTS5's own syntax
FTS_SYNTAX = st.sampled_from(['"', "'", "*", "^", ":", "(", ")", "{", "}", "-", "+", "NEAR", "AND", "OR", "NOT",
                              "title:", "\\", "\x00", " ", "\n", "col*", "NEAR(a b, 3)"])
QUERY = st.lists(st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30), FTS_SYNTAX),
                 max_size=12).map("".join)


def _fts():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(title, body, tokenize = 'porter unicode61')")
    db.execute("INSERT INTO chunks_fts (rowid, title, body) VALUES (1, 'Drift monitoring', 'population stability')")
    return db


DB = _fts()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUERY)
def test_the_fts_query_builder_never_produces_an_fts5_syntax_error(text):
    match = fts_query(text)
    if match is None:
        assert not query_terms(text)
        return
    DB.execute("SELECT rowid, bm25(chunks_fts, 4.0, 1.0) FROM chunks_fts WHERE chunks_fts MATCH ?", (match,)).fetchall()
    assert re.fullmatch(r'"[^"]+"( OR "[^"]+")*', match)  # only quoted terms joined by OR


@settings(max_examples=400, deadline=None)
@given(QUERY)
def test_query_terms_are_unique_lowercase_words_without_stopwords_at_most_32(text):
    terms = query_terms(text)
    assert len(terms) == len(set(terms)) <= 32
    for t in terms:
        assert re.fullmatch(r"\w+", t) and t == t.casefold()
    words = set(re.findall(r"\w+", text.casefold()))
    assert set(terms) <= words
    content = [w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    if content:  # stopwords only count when nothing else is left
        assert not set(terms) & STOPWORDS


@given(st.lists(st.sampled_from(["drift", "Drift", "DRIFT", "monitoring", "the", "of"]), min_size=1, max_size=8))
def test_query_terms_keep_first_occurrence_order(words):
    terms = query_terms(" ".join(words))
    firsts = list(dict.fromkeys(w.casefold() for w in words if w.casefold() not in STOPWORDS))
    assert terms == (firsts or list(dict.fromkeys(w.casefold() for w in words)))
