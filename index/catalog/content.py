"""What a project is about: its characteristic passages and its key phrases.

A project's documents share much with every other project's: install steps, licences, changelog
lines, notebook scaffolding. Those passages lie near the corpus centre (the mean of the
projects' centroids). A passage is characteristic when, with the centre taken away, it points the
way the project's own content does (its summary and README first): the cosine of the centred
passage with the project's centred direction. The best `POOL` passages (a few per document) are
what overlaps compare (index/catalog/overlaps.py), and the text the key phrases come from.

Key phrases: candidate 1-3 word phrases of the project's summary, README, titles and
characteristic passages (index/catalog/keywords.py), embedded with the same model and scored by
similarity to the project's characteristic direction and summary minus half their similarity to the corpus
centre (generic phrases such as "pip install" sit near it), then diversified by maximal marginal
relevance. Phrase vectors are cached in `phrase_vectors`, so a rebuild embeds only new phrases.

Everything here is stored per project with a fingerprint of the project's documents and of the
centre it was computed against: a rebuild recomputes only the projects whose documents changed
(or all of them when the centre moved noticeably).
"""
from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from index.embedding.docvectors import from_blob, normalised, to_blob
from index.catalog.keywords import merge_forms, mmr, nested, phrase_candidates, phrase_key
from index.storage import project_content as content_db
from index.storage.chunk_vectors import vectored_chunks
from index.storage.sqlite.store import Store, now_iso

POOL = 64  # characteristic passages kept per project
PER_DOC = 4  # at most this many of them from one document
README_BONUS = 0.15  # README and summary passages are the project describing itself
CANDIDATES = 80  # candidate phrases embedded per project
KEY_PHRASES = 8
CENTRE_PENALTY = 0.5
MMR_DIVERSITY = 0.5
CENTRE_DRIFT = 0.995  # below this cosine between the stored and the current centre, recompute everyone
TEXT_CHARS = 20_000

Embed = Callable[[list[str]], np.ndarray]

@dataclass
class Content:
    """A project's characteristic content, as stored."""
    project_id: str
    direction: np.ndarray | None
    passages: np.ndarray  # POOL x dim unit rows
    refs: list[dict[str, Any]] = field(default_factory=list)  # per passage: {"doc_id", "chunk_id", "weight"}
    candidates: dict[str, list] = field(default_factory=dict)  # phrase key -> [written form, relevance]
    key_phrases: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _code_version() -> str:
    """A new version of this module or of the phrase rules recomputes every project's content."""
    from index.catalog import keywords
    return hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in (keywords, sys.modules[__name__]))).hexdigest()


def fingerprint(docs: Iterable[Mapping[str, Any]], extra: str = "") -> str:
    """What a project's content depends on: its documents, their content hashes, this code, and `extra`."""
    h = hashlib.sha256(f"{_code_version()}\x00{extra}".encode())
    for d in sorted(docs, key=lambda d: d["id"]):
        h.update(f"{d['id']}\x00{d.get('content_hash') or ''}\x01".encode())
    return h.hexdigest()


def centre_of(directions: Sequence[np.ndarray]) -> np.ndarray | None:
    """The corpus centre: the normalised mean of the projects' centroids, one vote per project."""
    vs = [v for v in directions if v is not None]
    return normalised(np.mean(np.stack(vs), axis=0)) if vs else None


def centred(v: np.ndarray, centre: np.ndarray | None) -> np.ndarray:
    """A vector with the centre's share taken away (not normalised)."""
    if centre is None:
        return v
    return v - np.outer(v @ centre, centre) if v.ndim == 2 else v - float(v @ centre) * centre


def _unit_rows(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.where(n > 0, n, 1)).astype("float32")


def select_passages(vectors: np.ndarray, doc_ids: Sequence[str], self_described: Sequence[bool],
                    anchor: np.ndarray | None, centre: np.ndarray | None, pool: int = POOL,
                    per_doc: int = PER_DOC) -> list[int]:
    """Indices of the most characteristic passages: centred cosine with the project's centred
    direction (its anchor, else its centroid), a bonus for the project describing itself
    (README, summary), at most `per_doc` from one document."""
    if not len(vectors):
        return []
    direction = anchor if anchor is not None else normalised(vectors.mean(axis=0))
    c = normalised(centred(direction, centre))
    rows = _unit_rows(centred(vectors, centre))
    score = rows @ c if c is not None else np.zeros(len(vectors), dtype="float32")
    score = score + README_BONUS * np.asarray(self_described, dtype="float32")
    taken: Counter = Counter()
    out = []
    for i in np.argsort(-score, kind="stable"):
        if taken[doc_ids[i]] >= per_doc:
            continue
        taken[doc_ids[i]] += 1
        out.append(int(i))
        if len(out) >= pool:
            break
    return out


