"""Write one benchmark's section into docs/benchmarks.md, replacing its previous figures."""
from __future__ import annotations

import re
from pathlib import Path

HEADER = "# Benchmarks\n\nFigures from benchmark scripts (`make bench`), never from timed tests.\n"


def write_section(path: Path, start: str, end: str, text: str) -> None:
    """Replace the text between the `start` and `end` markers (both inside `text`), or append it."""
    old = path.read_text() if path.exists() else HEADER
    if start in old:
        new = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: text, old, flags=re.DOTALL)
    else:
        new = old.rstrip() + "\n\n" + text + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)
    print(f"written to {path}")
