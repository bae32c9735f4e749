"""Crash safety: crawls killed with SIGKILL at random moments recover to an uninterrupted crawl's answers.

Each crawl is a real process (forked from a multiprocessing forkserver that loaded the real model
once, so kills land in the crawl's work, not in start-up) over real git repositories and a folder
of files, committing every few documents so kills also fall between and inside commits. After
each kill the store must be consistent as it is; after a recovery crawl its documents, chunks,
search and who answers must equal those of a crawl that was never interrupted.
"""
from __future__ import annotations

import multiprocessing
import random
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ScriptedRepo, write_config
from support.fake_forge import open_guild

COMMIT_DOCS, EMBED_BATCH = 3, 4  # many small commits: kills fall before, inside and after them
TRIALS = 6  # per phase: first crawls, then re-crawls (12 kills in all)
QUERIES = ["drift monitoring thresholds", "on-call runbook"]
TOPICS = ["drift monitoring thresholds", "feature store backfill", "ranking model evaluation", "on-call runbook",
          "quantile regression forecasts", "embedding cache warmup"]


def _write_sources(root: Path, version: int) -> None:
    """Two git repositories and a folder of notes; version 2 edits, adds and deletes in each."""
    people = [("Ada Lovelace", "ada@northwind.test"), ("Grace Hopper", "grace@northwind.test"),
              ("Alan Turing", "alan@northwind.test")]
    for r, name in enumerate(("ranker", "drift")):
        path = root / "repos" / name
        repo = ScriptedRepo(path) if version == 1 else _Reopen(path)
        files: dict[str, str | None] = {}
        if version == 1:
            files["README.md"] = f"# {name}\n\nThe {name} service owns {TOPICS[r]}.\n"
            for i in range(4):
                topic = TOPICS[(i + r) % len(TOPICS)]
                files[f"docs/note{i}.md"] = f"# Note {i} of {name}\n\nHow we handle {topic} in {name}, step {i}.\n"
        else:
            files["docs/note1.md"] = f"# Note 1 of {name}\n\nRewritten: {TOPICS[4]} replaced the old approach.\n"
            files["docs/note2.md"] = None
            files["docs/added.md"] = f"# Added to {name}\n\nA new page on {TOPICS[5]}.\n"
        for n, (author, email) in enumerate(people):
            part = {k: v for j, (k, v) in enumerate(sorted(files.items())) if j % len(people) == n}
            if part:
                repo.commit(author, email, part, message=f"v{version} by {author}")
    notes = root / "notes"
    notes.mkdir(exist_ok=True)
    if version == 1:
        for i in range(4):
            (notes / f"page{i}.md").write_text(f"---\nauthor: Grace Hopper\n---\n# Page {i}\n\n"
                                               f"Team notes about {TOPICS[(i + 2) % len(TOPICS)]}, part {i}.\n")
    else:
        (notes / "page0.md").write_text("# Page 0\n\nTeam notes rewritten about the on-call runbook.\n")
        (notes / "page3.md").unlink()
        (notes / "fresh.md").write_text("# Fresh\n\nEmbedding cache warmup, measured.\n")


class _Reopen(ScriptedRepo):
    def __init__(self, path: Path):  # an existing repository: continue its history
        self.path, self.clock = path, 1_700_000_000


