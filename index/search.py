"""Hybrid search: FTS5 BM25 (title weighted above body) and FAISS, fused by reciprocal rank.

User text never reaches FTS5 syntax: it is cut into word tokens, each quoted, joined with OR.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Iterable

from .embeddings import Embedder
from .store import Store
from .vectors import VectorIndex

RRF_K = 60
CANDIDATES = 200  # chunks taken from each retriever before fusion
STOPWORDS = frozenset("""a an and are as at be been but by can could do does did for from has have had he her his how
i if in into is it its me my no not of on or our she so than that the their them then there these they this to
us was we were what when where which who whom why will with would you your yours about any anyone anybody someone
somebody know knows here has have built build need needs help want wants tell show find please should""".split())


@dataclass
class Hit:
    doc_id: str
    title: str
    url: str
    source: str
    team: str
    path: str
    kind: str
    snippet: str
    score: float
    updated_at: str | None = None

    def public(self) -> dict[str, Any]:
        """The fields of DESIGN.md's search JSON."""
        d = asdict(self)
        return {k: d[k] for k in ("title", "url", "source", "team", "path", "snippet", "score")}


def query_terms(text: str) -> list[str]:
    """Lower-case word tokens of a query, stopwords removed, order kept, no duplicates."""
    words = re.findall(r"\w+", text.casefold())
    terms = [w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return list(dict.fromkeys(terms or [w for w in words if len(w) > 1]))[:32]


def fts_query(text: str) -> str | None:
    """A safe FTS5 MATCH expression for arbitrary user text, or None when nothing is searchable."""
    terms = query_terms(text)
    return " OR ".join(f'"{t}"' for t in terms) if terms else None


def rrf(rankings: Iterable[list[str]], k: int = RRF_K, weights: Iterable[float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion of several best-first rankings."""
    fused: dict[str, float] = {}
    weights = list(weights) if weights is not None else None
    for n, ranking in enumerate(rankings):
        w = weights[n] if weights else 1.0
        for rank, key in enumerate(ranking):
            fused[key] = fused.get(key, 0.0) + w / (k + rank + 1)
    return fused


def _doc_ranking(chunk_ranked: list[int], chunk_doc: dict[int, str]) -> tuple[list[str], dict[str, int]]:
    """Best-first documents from best-first chunks, with each document's best chunk."""
    docs: list[str] = []
    best: dict[str, int] = {}
    for cid in chunk_ranked:
        d = chunk_doc.get(cid)
        if d and d not in best:
            best[d] = cid
            docs.append(d)
    return docs, best


def make_snippet(text: str, terms: list[str], width: int = 240) -> str:
    """A window of the chunk around the first query term, without its title line."""
    body = text.split("\n", 1)[1] if "\n" in text else text
    body = re.sub(r"\s+", " ", body).strip()
    if len(body) <= width:
        return body
    low = body.casefold()
    pos = min((low.find(t) for t in terms if low.find(t) >= 0), default=0)
    start = max(0, pos - width // 3)
    snippet = body[start:start + width]
    return ("…" if start else "") + snippet.strip() + ("…" if start + width < len(body) else "")


class Searcher:
    def __init__(self, store: Store, vectors: VectorIndex, embedder: Embedder):
        self.store, self.vectors, self.embedder = store, vectors, embedder

    def ranked(self, query: str, candidates: int = CANDIDATES) -> tuple[dict[str, float], dict[str, int]]:
        """Fused document scores and each document's best chunk."""
        match = fts_query(query)
        lexical = self.store.fts(match, candidates) if match else []
        semantic = self.vectors.search(self.embedder.encode([query])[0], candidates) if query.strip() else []
        rows = self.store.chunk_rows({c for c, _ in lexical} | {c for c, _ in semantic})
        chunk_doc = {cid: r["doc_id"] for cid, r in rows.items()}
        lex_docs, lex_best = _doc_ranking([c for c, _ in lexical], chunk_doc)
        sem_docs, sem_best = _doc_ranking([c for c, _ in semantic], chunk_doc)
        fused = rrf([lex_docs, sem_docs])
        best = {**lex_best, **sem_best}
        return fused, best

    def search(self, query: str, limit: int = 10, team: str | None = None, source: str | None = None,
               kinds: set[str] | None = None, candidates: int = CANDIDATES) -> list[Hit]:
        fused, best = self.ranked(query, candidates)
        docs = self.store.documents(fused)
        terms = query_terms(query)
        chunks = self.store.chunk_rows(best.values())
        hits = []
        for doc_id, score in sorted(fused.items(), key=lambda kv: -kv[1]):
            d = docs.get(doc_id)
            if not d or (team and d["team"].casefold() != team.casefold()) or (source and d["source"] != source):
                continue
            if kinds and d["kind"] not in kinds:
                continue
            chunk = chunks.get(best[doc_id], {}).get("text", "")
            hits.append(Hit(doc_id, d["title"], d["url"], d["source"], d["team"], d["path"], d["kind"],
                            make_snippet(chunk, terms), round(score, 5), d["updated_at"]))
            if len(hits) >= limit:
                break
        return hits
