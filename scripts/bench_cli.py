#!/usr/bin/env python3
"""A CLI question as a whole process, written into docs/benchmarks.md.

Crawls the docstring corpus of scripts/bench.py once, then runs `guildbot who QUESTION --json`
and `guildbot search QUERY --json` as separate processes, the way a person at a terminal does,
and reports the median wall time (warm: the files are in the page cache). "Cold" runs first
evict the model, the index and the libraries a question loads (onnxruntime, faiss, numpy,
tokenizers, guildbot itself) from the page cache with posix_fadvise(DONTNEED), as after a
boot (Python's standard library stays cached: other jobs on the machine use it).

`--against REV` compares this checkout with another revision side by side in one run: each
crawls its own copy of the corpus, then their questions alternate (ABAB, BABA) so that the
machine's load falls on both alike; the table gives both medians and their ratio.
"""
from __future__ import annotations

import importlib.util
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench import QUERIES, build_corpus, corpus_parser, write_config  # noqa: E402
from benchdoc import write_section  # noqa: E402

MARK_START, MARK_END = "<!-- bench:cli:start -->", "<!-- bench:cli:end -->"
AB_START, AB_END = "<!-- bench:cli-against:start -->", "<!-- bench:cli-against:end -->"
LIBRARIES = ("onnxruntime", "faiss", "numpy", "tokenizers", "guildbot", "index", "connectors")


def evict(paths: list[Path]) -> int:
    """Drop these files' pages from the page cache; returns how many files were evicted."""
    n = 0
    for top in paths:
        for f in ([top] if top.is_file() else top.rglob("*")):
            if not f.is_file():
                continue
            try:
                fd = os.open(f, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                n += 1
            finally:
                os.close(fd)
    return n


def cold_files(data_dir: Path) -> list[Path]:
    out = [data_dir]  # the index and the exported model; then the libraries a question loads
    for name in LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            out += [Path(p) for p in spec.submodule_search_locations]
    return out


CPU: list[float] = []  # user + system seconds of every question's process


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _default_priority() -> None:
    """A question runs at a terminal's priority even when this harness runs under `nice`."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except OSError:  # not allowed to raise priority: measure at the inherited one
        pass


def _child_nice() -> int:
    return int(subprocess.run(["sh", "-c", "nice"], capture_output=True, text=True,
                              preexec_fn=_default_priority).stdout.strip() or 0)


def ask(cmd: list[str], config: Path, what: str, query: str) -> float:
    """Wall seconds of one `guildbot` process answering; its CPU seconds go to CPU."""
    c, t = _children_cpu(), time.perf_counter()
    out = subprocess.run(cmd + ["--config", str(config), what, query, "--json"], capture_output=True, text=True,
                         preexec_fn=_default_priority)
    dt = time.perf_counter() - t
    CPU.append(_children_cpu() - c)
    if out.returncode != 0:
        raise SystemExit(f"guildbot {what} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return dt


def run(args) -> dict:
    from guildbot import Guild

    work = Path(tempfile.mkdtemp(prefix="guild-bench-cli-"))
    corpus = work / "corpus"
    docs = build_corpus(corpus, args.package, args.docs)
    config = write_config(work, corpus)
    guild = Guild.from_config(config)
    backend = guild.config.backend
    guild.crawl()
    chunks = guild.store.count("chunks")
    guild.close()
    cmd = [str(Path(sys.executable).parent / "guildbot")]
    ask(cmd, config, "who", "warm up")
    CPU.clear()
    warm = {"who": [], "search": []}
    for _ in range(args.rounds):
        for q in QUERIES:
            for what in warm:
                warm[what].append(ask(cmd, config, what, q))
    warm_cpu = statistics.median(CPU)
    cold, evicted = [], 0
    for q in QUERIES[: args.cold]:
        evicted = evict(cold_files(work / "data"))
        cold.append(ask(cmd, config, "who", q))
    shutil.rmtree(work, ignore_errors=True)
    every = warm["who"] + warm["search"]
    return {"docs": docs, "chunks": chunks, "backend": backend, "who": statistics.median(warm["who"]),
            "search": statistics.median(warm["search"]), "all": statistics.median(every), "n": len(every),
            "cpu": warm_cpu, "load": os.getloadavg()[0], "nice": _child_nice(),
            "cold": statistics.median(cold), "cold_max": max(cold), "cold_n": len(cold), "evicted": evicted}


def _tree_of(rev: str, into: Path) -> Path:
    """The files of git revision `rev` of this checkout, extracted into `into` (no worktree is left behind)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"--against {rev}: git cannot read that revision ({archive.stderr.decode().strip()}); "
                         "pass a commit, tag or branch of this repository")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def side_by_side(args) -> dict:
    """Medians of the same questions asked of this checkout and of `args.against`, alternating."""
    work = Path(tempfile.mkdtemp(prefix="guild-bench-cli-ab-"))
    corpus = work / "corpus"
    docs = build_corpus(corpus, args.package, args.docs)
    sides = {"this checkout": ROOT, args.against: _tree_of(args.against, work / "base")}
    cmd = [sys.executable, "-m", "guildbot"]
    runs = {}
    for name, tree in sides.items():
        folder = work / ("a" if tree == ROOT else "b")
        folder.mkdir()
        env = {**os.environ, "PYTHONPATH": str(tree)}
        config = write_config(folder, corpus)
        crawl = subprocess.run(cmd + ["--config", str(config), "crawl"], env=env, capture_output=True, text=True)
        if crawl.returncode != 0:
            raise SystemExit(f"crawling with {name} failed:\n{crawl.stderr[-2000:]}")
        runs[name] = {"env": env, "config": config, "wall": [], "cpu": []}
    for side in runs.values():
        _ask_as(cmd, side, "who", "warm up")
        side["wall"].clear(), side["cpu"].clear()
    order = list(runs.values())
    for _ in range(args.rounds):
        for q in QUERIES:
            for what in ("who", "search"):
                for side in order:
                    _ask_as(cmd, side, what, q)
                order.reverse()  # ABBA: neither side is always first
    shutil.rmtree(work, ignore_errors=True)
    out = {name: {"wall": statistics.median(s["wall"]), "cpu": statistics.median(s["cpu"]), "n": len(s["wall"])}
           for name, s in runs.items()}
    return {"docs": docs, "sides": out, "load": os.getloadavg()[0]}