def _config(root: Path, folder: Path) -> Path:
    """guild.toml in `folder`, its data_dir at folder/data."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_config(folder, [
        {"kind": "git", "name": "ranker", "team": "Ranking", "url": str(root / "repos" / "ranker")},
        {"kind": "git", "name": "drift", "team": "Platform", "url": str(root / "repos" / "drift")},
        {"kind": "files", "name": "notes", "team": "Platform", "path": str(root / "notes")},
    ])


def _data_dir(config: Path) -> Path:
    return config.parent / "data"


def _answers(guild) -> dict:
    """Everything a user can see, with scores rounded past float noise; order-free where ties may fall."""
    search = {q: sorted((h.title, h.url, h.source, round(h.score, 5)) for h in guild.search(q, limit=50))
              for q in QUERIES}
    who = {q: sorted((e.name, round(e.score, 5), tuple(sorted(ev.url for ev in e.evidence)))
                     for e in guild.experts(q, limit=50)) for q in QUERIES}
    docs = sorted((r["id"], r["content_hash"], r["url"]) for r in
                  guild.store.query("SELECT id, content_hash, url FROM documents"))
    chunks = sorted((r["doc_id"], r["seq"], r["text"]) for r in guild.store.query("SELECT doc_id, seq, text FROM chunks"))
    return {"search": search, "who": who, "docs": docs, "chunks": chunks}


def _check_consistent(guild) -> None:
    store = guild.store
    orphans = store.query("SELECT count(*) AS n FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)")[0]["n"]
    assert orphans == 0, "chunks without their document"
    fts = store.query("SELECT count(*) AS n FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)")[0]["n"]
    assert fts == 0 and store.count("chunks_fts") == store.count("chunks"), "full-text rows without their chunk"
    dupes = store.query("""SELECT source, path, count(*) AS n FROM documents WHERE kind != 'commit'
                           GROUP BY source, path HAVING count(*) > 1""")  # many commits share their common folder as path
    assert dupes == [], f"duplicated documents: {dupes}"
    contributions = store.query("SELECT count(*) AS n FROM contributions WHERE doc_id NOT IN (SELECT id FROM documents)")
    assert contributions[0]["n"] == 0, "contributions of documents that are gone"
    assert guild.vectors.size == store.count("chunks"), "FAISS and SQLite disagree on the number of chunks"
    if getattr(store, "backend", "sqlite") == "postgres":  # no files: every chunk row carries its embedding
        assert store.query("SELECT count(*) AS n FROM chunks WHERE embedding IS NULL")[0]["n"] == 0
        return
    faiss_ids = set(np.asarray([guild.vectors.index.id_map.at(i) for i in range(guild.vectors.size)]).tolist())
    assert faiss_ids == {r["id"] for r in store.query("SELECT id FROM chunks")}, "FAISS ids are not the chunk ids"


def _recover(config: Path) -> dict:
    guild = open_guild(config)
    try:
        _check_consistent(guild)  # the killed crawl left a consistent store, before any repair
        report = guild.crawl()
        assert not report.failed, [s.error for s in report.failed]
        _check_consistent(guild)
        return _answers(guild)
    finally:
        guild.close()


@pytest.fixture(scope="module")
def forkserver():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["support.crash_worker"])
    from support import crash_worker

    warm = ctx.Process(target=crash_worker.ready)  # starts the forkserver: the model loads once, here
    warm.start()
    warm.join()
    assert warm.exitcode == 0
    yield ctx
    from multiprocessing import forkserver as fs

    fs._forkserver._stop()  # the forkserver process ends with the test module


def _run(ctx, config: Path, kill_after: float | None) -> bool:
    """Crawl in a forked process; SIGKILL it after `kill_after` seconds. True when it was killed mid-crawl."""
    from support import crash_worker

    p = ctx.Process(target=crash_worker.crawl, args=(str(config), COMMIT_DOCS, EMBED_BATCH))
    p.start()
    p.join(kill_after)
    killed = p.is_alive()
    if killed:
        p.kill()
        p.join(10)
    else:
        assert p.exitcode == 0, f"the crawl failed on its own (exit {p.exitcode})"
    return killed


def test_kills_at_random_moments_recover_to_the_uninterrupted_answers(tmp_path, forkserver):
    rng = random.Random(11)
    src = tmp_path / "src"
    _write_sources(src, 1)

    clean = _config(src, tmp_path / "clean")
    t0 = time.perf_counter()
    assert not _run(forkserver, clean, None)
    first_duration = time.perf_counter() - t0
    baseline = _recover(clean)  # re-crawling a complete crawl changes nothing
    assert baseline["docs"] and baseline["chunks"] and all(baseline["search"].values())

    killed = 0
    for trial in range(TRIALS):  # kills during a first crawl
        config = _config(src, tmp_path / f"first{trial}")
        killed += _run(forkserver, config, rng.uniform(0.05, first_duration))
        assert _recover(config) == baseline, f"first-crawl trial {trial} did not recover"

    snapshot = tmp_path / "v1-data"
    shutil.copytree(_data_dir(clean), snapshot)
    _write_sources(src, 2)
    t0 = time.perf_counter()
    assert not _run(forkserver, clean, None)
    second_duration = time.perf_counter() - t0
    baseline2 = _recover(clean)
    assert baseline2 != baseline  # the second version really changed what is found

    for trial in range(TRIALS):  # kills during a re-crawl of the changed sources
        config = _config(src, tmp_path / f"again{trial}")
        shutil.copytree(snapshot, _data_dir(config))
        killed += _run(forkserver, config, rng.uniform(0.05, second_duration))
        assert _recover(config) == baseline2, f"re-crawl trial {trial} did not recover"
    assert killed >= TRIALS  # most kills landed inside a crawl, not after it ended
