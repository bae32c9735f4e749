"""Hybrid search: FTS5 BM25 (title weighted above body) and FAISS, fused by reciprocal rank.

User text never reaches FTS5 syntax: it is cut into word tokens, each quoted, joined with OR.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

import numpy as np

from connectors.common.identifiers import pieces
from connectors.common.stopwords import QUESTION_STOPWORDS
from index.embedding.docvectors import doc_means
from index.embedding.embedder import Embedder
from index.ingest.chunking import CRUMB, passage_section
from index.ingest.traits import language, near_duplicates
from index.storage import documents as documents_store
from index.storage.sqlite.store import UNIT_KINDS, Store
from index.storage.sqlite.vectors import VectorIndex
from index.people.visibility import Viewer, visible_doc_ids
from index.retrieval.floor import (STRENGTH_DOCS, STRONG, answer_strength, below_floor, holds_every_word,
                                   known_share)

RRF_K = 60
SEARCH_RRF_K = 60  # documents for `search`; `experts` keeps RRF_K
# (lexical, semantic) for `search`: the words a question shares with a page weigh a little more than
# the embedding's sense of it, which also finds the long pages that touch every topic (tuned on
# northwind and woodgrove, held on tailspin: documents nDCG .739/.836/.728 -> .751/.861/.741)
SEARCH_WEIGHTS: tuple[float, float] | None = (1.25, 1.0)
CANDIDATES = 200  # chunks taken from each retriever before fusion
DUPLICATE_COSINE = 0.95  # best passages this alike, in different sources, are one document published twice
KIND_PRIOR = {"code_path": 0.6}  # a file known only by its name is weaker evidence than a page of prose
NAME_ONLY_PRIOR = KIND_PRIOR["code_path"]  # so is a document of any kind whose passage is its name alone
NAME_ONLY_CHARS = 400  # a passage longer than this says more than a name
PRESENTATION = {"wiki_page": 0, "web_page": 0}  # the published page represents its copies; repository files next
STOPWORDS = QUESTION_STOPWORDS
# Writing that mentions every topic in passing (index/ingest/traits.py genres) yields to pages about the
# question, unless the question asks for that kind of writing.
GENRE_PRIOR = {"changelog": 0.5, "release_notes": 0.5, "todo": 0.5, "licence": 0.3, "api_index": 0.7,
               "bibliography": 0.5, "contents": 0.85}
GENRE_ASKED = {
    "changelog": re.compile(r"\b(change ?logs?|changes|changed|what'?s new|new in|releases?d?|release notes|versions?|"
                            r"upgrad\w*|migrat\w*|breaking|history|v?\d+\.\d+(\.\d+)?)\b", re.IGNORECASE),
    "todo": re.compile(r"\b(todo|to do|backlog|planned|plans?|roadmap|open tasks?)\b", re.IGNORECASE),
    "licence": re.compile(r"\b(licen[cs]es?|licensed|licensing|copyright|notice)\b", re.IGNORECASE),
    "api_index": re.compile(r"\b(api|reference|list of|all (classes|functions|modules))\b", re.IGNORECASE),
    "bibliography": re.compile(r"\b(cite|citing|citations?|papers?|publications?|references|bibliography|bibtex)\b",
                               re.IGNORECASE),
    # an index page introduces its folder and lists its pages: the pages come first, the index still follows
    "contents": re.compile(r"\b(overview|contents|index of|toc|all (pages|topics|guides|docs))\b", re.IGNORECASE),
}
GENRE_ASKED["release_notes"] = GENRE_ASKED["changelog"]
OTHER_LANGUAGE_PRIOR = 0.5  # a page in another language than the question's
# A page about the question, not a page with a passage about it: the candidates are ranked a third time by
# how much each is about the question (`focus`: its direction, the mean of its passages, and its passages'
# mean cosine; index/embedding/docvectors.py), so a long overview page that touches the question in one
# section yields to the page the question is the subject of (tuned on tailspin and woodgrove, held on
# northwind: documents nDCG .741/.861 -> .819/.859, northwind .751 -> .774; weights .6 to 1.5 give the same figures; with the namesakes below
# northwind/tailspin/woodgrove .780/.825/.864; with name-only documents and namesakes kept to their source
# .803/.834/.864).
FOCUS_DOCS = 100  # the best fused candidates ranked by `focus`
FOCUS_WEIGHT = 1.0  # that ranking's weight in the fusion, beside lexical (1.25) and semantic (1.0)
# the passages' mean cosine's share in `focus` (tuned on northwind and tailspin, held on woodgrove: documents
# nDCG .844/.843/.900 -> .856/.851/.900; shares .5 to .75 give .85-.86 on both, the mean alone Tailspin .832)
FOCUS_PASSAGES = 0.5
SIBLING_LEADS = 3  # the best documents whose namesakes follow them
SIBLING_SHARE = 0.99  # a namesake's score: this share of its lead's
SIBLING_COMMON = 4  # a name this many candidates share is no subject (index, readme, intro)
STUB_CHARS = 400  # a reference stub is at most this long
STUB_ROWS = 2000  # short documents looked at per question
STUB_NAMESAKES = 2  # a word in more stubs' names than this ('features', 'encoder') does not tie one to a question


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
    copies: list[dict[str, str]] = field(default_factory=list)  # the same text elsewhere: title, url, source
    section: str = ""  # the best passage's section, "Section › Subsection" ("" outside any)
    link: str = ""  # `url` at that section's #anchor (surfaces link this; `url` stays the document's)

    def __post_init__(self) -> None:
        self.link = self.link or self.url

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

    def ranked(self, query: str, candidates: int | None = None,
               viewer: Viewer | None = None,
               skip_kinds: frozenset[str] = frozenset(), rrf_k: int | None = None,
               weights: tuple[float, float] | None = None) -> tuple[dict[str, float], dict[str, int]]:
        """Fused document scores and each document's best chunk, among the documents `viewer` may see;
        documents of `skip_kinds` take no rank."""
        candidates = candidates or CANDIDATES
        pool = candidates * (3 if skip_kinds else 1)
        match = fts_query(query)
        lexical = self.store.fts(match, pool) if match else []
        semantic = self.vectors.search(self.embedder.encode_query([query])[0], pool) if query.strip() else []
        rows = self.store.chunk_rows({c for c, _ in lexical} | {c for c, _ in semantic})
        chunk_doc = {cid: r["doc_id"] for cid, r in rows.items()}
        if viewer is not None:  # ranks are counted among visible documents only
            keep = visible_doc_ids(self.store, chunk_doc.values(), viewer)
            chunk_doc = {cid: d for cid, d in chunk_doc.items() if d in keep}
        if skip_kinds:
            kinds = {d: r["kind"] for d, r in self.store.documents(set(chunk_doc.values())).items()}
            chunk_doc = {c: d for c, d in chunk_doc.items() if kinds.get(d) not in skip_kinds}
        if viewer is not None or skip_kinds:
            lexical = [x for x in lexical if x[0] in chunk_doc][:candidates]
            semantic = [x for x in semantic if x[0] in chunk_doc][:candidates]
        lex_docs, lex_best = _doc_ranking([c for c, _ in lexical], chunk_doc)
        sem_docs, sem_best = _doc_ranking([c for c, _ in semantic], chunk_doc)
        fused = rrf([lex_docs, sem_docs], k=rrf_k or RRF_K, weights=weights)
        best = {**lex_best, **sem_best}
        return fused, best

    def clears_floor(self, query: str, doc_ids: list[str], vector: np.ndarray | None = None) -> bool:
        """Whether the question's best documents, `doc_ids` best first, answer it well enough to show
        (index/retrieval/floor.py): search and the experts (guildbot/guild.py) judge by this one rule."""
        if not doc_ids or not query.strip():
            return True
        strength = answer_strength(self.store, self.embedder.encode_query([query])[0] if vector is None else vector, doc_ids)
        if strength is None or strength >= STRONG:
            return True
        terms = query_terms(query)
        top = documents_store.chunk_texts_of(self.store, doc_ids[:STRENGTH_DOCS])
        return not below_floor(strength, known_share(self.store, terms), holds_every_word(top, terms))

    def search(self, query: str, limit: int = 10, team: str | None = None, source: str | None = None,
               kinds: set[str] | None = None, candidates: int | None = None, viewer: Viewer | None = None,
               floor: bool = True) -> list[Hit]:
        """The best documents for `query`, one per near-duplicate group (the others listed as its
        copies); [] when nothing matched well (index/retrieval/floor.py), unless `floor` is False."""
        fused, best = self.ranked(query, candidates, viewer, frozenset() if kinds else UNIT_KINDS,
                                  SEARCH_RRF_K, SEARCH_WEIGHTS)
        vector = self.embedder.encode_query([query])[0] if query.strip() else None
        if vector is not None:
            fused = with_focus(self.store, fused, vector, SEARCH_RRF_K)
        docs = self.store.documents(fused)
        traits = documents_store.traits_of(self.store, docs)
        terms = query_terms(query)
        pool = []
        passages = self.store.chunk_rows(best[d] for d in docs if d in best)
        priors = document_priors(query, docs, traits,
                                 {d: passages[best[d]]["text"] for d in docs if best.get(d) in passages})
        prior = {d: priors[d] * fused[d] for d in fused if d in docs}
        prior = self._companions_follow(prior, docs, best, passages, terms, viewer)
        for doc_id, score in sorted(prior.items(), key=lambda kv: -kv[1]):
            d = docs.get(doc_id)
            if not d or (team and d["team"].casefold() != team.casefold()) or (source and d["source"] != source):
                continue
            if kinds and d["kind"] not in kinds:
                continue
            pool.append((doc_id, d, score))
            if len(pool) >= 2 * limit + 10:
                break
        if floor and pool and not self.clears_floor(query, [doc_id for doc_id, _, _ in pool], vector):
            return []
        outlines = {doc_id: outline for doc_id, d, _ in pool if (outline := _outline(d.get("metadata")))}
        texts = documents_store.texts_of(self.store, outlines) if outlines else {}
        hits = []
        for doc_id, d, score in pool:
            text = passages.get(best[doc_id], {}).get("text", "")
            path = passage_section(d["title"] or "", texts.get(doc_id, ""), outlines.get(doc_id), text, terms)
            hits.append(Hit(doc_id, d["title"], d["url"], d["source"], d["team"], d["path"], d["kind"],
                            make_snippet(text, terms), round(score, 5), d["updated_at"], section=CRUMB.join(path),
                            link=section_url(d["url"], d["kind"], path)))
        blobs = self.store.chunk_vectors(best[h.doc_id] for h in hits)
        vectors = {h.doc_id: np.frombuffer(blobs[best[h.doc_id]], dtype="float32") for h in hits if best[h.doc_id] in blobs}
        fingerprints = {d: t["fingerprint"] for d, t in traits.items() if t["fingerprint"]}
        return collapse_copies(hits, vectors, fingerprints=fingerprints)[:limit]

    def _companions_follow(self, scores: dict[str, float], docs: dict[str, dict[str, Any]], best: dict[str, int],
                           passages: dict[int, dict[str, Any]], terms: list[str],
                           viewer: Viewer | None) -> dict[str, float]:
        """`scores` with the best few documents' namesakes and reference stubs just below them
        (namesakes_follow, stubs_follow). Those neither retriever found are read from the store and
        added to `docs`, `best` and `passages`."""
        leads = [d for d in sorted(scores, key=lambda d: -scores[d])[:SIBLING_LEADS] if d in docs]
        pulled = self._namesakes_elsewhere(leads, docs, viewer)
        stubs = self._stubs_beside(leads, docs, terms, viewer)
        pulled |= {d: r for d, r in stubs.items() if d not in docs}
        scores = dict(scores)
        if pulled:
            docs |= pulled
            scores |= dict.fromkeys(pulled, 0.0)
            best |= documents_store.first_chunks(self.store, pulled)
            passages |= self.store.chunk_rows(best[d] for d in pulled if d in best)
        scores = stubs_follow(namesakes_follow(scores, docs), stubs)
        return {d: s for d, s in scores.items() if s > 0 or d not in pulled}

    def _visible(self, found: dict[str, dict[str, Any]], viewer: Viewer | None) -> dict[str, dict[str, Any]]:
        if not found or viewer is None:
            return found
        keep = visible_doc_ids(self.store, found, viewer)
        return {i: r for i, r in found.items() if i in keep}

    def _namesakes_elsewhere(self, leads: list[str], docs: dict[str, dict[str, Any]],
                             viewer: Viewer | None) -> dict[str, dict[str, Any]]:
        """The documents named like one of the `leads`, in its source, that neither retriever found: a
        reference page made of one directive (`.. autoclass:: X`) shares no word and little sense with a
        question about X, yet belongs beside the guide page of the same name (namesakes_follow)."""
        found: dict[str, dict[str, Any]] = {}
        for lead in leads:
            d = docs[lead]
            name = page_name(d)
            if not name:
                continue
            rows = documents_store.documents_named(self.store, name, SIBLING_COMMON + 1, d["source"])
            new = {r["id"]: dict(r) for r in rows if page_name(r) == name and r["id"] not in docs}
            if not new:
                continue
            # a name many documents share, in any source (readme, index), is no subject
            everywhere = documents_store.documents_named(self.store, name, SIBLING_COMMON + 1)
            if sum(page_name(r) == name for r in everywhere) <= SIBLING_COMMON:
                found |= new
        return self._visible(found, viewer)

    def _stubs_beside(self, leads: list[str], docs: dict[str, dict[str, Any]], terms: list[str],
                      viewer: Viewer | None) -> dict[str, dict[str, Any]]:
        """Reference stubs (a page that is one API name, its text generated at build time) of the
        identifiers one of the `leads` discusses and the question names a word of, each with
        "lead" set to that page: the stub of `KaplanMeierFitter` belongs beside the guide that uses it
        when the question is about Kaplan-Meier, and shares too few words with it to be found."""
        if not leads or not terms:
            return {}
        rows = documents_store.short_documents(self.store, {docs[d]["source"] for d in leads}, STUB_CHARS, STUB_ROWS)
        subjects = {r["id"]: (dict(r), subject) for r in rows
                    if (subject := stub_subject(r["text"] or "")) and not named_like_its_project(subject, r)}
        if not subjects:
            return {}
        asked = set(terms) | {t[:-1] for t in terms if t.endswith("s")}
        named: dict[str, int] = {}  # how many stubs' names hold each word: a word many share names no subject
        for _, subject in subjects.values():
            for w in set(pieces(subject)):
                named[w] = named.get(w, 0) + 1
        texts = documents_store.texts_of(self.store, leads)
        found: dict[str, dict[str, Any]] = {}
        for lead in leads:
            said = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", texts.get(lead, "")))
            for i, (row, subject) in subjects.items():
                if i == lead or i in found or row["source"] != docs[lead]["source"] or subject not in said:
                    continue
                if any(named[w] <= STUB_NAMESAKES for w in asked & set(pieces(subject))):
                    found[i] = row | {"lead": lead}
        return self._visible(found, viewer)


def stub_subject(text: str) -> str | None:
    """The API name a reference stub documents ('KaplanMeierFitter' of '.. autoclass::
    lifelines.KaplanMeierFitter'), or None when the text says anything besides names and directives."""
    names: list[str] = []
    for line in text.splitlines():
        line = line.strip().strip("`*#:").strip()
        if not line or re.fullmatch(r"([=\-~^\"'+*#])\1*", line):
            continue
        m = re.fullmatch(r"(?:\.\. )?(?:auto\w+|currentmodule|module|class|function)::\s*(\S+)", line) \
            or re.fullmatch(r"(?::::\s*)?([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+)", line)
        if m:
            names.append(m.group(1).split(".")[-1])
            continue
        if re.fullmatch(r":\w+:.*", line) or re.fullmatch(r"[A-Za-z_][\w\-]*", line):
            continue  # an option (:members:), or the page's own one-word title
        return None
    subject = names[-1] if names else ""
    # a class (`KaplanMeierFitter`) or a function (`plot_convergence`); a module named by a plain word
    # (`lib.plots`) is a word any page says
    return subject if re.fullmatch(r"[A-Z]\w*|[a-z]\w*_\w*|[a-z]\w*[A-Z]\w*", subject) else None


def named_like_its_project(subject: str, d: dict[str, Any]) -> bool:
    """Whether an API name is its project's own (`BERTopic` in bertopic): the entry point every page
    uses, no subject of one (a folder above the page, or the source, is named so)."""
    folders = [bare_name(p) for p in re.split(r"[/\\]", d.get("path") or d.get("title") or "")[:-1]]
    return bare_name(subject) in {bare_name(d.get("source") or ""), *folders}


def stubs_follow(scores: dict[str, float], stubs: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each stub of `stubs` just below its lead (namesakes_follow's share)."""
    out = dict(scores)
    for d, row in stubs.items():
        lead = row.get("lead")
        if lead in out:
            out[d] = max(out.get(d, 0.0), out[lead] * SIBLING_SHARE)
    return out


def with_focus(store: Store, fused: dict[str, float], query_vector: np.ndarray, k: int = SEARCH_RRF_K,
               top: int | None = None, weight: float | None = None) -> dict[str, float]:
    """`fused` with a third reciprocal rank added: the best `top` candidates ordered by how much each
    is about the question as a whole (`focus`), which favours the page whose subject the question is
    over a long page with one passage about it."""
    leaders = sorted(fused, key=lambda d: -fused[d])[:top or FOCUS_DOCS]
    means = doc_means(store, leaders)
    if not means:
        return fused
    q = np.asarray(query_vector, dtype="float32")
    about = {d: focus(m, q) for d, m in means.items()}
    ranked = rrf([sorted(about, key=lambda d: -about[d])], k=k, weights=[weight or FOCUS_WEIGHT])
    return {d: score + ranked.get(d, 0.0) for d, score in fused.items()}


def focus(mean: np.ndarray, q: np.ndarray) -> float:
    """How much a document is about the question: the question's cosine with the document's direction
    (its passages' normalised mean), and with its passages on average, FOCUS_PASSAGES of the latter. The
    direction alone flatters a project's README, whose mean points at the project as a whole and so at
    any question about it; the passages' average falls with every topic a page spans."""
    norm = float(np.linalg.norm(mean))
    if norm == 0:
        return 0.0
    cosine = float(mean @ q)
    return (1 - FOCUS_PASSAGES) * cosine / norm + FOCUS_PASSAGES * cosine


def name_only(passage: str, d: dict[str, Any]) -> bool:
    """Whether a document's passage says nothing but its own name: every word of it is a word of its
    path or title (a notebook or file whose content was not kept, a placeholder page)."""
    own = " ".join(re.findall(r"[a-z0-9]+", " ".join((d.get("path") or "", d.get("title") or "")).casefold()))
    glued = own.replace(" ", "")  # the name's glued words, split in the passage: "changepoints", "change points"
    words = re.findall(r"[a-z0-9]+", passage.casefold())
    return bool(words) and len(passage) <= NAME_ONLY_CHARS and all(w in glued for w in words)


def page_name(d: dict[str, Any]) -> str:
    """A document's own name, the last part of its path (or title) without extension, case or
    punctuation: a user-guide page and the reference page of one subject share it."""
    name = re.split(r"[/\\]", (d.get("path") or d.get("title") or "").rstrip("/"))[-1]
    return bare_name(re.sub(r"\.(rst|md|markdown|txt|ipynb|html?|adoc|wiki)$", "", name, flags=re.IGNORECASE))


def bare_name(text: str) -> str:
    """'Drop_High PSI-Features' -> 'drophighpsifeatures': a name without case, spaces or punctuation."""
    return re.sub(r"[\W_]+", "", text.casefold())


def namesakes_follow(scores: dict[str, float], docs: dict[str, dict[str, Any]],
                     leads: int | None = None) -> dict[str, float]:
    """Documents named like one of the best few, in its source, follow it: one documentation set tells
    a subject on several pages of one name (the guide, the API reference, the example), and the short
    reference page seldom wins on words or sense alone. A name many candidates share (index, readme)
    is no subject; across sources a shared name is a coincidence or a copy (collapse_copies)."""
    names = {d: page_name(docs[d]) for d in scores if d in docs}
    count: dict[str, int] = {}
    for n in names.values():
        count[n] = count.get(n, 0) + 1
    out = dict(scores)
    for lead in sorted(scores, key=lambda d: -scores[d])[:leads or SIBLING_LEADS]:
        n = names.get(lead)
        if not n or count[n] >= SIBLING_COMMON or count[n] < 2:
            continue
        for d, m in names.items():
            if m == n and d != lead and docs[d].get("source") == docs[lead].get("source"):
                out[d] = max(out[d], scores[lead] * SIBLING_SHARE)
    return out


def _outline(metadata: str | None) -> list[Any] | None:
    """A document's outline of headings from its stored metadata (index/ingest/chunking.py), if any."""
    if not metadata or '"outline"' not in metadata:
        return None
    try:
        outline = json.loads(metadata).get("outline")
    except (ValueError, AttributeError):
        return None
    return outline if isinstance(outline, list) and outline else None


def anchor(heading: str, kind: str) -> str:
    """The #fragment a page gives its heading: MediaWiki's (spaces as underscores) for wiki pages,
    GitHub's and most static sites' slug (lower case, punctuation dropped, spaces as hyphens) otherwise."""
    if kind == "wiki_page":
        return quote(heading.strip().replace(" ", "_"), safe="_-.:~()!*'")
    slug = re.sub(r"[^\w\- ]", "", heading.strip().casefold())
    return re.sub(r" ", "-", slug)


def section_url(url: str, kind: str, path: list[str]) -> str:
    """`url` pointing at the innermost heading of `path` (unchanged without a section, a URL, or when
    the URL already has a fragment)."""
    if not path or not url or "#" in url:
        return url
    fragment = anchor(path[-1], kind)
    return f"{url}#{fragment}" if fragment else url


def document_priors(query: str, docs: dict[str, dict[str, Any]], traits: dict[str, Any],
                    passages: dict[str, str] | None = None) -> dict[str, float]:
    """A multiplier per document: its kind (a file known by name only, or any document whose best passage,
    in `passages`, is its name alone), its genre unless the question asks for that genre, and its
    language against the question's."""
    passages = passages or {}
    asked = {g for g, pattern in GENRE_ASKED.items() if pattern.search(query)}
    want = question_language(query, [t.get("lang") for t in traits.values()])
    out = {}
    for doc_id, d in docs.items():
        t = traits.get(doc_id) or {}
        p = KIND_PRIOR.get(d["kind"], NAME_ONLY_PRIOR if name_only(passages.get(doc_id, ""), d) else 1.0)
        g = t.get("genre") or ""
        if g and g not in asked:
            p *= GENRE_PRIOR.get(g, 1.0)
        if want and t.get("lang") and t["lang"] != want:
            p *= OTHER_LANGUAGE_PRIOR
        out[doc_id] = p
    return out


def question_language(query: str, candidate_langs: Iterable[str | None]) -> str:
    """The question's language: detected when the question says enough, else the language most of the
    candidate documents share (a translated tutorial is the exception, not the rule). "" when unknown,
    and "" when the candidates are all in one language (or none): then no page is in another language
    than the others, and the detector (most of a second to load) is not woken for the question."""
    counts: dict[str, int] = {}
    for lang in candidate_langs:
        if lang:
            counts[lang] = counts.get(lang, 0) + 1
    if len(counts) < 2:
        return ""
    said = language(query, min_letters=24, min_probability=0.9)
    if said:
        return said
    top, n = max(counts.items(), key=lambda kv: kv[1])
    return top if n * 2 > sum(counts.values()) else ""


def collapse_copies(hits: list[Hit], vectors: dict[str, np.ndarray], threshold: float = DUPLICATE_COSINE,
                    fingerprints: dict[str, str] | None = None) -> list[Hit]:
    """Fold a hit into a better-ranked one that holds the same text: their MinHash fingerprints are
    near (index/ingest/traits.py; nearer inside one source), or, in another source, their best passages are near
    identical (a wiki page mirroring a repository's docs folder). The group keeps the better rank
    and score; the published page (wiki, web) stands for it, the others are listed as copies."""
    fingerprints = fingerprints or {}
    kept: list[Hit] = []
    for hit in hits:
        v = vectors.get(hit.doc_id)
        f = fingerprints.get(hit.doc_id)
        twin = None
        for k in kept:
            if near_duplicates(f, fingerprints.get(k.doc_id), same_source=k.source == hit.source):
                twin = k
                break
            w = vectors.get(k.doc_id)
            if v is not None and w is not None and k.source != hit.source and float(np.dot(v, w)) >= threshold:
                twin = k
                break
        if twin is None:
            kept.append(hit)
            continue
        if PRESENTATION.get(hit.kind, 1) < PRESENTATION.get(twin.kind, 1):
            i = kept.index(twin)
            hit.score, hit.copies = twin.score, twin.copies + [_copy(twin)]
            twin.copies = []
            kept[i] = hit
        else:
            twin.copies.append(_copy(hit))
    return kept


def _copy(hit: Hit) -> dict[str, str]:
    return {"title": hit.title, "url": hit.url, "source": hit.source}
