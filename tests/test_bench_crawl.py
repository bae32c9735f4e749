"""scripts/bench_crawl.py's table: medians over rounds, each round's own speed-up."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import bench_crawl  # noqa: E402


def run(crawl_s: float, recall: float = 0.8) -> dict:
    return {"crawl_s": crawl_s, "experts": {"mrr10": 0.9}, "documents": {"recall10": recall},
            "cli_query_s_median": 0.5}


def test_the_speed_up_is_the_median_of_each_rounds_own_ratio():
    rounds = [{"bf16": run(100), "torch": run(200)},    # 2.0x
              {"bf16": run(110), "torch": run(330)},    # 3.0x
              {"bf16": run(200), "torch": run(500)}]    # 2.5x
    text = bench_crawl.render(rounds, "org", True, 1.0)
    row = next(line for line in text.splitlines() if line.startswith("| `bf16`"))
    assert "| 110 s | **2.50x** |" in row  # median crawl 110 s; ratio of the medians would be 3.00x
    assert "- round 2: bf16 110 s, torch 330 s (bf16 3.00x)" in text


def test_the_gap_to_torch_is_the_largest_over_the_rounds():
    rounds = [{"bf16": run(100, recall=0.80), "torch": run(200, recall=0.80)},
              {"bf16": run(100, recall=0.78), "torch": run(200, recall=0.80)}]
    row = next(line for line in bench_crawl.render(rounds, "org", False, 1.0).splitlines()
               if line.startswith("| `bf16`"))
    assert "**+0.020**" in row
