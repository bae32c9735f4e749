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

During a crawl that rebuild runs in a background thread (`_Rebuild`) from a read snapshot of SQLite on
its own connection, so checkpoints keep committing and readers keep answering from the current index
(training IVF on 100k vectors takes most of a minute here). The crawl swaps the new index in at a later
checkpoint, or waits for it at the end, and brings it up to date by chunk id, re-adding every chunk it
touched meanwhile (SQLite may reuse the id of a deleted chunk for a new one).
"""
from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import faiss
import numpy as np

from index.storage.sqlite.store import Store

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


def fill_index(conn: sqlite3.Connection, kind: str, dim: int, n: int, decode) -> faiss.Index:
    """A new index of `kind` for about n chunks holding every vector in the chunks table that
    `conn` sees (IVF trained on a random sample of them); `decode` turns rows into (ids, vectors)."""
    sample = None
    if kind == "ivf-sq8":
        rows = conn.execute("SELECT id, vector FROM chunks ORDER BY random() LIMIT ?", (training_size(n),))
        sample = np.vstack(decode(rows)[1])
    index = build_index(kind, dim, n, sample)
    rows = conn.execute("SELECT id, vector FROM chunks")
    while batch := rows.fetchmany(20_000):
        ids, vecs = decode(batch)
        if ids:
            index.add_with_ids(np.vstack(vecs), np.asarray(ids, dtype="int64"))
    return index


class _Rebuild:
    """A new index of `kind` for about n chunks, built in a thread from a committed snapshot of the
    chunks' vectors. It starts after the transaction that asked for it has committed (`start`)."""

    def __init__(self, db_path: Path, dim: int, kind: str, n: int, decode, touched: set[int]):
        self.kind, self.dim, self.n, self.path, self.decode = kind, dim, n, db_path, decode
        self.touched = set(touched)  # chunk ids the crawl changed since (or just before) the snapshot
        self.index: faiss.Index | None = None
        self.error: BaseException | None = None
        self.snapshot = threading.Event()
        self.thread = threading.Thread(target=self._run, name="vector-rebuild", daemon=True)

    def start(self) -> None:
        """Begin, and return once the snapshot is taken: what is committed now is in it."""
        if self.thread.ident is None:
            self.thread.start()
            self.snapshot.wait(60)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(f"{Path(self.path).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
            try:
                conn.execute("BEGIN")  # one read snapshot for the sample and the vectors
                n = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
                self.snapshot.set()
                index = fill_index(conn, self.kind, self.dim, max(n, self.n), self.decode)
                conn.execute("COMMIT")
            finally:
                conn.close()
            self.index = index
        except BaseException as e:  # noqa: BLE001 - reported to the crawl, which keeps its current index
            self.error = e
        finally:
            self.snapshot.set()

    def done(self) -> bool:
        return self.thread.ident is not None and not self.thread.is_alive()

    def wait(self) -> None:
        self.start()
        self.thread.join()


class VectorIndex:
    def __init__(self, store: Store, data_dir: Path, dim: int, options: IndexOptions | None = None):
        self.store, self.dir, self.dim = store, data_dir, dim
        self.options = options or IndexOptions()
        self.pending = False  # committed vector changes not yet in a generation file
        self.removed: set[int] = set()  # HNSW cannot remove in place: hidden here until the next write
        self.hnsw_removals = False
        self.last_write = time.monotonic()
        self.background: _Rebuild | None = None  # a size-class rebuild running during a crawl
        self._recent: set[int] = set()  # chunk ids changed in this transaction (not yet committed)
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
        self.index = fill_index(self.store.conn, kind, self.dim, n, self._decode)
        return self.index

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
        self._recent.update(int(i) for i in add_ids)
        self._recent.update(int(i) for i in remove_ids)
        if self.background is not None:
            self.background.start()  # the transaction that asked for it has committed by now
            self.background.touched.update(self._recent)
        if remove_ids:
            self._remove(np.asarray(remove_ids, dtype="int64"))
        if add_ids:
            self.removed.difference_update(add_ids)  # HNSW: a reused chunk id shows until the next write rebuilds
            self.index.add_with_ids(np.vstack(add_vecs).astype("float32"), np.asarray(add_ids, dtype="int64"))
        if add_ids or remove_ids:
            self.pending = True

    def _size_class_kind(self) -> str | None:
        """The kind to rebuild as when the size class changed (flat <-> IVF, or IVF lists 4x off the
        size); None when the current index fits."""
        n = self.size
        current = self.kind
        want = wanted_kind(self.options, n, current)
        if current == want == "ivf-sq8":
            nlist = faiss.extract_index_ivf(self.index).nlist
            return want if not (ivf_lists(n) / 4 <= nlist <= ivf_lists(n) * 4) else None
        return want if want != current else None

    def _resized(self) -> bool:
        """Rebuild now, in this thread, when the size class changed or HNSW holds removed vectors."""
        want = self._size_class_kind()
        if want is None and self.kind == "hnsw" and self.hnsw_removals:
            want = "hnsw"
        if want is None:
            return False
        log.info("vector index: rebuilding as %s for %d chunks (was %s)", want, self.size, self.kind)
        self.rebuild(want)
        return True

    def _swap_in_background_index(self, wait: bool) -> bool:
        """Take the background rebuild's index when it is done (or, with `wait`, once it is), brought
        up to the chunks this transaction sees. True when the index was replaced."""
        job = self.background
        if job is None or not (wait or job.done()):
            return False
        job.wait()
        self.background = None
        if job.error is not None or job.index is None:
            log.warning("vector index: the background rebuild failed (%s); rebuilding at the write instead",
                        job.error)
            return False
        self.index, self.removed, self.hnsw_removals = job.index, set(), False
        if job.touched:  # chunks changed since the snapshot, including any id SQLite handed out again
            touched = np.asarray(sorted(job.touched), dtype="int64")
            present = np.intersect1d(index_ids(self.index), touched, assume_unique=True)
            if len(present):
                self._remove(present)
        self._sync_from_store()
        log.info("vector index: now %s for %d chunks (built in the background)", self.kind, self.size)
        return True

    def write_next_generation(self, force: bool = False) -> int:
        """Record this transaction's vector changes. Inside a crawl the file is written when due
        (WRITE_EVERY_S since the last write, or a background rebuild that finished) and otherwise
        marked lagging in the same transaction; `force` writes now. A size-class change starts a
        background rebuild; `force` waits for it. The caller commits SQLite."""
        gen = self._generation()
        swapped = self._swap_in_background_index(wait=force)
        if self.background is None and not force and (want := self._size_class_kind()) is not None:
            log.info("vector index: %d chunks call for %s (now %s); rebuilding in the background",
                     self.size, want, self.kind)
            self.background = _Rebuild(self.store.path, self.dim, want, self.size, self._decode, self._recent)
        self._recent = set()
        due = force or swapped or time.monotonic() - self.last_write >= WRITE_EVERY_S
        if not due:
            self.store.set_meta(LAGGING_KEY, "1")
            return gen
        if self.background is None:
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
        """At the end of a crawl: write the generation file if vector changes are pending (after
        waiting, outside any transaction, for a background rebuild)."""
        if self.background is not None:
            self.background.wait()
        if not self.pending and self.store.get_meta(LAGGING_KEY) != "1" and self.background is None:
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
