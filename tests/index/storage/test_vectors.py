"""The FAISS index: in-place writes, one generation file per crawl, recovery from SQLite, size classes."""
from __future__ import annotations

import logging

import faiss
import numpy as np
import pytest

from index.storage.sqlite.store import Store
import index.storage.sqlite.vectors as vectors_module
from index.storage.sqlite.vectors import (GENERATION_KEY, LAGGING_KEY, IndexOptions, VectorIndex, index_ids, ivf_lists,
                           wanted_kind)

DIM = 16


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype("float32")
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def checkpoint(store: Store, vectors: VectorIndex, doc: str, vecs: np.ndarray, remove: list[int] = ()) -> list[int]:
    """What the pipeline does at a Checkpoint: chunks into SQLite, the same change in FAISS, one commit."""
    store.begin()
    store.delete_chunks(list(remove))
    ids = store.add_chunks(doc, doc, [f"{doc} {i}" for i in range(len(vecs))], vecs)
    vectors.apply(ids, list(vecs), list(remove))
    vectors.write_next_generation()
    store.commit()
    return ids


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path)
    yield s
    s.close()


def files(tmp_path):
    return sorted(p.name for p in tmp_path.glob("vectors-*"))


def test_a_crawl_writes_one_generation_file_and_checkpoints_only_mark_it_lagging(store, tmp_path):
    rng = np.random.default_rng(1)
    vectors = VectorIndex(store, tmp_path, DIM)
    ids = []
    for n in range(4):
        ids += checkpoint(store, vectors, f"doc{n}", unit(rng, 5))
    assert files(tmp_path) == [] and store.get_meta(LAGGING_KEY) == "1"
    assert vectors.size == 20
    assert vectors.flush() is True
    assert files(tmp_path) == ["vectors-1.faiss"]
    assert store.get_meta(GENERATION_KEY) == "1" and store.get_meta(LAGGING_KEY) == "0"
    assert vectors.flush() is False  # nothing pending: no second write
    assert files(tmp_path) == ["vectors-1.faiss"]
    assert sorted(index_ids(VectorIndex(store, tmp_path, DIM).index).tolist()) == sorted(ids)


def test_a_long_crawl_also_writes_when_the_interval_has_passed(store, tmp_path, monkeypatch):
    import index.storage.sqlite.vectors as module

    rng = np.random.default_rng(2)
    vectors = VectorIndex(store, tmp_path, DIM)
    checkpoint(store, vectors, "a", unit(rng, 3))
    assert files(tmp_path) == []
    monkeypatch.setattr(module, "WRITE_EVERY_S", 0.0)
    checkpoint(store, vectors, "b", unit(rng, 3))
    assert files(tmp_path) == ["vectors-1.faiss"] and store.get_meta(LAGGING_KEY) == "0"


def test_another_process_sees_a_lagging_index_brought_up_to_date_from_sqlite(store, tmp_path):
    rng = np.random.default_rng(3)
    writer = VectorIndex(store, tmp_path, DIM)
    first = checkpoint(store, writer, "a", unit(rng, 4))
    writer.flush()
    second_vecs = unit(rng, 3)
    second = checkpoint(store, writer, "b", second_vecs, remove=first[:2])  # lagging from here on
    reader_store = Store(tmp_path)
    reader = VectorIndex(reader_store, tmp_path, DIM)
    assert sorted(index_ids(reader.index).tolist()) == sorted(first[2:] + second)
    assert reader.search(second_vecs[0], 1)[0][0] == second[0]
    reader_store.close()


def test_a_crawl_that_stopped_while_lagging_is_rebuilt_exactly_before_the_next(store, tmp_path, caplog):
    rng = np.random.default_rng(4)
    vectors = VectorIndex(store, tmp_path, DIM)
    checkpoint(store, vectors, "a", unit(rng, 4))
    vectors.flush()
    ids = checkpoint(store, vectors, "b", unit(rng, 4))  # then the process dies: no flush
    again = VectorIndex(store, tmp_path, DIM)
    with caplog.at_level(logging.WARNING, logger="index.storage.sqlite.vectors"):
        assert again.recover() is True
    assert "stopped before writing" in caplog.text
    assert store.get_meta(LAGGING_KEY) == "0" and store.get_meta(GENERATION_KEY) == "2"
    assert set(ids) <= set(index_ids(again.index).tolist()) and again.size == 8
    assert again.recover() is False


