"""The FAISS vector index of chunk embeddings, keyed by chunk id, sized to the number of chunks.

Vectors are added and removed in place. The index is saved to a file named by a generation
number, and the generation is recorded in the same SQLite transaction as the chunks it indexes;
SQLite also keeps every vector, so the file can always be rebuilt from it.

A crawl does not write the file at every checkpoint: it marks the file as lagging in the checkpoint's
transaction and writes the next generation once at the end of the crawl (`flush`), or when
WRITE_EVERY_S have passed during a long one. A process that opens a lagging file (a crawl running
elsewhere) brings it up to date from SQLite by chunk id; a crawl that finds the previous one
stopped while lagging rebuilds from SQLite. A missing, mismatched, corrupt or truncated file is
rebuilt from SQLite with a warning, never a crash.

Index kinds ([guild] vector_index): "flat" is exact inner product; "ivf-sq8" keeps 8-bit codes
(about 0.4 KB a chunk) in inverted lists and scans a few of them; "hnsw" is a graph over full
vectors. "auto" (the default) is exact up to `exact_limit` chunks, then IVF-SQ8. The index is
rebuilt when the size class changes (and for IVF when the list count is out of step with the size).
"""
from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import faiss
import numpy as np

from .store import Store

GENERATION_KEY = "vectors_generation"
LAGGING_KEY = "vectors_lagging"  # "1" while SQLite holds committed vector changes the file lacks
KINDS = ("auto", "flat", "ivf-sq8", "hnsw")
WRITE_EVERY_S = 300.0
IVF_MIN = 39 * 64  # FAISS wants 39 training vectors per list, and there are at least 64 lists
HNSW_M, HNSW_EF_SEARCH, HNSW_EF_CONSTRUCTION = 32, 128, 80
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexOptions:
    kind: str = "auto"
    exact_limit: int = 100_000  # auto: exact search up to this many chunks
    nprobe: int = 0  # IVF lists scanned per query; 0 = a sixteenth of the lists, at least 16


def wanted_kind(options: IndexOptions, n: int, current: str | None = None) -> str:
    """The index kind for n chunks; auto switches back to exact only well below the limit."""
    if options.kind != "auto":
        kind = options.kind
    elif current == "ivf-sq8" and n >= 0.8 * options.exact_limit:
        kind = "ivf-sq8"
    else:
        kind = "ivf-sq8" if n > options.exact_limit else "flat"
    return "flat" if kind == "ivf-sq8" and n < IVF_MIN else kind  # too few to train lists; exact is cheap


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: about sqrt(n), a power of two, 64..4096 (training stays quick)."""
    return int(min(4096, max(64, 2 ** round(math.log2(max(1.0, math.sqrt(n)))))))


def kind_of(index: faiss.Index) -> str:
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return "ivf-sq8"
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"


def index_ids(index: faiss.Index) -> np.ndarray:
    """Every id held by an index built here."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        return faiss.vector_to_array(index.id_map).astype("int64")
    lists = ivf.invlists
    parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
             for i in range(lists.nlist) if lists.list_size(i)]
    return np.concatenate(parts).astype("int64") if parts else np.zeros(0, dtype="int64")


def build_index(kind: str, dim: int, n: int, sample: np.ndarray | None = None) -> faiss.Index:
    """An empty index of `kind` for about n vectors; IVF is trained on `sample`."""
    if kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
        return faiss.IndexIDMap2(inner)
    if kind == "ivf-sq8":
        nlist = ivf_lists(n)
        if sample is None or len(sample) < nlist:
            raise ValueError(f"IVF-SQ8 with {nlist} lists needs at least {nlist} training vectors")
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True
        quantizer.this.disown()
        index.cp.niter = 10  # k-means iterations: recall barely moves past ten, build time does
        index.train(np.ascontiguousarray(sample, dtype="float32"))
        return index
    raise ValueError(f"unknown vector index kind {kind!r}; use one of {', '.join(KINDS)}")


def training_size(n: int) -> int:
    return min(n, max(40 * ivf_lists(n), 20_000), 100_000)


