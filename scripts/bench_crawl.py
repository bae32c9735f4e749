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
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"the evaluation with backend {backend} failed (exit {done.returncode}):\n"
                         f"{done.stderr[-2000:]}")
    figures = json.loads(out.read_text())
    figures["total_s"] = time.perf_counter() - t
    return figures


def figure(result: dict, group: str, name: str) -> float | None:
    value = (result.get(group) or {}).get(name)
    return value if isinstance(value, (int, float)) else None


def render(results: dict[str, dict], org: str, wiki: bool, load: float) -> str:
    ref = results.get("torch")
    rows = ["| backend | first crawl | speed-up over torch (target >= 2.5x) | "
            + " | ".join(f"{g} {n}" for g, n in FIGURES) + " | largest gap to torch (target <= 0.01) "
            "| CLI question median (target <= 1 s) |",
            "|---|---|---|" + "---|" * len(FIGURES) + "---|---|"]
    for backend, r in results.items():
        speed = f"**{ref['crawl_s'] / r['crawl_s']:.2f}x**" if ref and backend != "torch" else ""
        cells, gaps = [], []
        for g, n in FIGURES:
            v = figure(r, g, n)
            cells.append("" if v is None else f"{v:.3f}")
            w = figure(ref, g, n) if ref else None
            if v is not None and w is not None and backend != "torch":
                gaps.append(w - v)
        gap = f"**{max(gaps):+.3f}**" if gaps else ""
        cli = r.get("cli_query_s_median")
        rows.append(f"| `{backend}` | {r['crawl_s']:.0f} s | {speed} | " + " | ".join(cells) + f" | {gap} | "
                    + (f"{cli:.2f} s |" if isinstance(cli, (int, float)) else " |"))
    base = next((k for k in results if k.startswith("baseline")), None)
    first = next(iter(results), None)
    if base and first and first != base:
        rows += ["", f"The first crawl with `{first}` is **{results[base]['crawl_s'] / results[first]['crawl_s']:.2f}x** "
                 f"faster than with the earlier code (`{base}`, its own default backend), in the same run."]
    return "\n".join([
        MARK_START,
        "## A first crawl of an evaluation org, backend by backend (`make bench`, scripts/bench_crawl.py)",
        "",
        f"Measured {date.today()} on {platform.machine()}, {os.cpu_count()} cores, CPU only: the org `{org}`"
        f" ({'git + real MediaWiki' if wiki else 'git only'}) restored, crawled from nothing and asked its"
        " questions by the evaluation script, once per backend, one after the other in one run. Gaps are"
        " torch's figure minus the backend's (positive: worse than torch). The CLI median is the evaluation's"
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
    ap.add_argument("--save", type=Path, help="also write every backend's evaluation figures here (JSON)")
    ap.add_argument("--baseline", type=Path, help="also crawl with an earlier checkout of guildbot (with its own "
                    ".venv), its default backend: 'how much faster than before' measured in the same run")
    a = ap.parse_args()
    if not (a.org / "org.json").exists():
        print(f"bench_crawl: no evaluation org at {a.org}; pass --org PATH to measure a first crawl "
              "backend by backend (skipped)")
        return
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="guildbot-bench-crawl-") as tmp:
        for i, backend in enumerate(b.strip() for b in a.backends.split(",") if b.strip()):
            print(f"{backend}: restoring, crawling and asking ...", flush=True)
            results[backend] = run_one(a.org, backend, Path(tmp), a.port + i, not a.no_wiki)
            r = results[backend]
            print(f"  crawl {r['crawl_s']:.0f} s, experts {r.get('experts')}, documents {r.get('documents')}", flush=True)
        if a.baseline:
            rev = subprocess.run(["git", "-C", str(a.baseline), "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True).stdout.strip() or a.baseline.name
            print(f"baseline {rev}: restoring, crawling and asking ...", flush=True)
            results[f"baseline {rev}"] = r = run_one(a.org, "", Path(tmp), a.port + 50, not a.no_wiki, a.baseline)
            print(f"  crawl {r['crawl_s']:.0f} s, experts {r.get('experts')}, documents {r.get('documents')}", flush=True)
    if a.save:
        a.save.write_text(json.dumps(results, indent=1))
    text = render(results, a.org.name, not a.no_wiki, os.getloadavg()[0])
    print(text)
    if not a.no_write:
        write_section(a.out, MARK_START, MARK_END, text)


if __name__ == "__main__":
    main()