def cached_vectors(store: Store, phrases: list[str], model: str = "") -> dict[str, np.ndarray]:
    """The cached unit vectors of those phrases this model has embedded."""
    out: dict[str, np.ndarray] = {}
    tag = f"{model}\x00"
    for p, blob in content_db.phrase_blobs(store, [tag + p for p in phrases]):
        out[p[len(tag):]] = from_blob(blob)
    return out


def phrase_vectors(store: Store, phrases: list[str], embed: Embed, model: str = "") -> dict[str, np.ndarray]:
    """Unit vectors of phrases, embedding only those not cached yet for this model."""
    tag = f"{model}\x00"
    out = cached_vectors(store, phrases, model)
    missing = [p for p in dict.fromkeys(phrases) if p not in out]
    if missing:
        vecs = embed(missing)
        content_db.save_phrases(store, [(tag + p, to_blob(v)) for p, v in zip(missing, vecs)])
        out.update(zip(missing, (np.asarray(v, dtype="float32") for v in vecs)))
    return out


def rank_phrases(counts: Counter, forms: Mapping[str, str], vectors: Mapping[str, np.ndarray],
                 direction: np.ndarray | None, centre: np.ndarray | None, exclude: Iterable[str] = (),
                 limit: int = KEY_PHRASES) -> tuple[dict[str, list], list[str]]:
    """(candidate key -> [written form, relevance], the key phrases picked by MMR)."""
    skip = {phrase_key(x) for x in exclude}
    keys = [k for k in counts if k not in skip and forms[k] in vectors]
    if not keys or direction is None:
        return {}, [forms[k] for k in sorted(keys, key=lambda k: -counts[k])[:limit]]
    m = np.stack([vectors[forms[k]] for k in keys])
    rel = m @ direction - (CENTRE_PENALTY * (m @ centre) if centre is not None else 0.0)
    cands = {k: [forms[k], round(float(r), 4)] for k, r in zip(keys, rel)}
    picked = mmr(keys, m, np.asarray(rel, dtype="float32"), limit, MMR_DIVERSITY)
    return cands, [forms[k] for k, _ in picked]


def candidate_counts(texts: Iterable[tuple[str, float]]) -> tuple[Counter, dict[str, str]]:
    """Weighted candidate phrase counts over (text, weight) pairs, keyed by phrase_key, and their shown forms."""
    raw: Counter = Counter()
    for text, weight in texts:
        for p, n in phrase_candidates(text[:TEXT_CHARS]).items():
            raw[p] += n * weight
    return merge_forms(raw)


def top_candidates(counts: Counter, limit: int = CANDIDATES) -> Counter:
    """The most frequent candidates; a longer phrase counts a little more than its words."""
    ranked = sorted(counts, key=lambda k: (-counts[k] * (1 + 0.5 * (k.count(" "))), k))
    return Counter({k: counts[k] for k in ranked[:limit] if counts[k] >= 1})


def save(store: Store, content: Content, fp: str) -> None:
    content_db.save_content(store, content_db.ProjectContentRow(
        project_id=content.project_id, fingerprint=fp, direction=to_blob(content.direction),
        passages=to_blob(content.passages.reshape(-1)), passage_refs=json.dumps(content.refs),
        candidates=json.dumps(content.candidates, ensure_ascii=False),
        key_phrases=json.dumps(content.key_phrases, ensure_ascii=False), built_at=now_iso()))


def load_all(store: Store) -> dict[str, Content]:
    out = {}
    for r in content_db.content_rows(store):
        d = from_blob(r["direction"])
        flat = from_blob(r["passages"])
        dim = len(d) if d is not None else 0
        passages = flat.reshape(-1, dim) if flat is not None and dim else np.zeros((0, dim), dtype="float32")
        out[r["project_id"]] = Content(r["project_id"], d, passages, json.loads(r["passage_refs"] or "[]"),
                                       json.loads(r["candidates"] or "{}"), json.loads(r["key_phrases"] or "[]"))
    return out


def fingerprints(store: Store) -> dict[str, str]:
    return content_db.fingerprints(store)