def search_index(index: faiss.Index, vectors: np.ndarray, k: int, nprobe: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the k best per query row, with the kind's search-time settings."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = min(ivf.nlist, nprobe or max(16, ivf.nlist // 16))
    if len(vectors) > 1:
        return index.search(np.ascontiguousarray(vectors, dtype="float32"), k)
    # one question on one thread: OpenMP's hand-offs cost more than they save for a single query,
    # and on a busy machine waiting threads turn milliseconds into tenths of seconds
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(np.ascontiguousarray(vectors, dtype="float32"), k)
    finally:
        faiss.omp_set_num_threads(threads)


class VectorIndex:
    def __init__(self, store: Store, data_dir: Path, dim: int, options: IndexOptions | None = None):
        self.store, self.dir, self.dim = store, data_dir, dim
        self.options = options or IndexOptions()
        self.pending = False  # committed vector changes not yet in a generation file
        self.removed: set[int] = set()  # HNSW cannot remove in place: hidden here until the next write
        self.hnsw_removals = False
        self.last_write = time.monotonic()
        self.index = self._load()

    def _file(self, generation: int) -> Path:
        return self.dir / f"vectors-{generation}.faiss"

    def _generation(self) -> int:
        return int(self.store.get_meta(GENERATION_KEY, "0") or 0)

    def _load(self) -> faiss.Index:
        self.removed, self.hnsw_removals = set(), False
        gen = self._generation()
        lagging = self.store.get_meta(LAGGING_KEY) == "1"
        chunks = self.store.count("chunks")
        if not gen:
            if chunks and not lagging:  # lagging: a first crawl is running elsewhere, no file yet
                log.warning("the vector index has never been written; rebuilding it from the %d vectors in SQLite", chunks)
            return self.rebuild()
        path = self._file(gen)
        problem = None
        index = None
        if not path.exists():
            problem = f"{path.name} is missing"
        else:
            try:
                index = faiss.read_index(str(path))
            except Exception as e:  # noqa: BLE001 - faiss raises RuntimeError for truncated or corrupt files
                problem = f"{path.name} cannot be read ({str(e).splitlines()[0][:120] if str(e) else type(e).__name__})"
            else:
                if index.d != self.dim:
                    problem = f"{path.name} holds {index.d}-dimensional vectors, the model makes {self.dim}"
                elif not lagging and index.ntotal != chunks:
                    problem = f"{path.name} holds {index.ntotal} vectors, SQLite {chunks}"
        if problem:
            log.warning("the vector index does not match the stored chunks (%s); rebuilding it from SQLite", problem)
            return self.rebuild()
        if lagging:
            self.index = index
            self._sync_from_store()
            self.pending = True
        return self.index if lagging else index

    def _sync_from_store(self) -> None:
        """Bring a lagging index up to the chunks in SQLite, by chunk id."""
        have = index_ids(self.index)
        stored = np.fromiter((r[0] for r in self.store.conn.execute("SELECT id FROM chunks")), dtype="int64")
        gone = np.setdiff1d(have, stored, assume_unique=True)
        new = np.setdiff1d(stored, have, assume_unique=True)
        if len(gone):
            self._remove(gone)
        for i in range(0, len(new), 5000):
            part = new[i:i + 5000].tolist()
            blobs = self.store.chunk_vectors(part)
            ids, vecs = self._decode(blobs.items())
            if ids:
                self.index.add_with_ids(np.vstack(vecs), np.asarray(ids, dtype="int64"))

    def _decode(self, rows: Iterable[tuple[int, bytes]]) -> tuple[list[int], list[np.ndarray]]:
        ids, vecs = [], []
        for cid, blob in rows:
            if blob and len(blob) == 4 * self.dim:
                ids.append(cid)
                vecs.append(np.frombuffer(blob, dtype="float32"))
        return ids, vecs

    def reload(self) -> None:
        self.index = self._load()

    def recover(self) -> bool:
        """Before a crawl: an index left lagging by a crawl that stopped early is rebuilt exactly
        from SQLite and written. True when that happened."""
        if self.store.get_meta(LAGGING_KEY) != "1":
            return False
        log.warning("the last crawl stopped before writing the vector index; rebuilding it from SQLite")
        self.rebuild()
        self.pending = True
        self.flush()
        return True

    def rebuild(self, kind: str | None = None) -> faiss.Index:
        """Recreate the index from the vectors stored in SQLite, of the kind its size calls for."""
        self.removed, self.hnsw_removals = set(), False
        n = self.store.count("chunks")
        kind = wanted_kind(IndexOptions(kind or "auto", self.options.exact_limit) if kind else self.options, n)
        sample = None
        if kind == "ivf-sq8":
            rows = self.store.conn.execute("SELECT id, vector FROM chunks ORDER BY random() LIMIT ?",
                                           (training_size(n),))
            sample = np.vstack(self._decode(rows)[1])
        index = build_index(kind, self.dim, n, sample)
        batch: list[tuple[int, bytes]] = []
        for row in self.store.all_vectors():
            batch.append(row)
            if len(batch) >= 20_000:
                self._add(index, batch)
                batch = []
        self._add(index, batch)
        self.index = index
        return index

    def _add(self, index: faiss.Index, rows: list[tuple[int, bytes]]) -> None:
        ids, vecs = self._decode(rows)
        if ids:
            index.add_with_ids(np.vstack(vecs), np.asarray(ids, dtype="int64"))

    @property
    def kind(self) -> str:
        return kind_of(self.index)

    @property
    def size(self) -> int:
        return self.index.ntotal - len(self.removed)

    def _remove(self, ids: np.ndarray) -> None:
        if self.kind == "hnsw":
            self.removed.update(int(i) for i in ids)
            self.hnsw_removals = True
        else:
            self.index.remove_ids(np.asarray(ids, dtype="int64"))

    def apply(self, add_ids: list[int], add_vecs: list[np.ndarray], remove_ids: list[int]) -> None:
        """Change the index in memory; the next `write_next_generation` records it."""
        if remove_ids:
            self._remove(np.asarray(remove_ids, dtype="int64"))
        if add_ids:
            self.removed.difference_update(add_ids)  # HNSW: a reused chunk id shows until the next write rebuilds
            self.index.add_with_ids(np.vstack(add_vecs).astype("float32"), np.asarray(add_ids, dtype="int64"))
        if add_ids or remove_ids:
            self.pending = True

    def _resized(self) -> bool:
        """Rebuild when the size class changed (flat <-> IVF, or IVF lists 4x off the size)."""
        n = self.size
        current = self.kind
        want = wanted_kind(self.options, n, current)
        stale_lists = False
        if current == want == "ivf-sq8":
            nlist = faiss.extract_index_ivf(self.index).nlist
            stale_lists = not (ivf_lists(n) / 4 <= nlist <= ivf_lists(n) * 4)
        if want != current or stale_lists or (current == "hnsw" and self.hnsw_removals):
            log.info("vector index: rebuilding as %s for %d chunks (was %s)", want, n, current)
            self.rebuild(want)
            return True
        return False

    def write_next_generation(self, force: bool = False) -> int:
        """Record this transaction's vector changes. Inside a crawl the file is written when due
        (WRITE_EVERY_S since the last write, or a size-class change) and otherwise marked lagging in
        the same transaction; `force` writes now. The caller commits SQLite."""
        gen = self._generation()
        due = force or time.monotonic() - self.last_write >= WRITE_EVERY_S
        if not due and wanted_kind(self.options, self.size, self.kind) == self.kind:
            self.store.set_meta(LAGGING_KEY, "1")
            return gen
        self._resized()
        gen += 1
        tmp = self._file(gen).with_suffix(".tmp")
        faiss.write_index(self.index, str(tmp))
        os.replace(tmp, self._file(gen))
        self.store.set_meta(GENERATION_KEY, str(gen))
        self.store.set_meta(LAGGING_KEY, "0")
        self.pending = False
        self.last_write = time.monotonic()
        return gen

    def flush(self) -> bool:
        """At the end of a crawl: write the generation file if vector changes are pending."""
        if not self.pending and self.store.get_meta(LAGGING_KEY) != "1":
            return False
        self.store.begin()
        try:
            self.write_next_generation(force=True)
        except BaseException:
            self.store.rollback()
            raise
        self.store.commit()
        self.drop_old_generations()
        return True

    def drop_old_generations(self) -> None:
        gen = self._generation()
        for f in self.dir.glob("vectors-*.faiss*"):
            if f.name != self._file(gen).name:
                f.unlink(missing_ok=True)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.index.ntotal == 0:
            return []
        fetch = min(k + len(self.removed), self.index.ntotal)
        scores, ids = search_index(self.index, vector.reshape(1, -1), fetch, self.options.nprobe)
        hits: dict[int, float] = {}
        for i, s in zip(ids[0].tolist(), scores[0].tolist()):
            if i != -1 and i not in self.removed and i not in hits:
                hits[i] = s
        return list(hits.items())[:k]