def test_a_rolled_back_checkpoint_leaves_the_previous_generation_in_force(store, tmp_path):
    rng = np.random.default_rng(5)
    vectors = VectorIndex(store, tmp_path, DIM)
    kept = checkpoint(store, vectors, "a", unit(rng, 3))
    vectors.flush()
    store.begin()
    ids = store.add_chunks("b", "b", ["x", "y"], unit(rng, 2))
    vectors.apply(ids, list(unit(rng, 2)), [])
    vectors.write_next_generation(force=True)  # the file is written, then the transaction fails
    store.rollback()
    vectors.reload()
    assert store.get_meta(GENERATION_KEY) == "1"
    assert sorted(index_ids(vectors.index).tolist()) == sorted(kept)


@pytest.mark.parametrize("damage", ["missing", "truncated", "garbage", "mismatched"])
def test_a_bad_generation_file_is_rebuilt_from_sqlite_with_a_warning(store, tmp_path, caplog, damage):
    rng = np.random.default_rng(6)
    vectors = VectorIndex(store, tmp_path, DIM)
    vecs = unit(rng, 6)
    ids = checkpoint(store, vectors, "a", vecs)
    vectors.flush()
    path = tmp_path / "vectors-1.faiss"
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00not a faiss index" * 50)
    else:  # a file from another state: fewer vectors than SQLite holds
        small = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
        small.add_with_ids(vecs[:2], np.asarray(ids[:2], dtype="int64"))
        faiss.write_index(small, str(path))
    with caplog.at_level(logging.WARNING, logger="index.storage.sqlite.vectors"):
        again = VectorIndex(store, tmp_path, DIM)
    assert "rebuilding it from SQLite" in caplog.text
    assert again.size == 6 and again.search(vecs[3], 1)[0][0] == ids[3]


def test_a_file_of_another_dimension_is_rebuilt(store, tmp_path, caplog):
    rng = np.random.default_rng(7)
    vectors = VectorIndex(store, tmp_path, DIM)
    checkpoint(store, vectors, "a", unit(rng, 3))
    vectors.flush()
    with caplog.at_level(logging.WARNING, logger="index.storage.sqlite.vectors"):
        other = VectorIndex(store, tmp_path, DIM * 2)  # a model change: stored vectors no longer fit
    assert "dimensional" in caplog.text and other.size == 0


def test_size_classes_exact_then_ivf_sq8_and_back(store, tmp_path):
    rng = np.random.default_rng(8)
    options = IndexOptions(kind="auto", exact_limit=2600)
    vectors = VectorIndex(store, tmp_path, DIM, options)
    centers = unit(rng, 40)
    data = centers[rng.integers(0, 40, 3000)] + 0.05 * rng.standard_normal((3000, DIM)).astype("float32")
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    ids = checkpoint(store, vectors, "a", data[:2000])
    vectors.flush()
    assert vectors.kind == "flat"
    ids += checkpoint(store, vectors, "b", data[2000:])  # past the limit: rebuilt in the background
    assert vectors.background is not None and vectors.kind == "flat"
    vectors.flush()  # the end of the crawl waits for it and writes the new kind
    assert vectors.kind == "ivf-sq8" and store.get_meta(LAGGING_KEY) == "0" and vectors.background is None
    assert VectorIndex(store, tmp_path, DIM, options).kind == "ivf-sq8"
    found = sum(vectors.search(data[i], 1)[0][0] == ids[i] for i in range(0, 3000, 30))
    assert found >= 95  # a stored vector finds itself through the inverted lists
    checkpoint(store, vectors, "c", unit(rng, 0), remove=ids[2600:])  # at the limit: no flapping back
    vectors.flush()
    assert vectors.kind == "ivf-sq8" and vectors.size == 2600
    checkpoint(store, vectors, "d", unit(rng, 0), remove=ids[2000:2600])
    vectors.flush()
    assert vectors.kind == "flat" and vectors.size == 2000


def test_ivf_asked_for_a_small_index_stays_exact_without_writing_at_every_checkpoint(store, tmp_path):
    rng = np.random.default_rng(10)
    vectors = VectorIndex(store, tmp_path, DIM, IndexOptions(kind="ivf-sq8"))
    for n in range(3):
        checkpoint(store, vectors, f"doc{n}", unit(rng, 10))
    assert vectors.kind == "flat" and files(tmp_path) == []