def _ask_as(cmd: list[str], side: dict, what: str, query: str) -> None:
    c, t = _children_cpu(), time.perf_counter()
    out = subprocess.run(cmd + ["--config", str(side["config"]), what, query, "--json"], capture_output=True,
                         text=True, env=side["env"], preexec_fn=_default_priority)
    side["wall"].append(time.perf_counter() - t)
    side["cpu"].append(_children_cpu() - c)
    if out.returncode != 0:
        raise SystemExit(f"guildbot {what} failed ({out.returncode}):\n{out.stderr[-2000:]}")


def report_side_by_side(f: dict, against: str) -> str:
    (here, a), (base, b) = f["sides"].items()
    return f"""{AB_START}
## A CLI question against another revision (`scripts/bench_cli.py --against {against}`)

Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, {f['docs']} documents; each side
crawled its own copy, then the same `who` and `search` processes (`python -m guildbot ... --json`)
alternated between the two. Load average at the end: {f['load']:.1f}.

| side | median wall | median CPU | processes |
|---|---|---|---|
| {here} | **{a['wall']:.3f} s** | {a['cpu']:.3f} s | {a['n']} |
| `{base}` | **{b['wall']:.3f} s** | {b['cpu']:.3f} s | {b['n']} |
| ratio (this / base) | **{a['wall'] / b['wall']:.3f}** | {a['cpu'] / b['cpu']:.3f} | |
{AB_END}"""


def report(f: dict) -> str:
    return f"""{MARK_START}
## A CLI question, whole process (`make bench`, scripts/bench_cli.py)

Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores (shared with other jobs), CPU only,
backend `{f['backend']}`; {f['docs']} documents, {f['chunks']} chunks. Each figure is a new `guildbot` process:
imports, config, model, index and the answer, as JSON, at the default priority (niceness
{f['nice']}; the harness itself runs under `nice`). The load average was {f['load']:.1f} at the end: on a busy
machine wall time is mostly waiting for a core, and the CPU time is the figure the load does not move.

| figure | value | target |
|---|---|---|
| `who` and `search` median ({f['n']} processes) | **{f['all']:.2f} s** | <= 1 s |
| `who` median / `search` median | {f['who']:.2f} s / {f['search']:.2f} s | |
| CPU time (user + system) of a question's process, median | {f['cpu']:.2f} s | |
| cold `who` (page cache evicted: {f['evicted']} files), median / max of {f['cold_n']} | **{f['cold']:.2f} s** / {f['cold_max']:.2f} s | <= 2 s |
{MARK_END}"""


def main() -> None:
    ap = corpus_parser(__doc__)
    ap.add_argument("--rounds", type=int, default=1, help="passes over the query list")
    ap.add_argument("--cold", type=int, default=3, help="cold questions")
    ap.add_argument("--against", metavar="REV", help="also time git revision REV side by side with this checkout")
    args = ap.parse_args()
    if args.against:
        text = report_side_by_side(side_by_side(args), args.against)
        print(text)
        write_section(args.out, AB_START, AB_END, text)
        return
    text = report(run(args))
    print(text)
    write_section(args.out, MARK_START, MARK_END, text)


if __name__ == "__main__":
    main()
