"""scripts/bench_cli.py --against: the side-by-side table and its clear refusal of an unknown revision."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_cli  # noqa: E402


def test_the_table_gives_both_medians_and_their_ratio():
    figures = {"docs": 3, "load": 1.0, "sides": {"this checkout": {"wall": 0.5, "cpu": 0.6, "n": 4},
                                                 "abc123": {"wall": 0.4, "cpu": 0.8, "n": 4}}}
    text = bench_cli.report_side_by_side(figures, "abc123")
    assert "| this checkout | **0.500 s** | 0.600 s | 4 |" in text
    assert "| ratio (this / base) | **1.250** | 0.750 | |" in text
    assert text.startswith(bench_cli.AB_START) and text.endswith(bench_cli.AB_END)


def test_an_unknown_revision_is_refused_with_the_fix(tmp_path):
    with pytest.raises(SystemExit) as stop:
        bench_cli._tree_of("no-such-revision-here", tmp_path / "tree")
    assert "--against no-such-revision-here" in str(stop.value) and "commit, tag or branch" in str(stop.value)


def test_a_revision_is_extracted_without_a_worktree(tmp_path):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    tree = bench_cli._tree_of(head.stdout.strip(), tmp_path / "tree")
    assert (tree / "guildbot" / "__init__.py").is_file()
    worktrees = subprocess.run(["git", "-C", str(ROOT), "worktree", "list"], capture_output=True, text=True).stdout
    assert str(tmp_path) not in worktrees