def test_hnsw_hides_removed_chunks_and_rebuilds_at_the_write(store, tmp_path):
    rng = np.random.default_rng(9)
    vectors = VectorIndex(store, tmp_path, DIM, IndexOptions(kind="hnsw"))
    vecs = unit(rng, 50)
    ids = checkpoint(store, vectors, "a", vecs)
    vectors.flush()
    assert vectors.kind == "hnsw"
    checkpoint(store, vectors, "b", unit(rng, 0), remove=ids[:5])
    assert all(cid not in ids[:5] for cid, _ in vectors.search(vecs[0], 10))
    assert vectors.size == 45
    vectors.flush()
    assert vectors.index.ntotal == 45 and not vectors.removed


def test_wanted_kind_and_list_counts():
    auto = IndexOptions(exact_limit=100_000)
    assert wanted_kind(auto, 100_000) == "flat" and wanted_kind(auto, 100_001) == "ivf-sq8"
    assert wanted_kind(auto, 90_000, current="ivf-sq8") == "ivf-sq8"  # no flapping around the limit
    assert wanted_kind(IndexOptions(kind="hnsw"), 10) == "hnsw"
    assert wanted_kind(IndexOptions(kind="ivf-sq8"), 100) == "flat"
    assert ivf_lists(1_000_000) == 1024 and ivf_lists(10) == 64


def clustered(rng: np.random.Generator, n: int) -> np.ndarray:
    centers = unit(rng, 40)
    data = centers[rng.integers(0, 40, n)] + 0.05 * rng.standard_normal((n, DIM)).astype("float32")
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def test_a_size_class_change_rebuilds_in_the_background_while_checkpoints_commit(store, tmp_path, monkeypatch):
    """The crawl keeps committing and answering from the exact index while IVF is trained; the swapped-in
    index holds exactly the stored chunks, including ones changed during the build and a reused chunk id."""
    rng = np.random.default_rng(21)
    options = IndexOptions(kind="auto", exact_limit=2600)
    vectors = VectorIndex(store, tmp_path, DIM, options)
    data = clustered(rng, 3400)
    ids = checkpoint(store, vectors, "a", data[:2000])
    vectors.flush()
    release = __import__("threading").Event()
    real_build = vectors_module.build_index

    def held_build(*args, **kwargs):
        release.wait(30)  # the build waits until the crawl below has changed chunks under it
        return real_build(*args, **kwargs)

    monkeypatch.setattr(vectors_module, "build_index", held_build)
    ids += checkpoint(store, vectors, "b", data[2000:2800])
    job = vectors.background
    assert job is not None and vectors.kind == "flat"
    # the next checkpoint starts the build from what is committed (a and b): it deletes the highest
    # chunk and SQLite hands that id to a new chunk with another vector
    top = max(ids)
    reused = checkpoint(store, vectors, "d", data[3000:3001], remove=[top])
    assert reused == [top] and job.snapshot.is_set()  # the situation this test is about
    # the crawl goes on: another checkpoint commits, removes chunks, and searches answer meanwhile
    more = checkpoint(store, vectors, "c", data[2800:3000], remove=ids[100:150])
    assert vectors.search(data[2900], 1)[0][0] == more[100]
    assert vectors.kind == "flat" and store.get_meta(LAGGING_KEY) == "1"
    release.set()
    job.wait()
    assert job.error is None
    vectors.flush()
    assert vectors.kind == "ivf-sq8" and vectors.background is None
    stored = sorted(r["id"] for r in store.query("SELECT id FROM chunks"))
    assert sorted(index_ids(vectors.index).tolist()) == stored
    assert vectors.search(data[3000], 1)[0][0] == top  # the reused id carries its new vector
    reopened = VectorIndex(store, tmp_path, DIM, options)
    assert reopened.kind == "ivf-sq8" and sorted(index_ids(reopened.index).tolist()) == stored


def test_a_failed_background_rebuild_falls_back_to_rebuilding_at_the_write(store, tmp_path, monkeypatch, caplog):
    rng = np.random.default_rng(22)
    options = IndexOptions(kind="auto", exact_limit=2600)
    vectors = VectorIndex(store, tmp_path, DIM, options)
    data = clustered(rng, 3000)
    checkpoint(store, vectors, "a", data[:2000])
    vectors.flush()
    real_build = vectors_module.build_index
    monkeypatch.setattr(vectors_module, "build_index", lambda *a, **k: (_ for _ in ()).throw(MemoryError("no room")))
    checkpoint(store, vectors, "b", data[2000:])
    vectors.background.wait()
    monkeypatch.setattr(vectors_module, "build_index", real_build)
    with caplog.at_level(logging.WARNING):
        vectors.flush()
    assert "background rebuild failed" in caplog.text and "no room" in caplog.text
    assert vectors.kind == "ivf-sq8" and vectors.size == 3000
