#!/usr/bin/env python3
"""A first crawl of a whole evaluation org with each embedding backend, side by side in one run.

For each backend (GUILDBOT_BACKEND overrides [guild] backend), in turn: the evaluation script
restores the org's repositories and wiki into a fresh work folder, crawls it with
`.venv/bin/guildbot` and asks its questions. This reports the crawl's wall time, its speed-up over
torch (target >= 2.5x) and the answer-quality figures beside torch's (target: within 0.01).

The evaluation orgs are not part of this repository: pass --org (default ../shared/eval/northwind
next to the checkout); without one the benchmark says so and writes nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from benchdoc import write_section  # noqa: E402

MARK_START, MARK_END = "<!-- bench:crawl:start -->", "<!-- bench:crawl:end -->"
FIGURES = (("experts", "mrr10"), ("experts", "p5"), ("experts", "ndcg10"),
           ("documents", "mrr10"), ("documents", "recall10"), ("documents", "ndcg10"))


def run_one(org: Path, backend: str, work: Path, port: int, wiki: bool, checkout: Path = ROOT) -> dict:
    """One restore, first crawl and evaluation; `checkout`: the guildbot whose .venv crawls (its
    own default backend when `backend` is empty)."""
    slug = backend or "baseline"
    out = work / f"{slug}.json"
    cmd = [sys.executable, str(org.parent / "run_eval.py"), str(org), "--work", str(work / slug),
           "--port", str(port), "--json", str(out), "--guildbot", str(checkout / ".venv" / "bin" / "guildbot")]
    if not wiki:
        cmd.append("--no-wiki")
    env = {**os.environ}
    env.pop("GUILDBOT_BACKEND", None)
    if backend:
        env["GUILDBOT_BACKEND"] = backend
    t = time.perf_counter()
    cpu = _children_cpu()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    cpu = _children_cpu() - cpu
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"the evaluation with backend {backend} failed (exit {done.returncode}):\n"
                         f"{done.stderr[-2000:]}")
    figures = json.loads(out.read_text())
    figures["total_s"] = time.perf_counter() - t
    figures["cpu_s"] = cpu
    return figures


def _children_cpu() -> float:
    """CPU seconds (user + sys) of this process's finished children and theirs: the evaluation run,
    its crawl and questions (the wiki's PHP server is detached and not counted). On a shared
    machine CPU time varies far less than wall time, so the baseline comparison reads both."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def figure(result: dict, group: str, name: str) -> float | None:
    value = (result.get(group) or {}).get(name)
    return value if isinstance(value, (int, float)) else None


def median(values: list[float]) -> float:
    return statistics.median(values)


def render(rounds: list[dict[str, dict]], org: str, wiki: bool, load: float) -> str:
    """The table of medians over `rounds` (each: backend -> its crawl and figures), then every round.

    The speed-up is the median of each round's own ratio: the two crawls of a round ran minutes
    apart, so a slow spell of the shared machine mostly cancels out of it."""
    backends = list(rounds[0])
    ref = "torch" if "torch" in backends else None
    rows = ["| backend | first crawl (median) | speed-up over torch (median of rounds; target >= 2.5x) | "
            + " | ".join(f"{g} {n}" for g, n in FIGURES) + " | largest gap to torch (target <= 0.01) "
            "| CLI question median (target <= 1 s) |",
            "|---|---|---|" + "---|" * len(FIGURES) + "---|---|"]
    speedups: dict[str, list[float]] = {}
    for backend in backends:
        runs = [r[backend] for r in rounds]
        if ref and backend != ref:
            speedups[backend] = [r[ref]["crawl_s"] / r[backend]["crawl_s"] for r in rounds]
        speed = f"**{median(speedups[backend]):.2f}x**" if backend in speedups else ""
        first = runs[0]
        cells = [("" if (v := figure(first, g, n)) is None else f"{v:.3f}") for g, n in FIGURES]
        gaps = [w - v for r in rounds if backend != ref and ref for g, n in FIGURES
                if (v := figure(r[backend], g, n)) is not None and (w := figure(r[ref], g, n)) is not None]
        gap = f"**{max(gaps):+.3f}**" if gaps else ""
        clis = [c for run in runs if isinstance(c := run.get("cli_query_s_median"), (int, float))]
        rows.append(f"| `{backend}` | {median([run['crawl_s'] for run in runs]):.0f} s | {speed} | " + " | ".join(cells)
                    + f" | {gap} | " + (f"{median(clis):.2f} s |" if clis else " |"))
    base = next((k for k in backends if k.startswith("baseline")), None)
    first_backend = backends[0] if backends else None
    if base and first_backend and first_backend != base:
        ratio = median([r[base]["crawl_s"] / r[first_backend]["crawl_s"] for r in rounds])
        rows += ["", f"The first crawl with `{first_backend}` is **{ratio:.2f}x** faster than with the earlier code "
                 f"(`{base}`, its own default backend), median of the rounds."]
        if all("cpu_s" in r[base] and "cpu_s" in r[first_backend] for r in rounds):
            cpu = median([r[first_backend]["cpu_s"] / r[base]["cpu_s"] for r in rounds])
            rows += ["", f"CPU time of the whole evaluation run (restore, crawl, questions), `{first_backend}` over "
                     f"`{base}`: **{cpu:.2f}x**, median of the rounds (less swayed by a shared machine than wall time)."]
    rows += ["", f"Rounds ({len(rounds)}, backends in turn within each):"]
    for i, r in enumerate(rounds, 1):
        crawls = ", ".join(f"{b} {r[b]['crawl_s']:.0f} s" + (f" ({r[b]['cpu_s']:.0f} s CPU)" if "cpu_s" in r[b] else "")
                           for b in backends)
        ratios = "; ".join(f"{b} {speedups[b][i - 1]:.2f}x" for b in speedups)
        rows.append(f"- round {i}: {crawls}" + (f" ({ratios})" if ratios else ""))
    return "\n".join([
        MARK_START,
        "## A first crawl of an evaluation org, backend by backend (`make bench`, scripts/bench_crawl.py)",
        "",
        f"Measured {date.today()} on {platform.machine()}, {os.cpu_count()} cores, CPU only: the org `{org}`"
        f" ({'git + real MediaWiki' if wiki else 'git only'}) restored, crawled from nothing and asked its"
        " questions by the evaluation script, once per backend in each round, one after the other. Gaps are"
        " torch's figure minus the backend's (positive: worse than torch), the largest over the rounds;"
        " the other figures are the first round's. The CLI median is the evaluation's"
        " `cli_query_s_median`: whole `guildbot who` processes on the crawled org.",
        f"Load average at the end: {load:.1f}.",
        "",
        *rows,
        MARK_END,
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--org", type=Path, default=ROOT.parent / "shared" / "eval" / "northwind",
                    help="an evaluation org folder (with run_eval.py beside it)")
    ap.add_argument("--backends", default="bf16,torch", help="backends side by side (torch is the reference)")
    ap.add_argument("--no-wiki", action="store_true", help="git only: quicker, no MediaWiki")
    ap.add_argument("--port", type=int, default=8480)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the backends in turn; the table gives medians "
                    "(default 3: one crawl each varies by 10-25%% on a shared machine)")
    ap.add_argument("--save", type=Path, help="also write every backend's evaluation figures here (JSON)")
    ap.add_argument("--baseline", type=Path, help="also crawl with an earlier checkout of guildbot (with its own "
                    ".venv), its default backend: 'how much faster than before' measured in the same run")
    a = ap.parse_args()
    if not (a.org / "org.json").exists():
        print(f"bench_crawl: no evaluation org at {a.org}; pass --org PATH to measure a first crawl "
              "backend by backend (skipped)")
        return
    rounds: list[dict[str, dict]] = []
    backends = [b.strip() for b in a.backends.split(",") if b.strip()]
    with tempfile.TemporaryDirectory(prefix="guildbot-bench-crawl-") as tmp:
        for n in range(1, max(1, a.rounds) + 1):
            results: dict[str, dict] = {}
            for i, backend in enumerate(backends):
                print(f"round {n}, {backend}: restoring, crawling and asking ...", flush=True)
                results[backend] = r = run_one(a.org, backend, Path(tmp), a.port + i, not a.no_wiki)
                print(f"  crawl {r['crawl_s']:.0f} s, experts {r.get('experts')}, documents {r.get('documents')}",
                      flush=True)
            if a.baseline:
                rev = subprocess.run(["git", "-C", str(a.baseline), "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True).stdout.strip() or a.baseline.name
                print(f"round {n}, baseline {rev}: restoring, crawling and asking ...", flush=True)
                results[f"baseline {rev}"] = r = run_one(a.org, "", Path(tmp), a.port + 50, not a.no_wiki, a.baseline)
                print(f"  crawl {r['crawl_s']:.0f} s, experts {r.get('experts')}, documents {r.get('documents')}",
                      flush=True)
            rounds.append(results)
    if a.save:
        a.save.write_text(json.dumps(rounds, indent=1))
    text = render(rounds, a.org.name, not a.no_wiki, os.getloadavg()[0])
    print(text)
    if not a.no_write:
        write_section(a.out, MARK_START, MARK_END, text)


if __name__ == "__main__":
    main()