COMMUNITY = frozenset("""contributing contribute code_of_conduct code-of-conduct conduct security support governance
charter changelog changes history news release_notes releases license licence copying authors maintainers
pull_request_template issue_template funding citation citing disclaimer hall_of_fame""".split())


def community_page(path: str) -> bool:
    """A project's community and housekeeping files (CONTRIBUTING.md, CODE_OF_CONDUCT, CHANGELOG,
    LICENSE, .github templates, a wiki's 'contributing/...' pages): every project has them, so
    they say nothing about what this one does."""
    for seg in path.casefold().replace(" ", "_").split("/"):
        stem = seg.rsplit(".", 1)[0] if "." in seg[1:] else seg
        if stem.lstrip(".") in COMMUNITY or stem in (".github", "github"):
            return True
    return False


MIN_WORDS = 20  # shorter passages are file names, requirement lists or headings, not what a project does


def markup_heavy(text: str) -> bool:
    """Not prose: a passage of citations (BibTeX), JSON or code (many braces per word), or one too
    short to say anything (a file known only by its path, a requirements list)."""
    words = len(text.split())
    return words < MIN_WORDS or (text.count("{") + text.count("}")) > max(8, words // 10)


def build_content(store: Store, project_id: str, name: str, docs: Sequence[Mapping[str, Any]], summary: str,
                  centre: np.ndarray | None, embed: Embed | None, main_doc: str = "",
                  written_topics: Sequence[str] = (), model: str = "", exclude: Sequence[str] = (),
                  names: frozenset[str] = frozenset()) -> Content:
    """A project's characteristic passages and key phrases from its stored chunks.

    Never a key phrase: the project's own name, the phrases in `exclude` (its team, its sources),
    and any phrase with a word of `names` (people's names: who wrote it is not what it is about)."""
    kinds = {d["id"]: d.get("kind") for d in docs}
    prose = [d["id"] for d in docs if d.get("kind") != "code_path" and not community_page(d.get("path") or "")]
    rows = [r for r in vectored_chunks(store, prose) if not markup_heavy(r[2] or "")]
    if not rows:
        dim = len(centre) if centre is not None else 0
        return Content(project_id, None, np.zeros((0, dim), dtype="float32"))
    vectors = np.stack([np.frombuffer(r[3], dtype="float32") for r in rows])
    doc_ids = [r[1] for r in rows]
    own = [kinds.get(d) == "readme" or d == main_doc for d in doc_ids]
    anchor = None
    if embed is not None and summary:
        anchor = np.asarray(embed([f"{name}: {summary}"])[0], dtype="float32")
    elif any(own):
        anchor = normalised(vectors[np.asarray(own)].mean(axis=0))
    idx = select_passages(vectors, doc_ids, own, anchor, centre)
    passages = vectors[idx]
    direction = normalised(passages.mean(axis=0)) if len(idx) else None
    refs = [{"doc_id": doc_ids[i], "chunk_id": int(rows[i][0])} for i in idx]
    content = Content(project_id, direction, passages, refs)

    titles = [str(d.get("title") or "") for d in docs if d.get("kind") != "code_path"]
    texts = [(summary, 3.0), (" . ".join(written_topics), 3.0), (" . ".join(titles), 1.0)]
    texts += [(rows[i][2] or "", 1.0) for i in idx]
    counts, forms = candidate_counts(texts)
    in_summary = set(candidate_counts([(summary, 1.0)])[0])
    counts = Counter({k: n for k, n in counts.items() if n >= 2 or k in in_summary})
    own_name = phrase_key(name.replace("_", " "))
    exclude = [name, *name.replace("-", " ").replace("_", " ").split(), *exclude]
    banned = {phrase_key(x) for x in exclude}
    counts = top_candidates(Counter({k: n for k, n in counts.items()
                                     if k not in banned and not nested(k, own_name)
                                     and not (set(forms[k].casefold().split()) & names)}))
    if embed is None:
        content.key_phrases = [forms[k] for k in counts][:KEY_PHRASES]
        content.candidates = {k: [forms[k], 0.0] for k in counts}
        return content
    vecs = phrase_vectors(store, [forms[k] for k in counts], embed, model)
    about = normalised(direction + anchor) if anchor is not None and direction is not None else direction
    content.candidates, content.key_phrases = rank_phrases(counts, forms, vecs, about, centre, exclude)
    return content
