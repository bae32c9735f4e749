"""Move modules and rewrite every reference to them: the tool behind the package layout (issue 23).

    python scripts/move_modules.py index/storage/sqlite/store.py=index/storage/sqlite/store.py ...

For each `old=new` pair it runs `git mv`, creates the missing packages' `__init__.py`, and rewrites
references in Python, TOML, Markdown and the Makefile in one pass per file:
- dotted names (`index.storage.sqlite.store`, `index.storage.sqlite.store.Store`, `"index.storage.sqlite.store:Store"`),
- `from index import store` (-> `from index.storage.sqlite import store`),
- relative imports in the three packages are made absolute first (`from .store import X`),
- file paths (`index/storage/sqlite/store.py`).
Kept as a script so each move of the layout is one reviewable commit that a test run follows.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("connectors", "index", "guildbot")
TEXT_SUFFIXES = {".py", ".toml", ".md", ".cfg", ".ini", ".txt", ".yml", ".yaml"}
SKIP_DIRS = {".venv", ".git", "build", "__pycache__", ".pytest_cache", "node_modules"}


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    files = [ROOT / line for line in out.splitlines()]
    return [f for f in files if f.exists() and (f.suffix in TEXT_SUFFIXES or f.name == "Makefile")
            and not SKIP_DIRS & set(f.relative_to(ROOT).parts)]


def module_of(path: str, root: str = "") -> str:
    p = Path(path)
    if root:
        p = p.relative_to(root)
    parts = list(p.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def absolutize(path: Path, text: str) -> str:
    """Relative imports -> absolute, for a module inside one of the three packages."""
    rel = path.relative_to(ROOT)
    if not rel.parts or rel.parts[0] not in PACKAGES:
        return text
    pkg = list(rel.with_suffix("").parts[:-1]) if rel.name != "__init__.py" else list(rel.parts[:-1])

    def repl(m: re.Match) -> str:
        dots, rest = m.group(2), m.group(3)
        base = pkg[: len(pkg) - (len(dots) - 1)]
        target = ".".join(base + ([rest] if rest else []))
        return f"{m.group(1)}from {target} import "

    return re.sub(r"^(\s*)from (\.+)([\w.]*) import ", repl, text, flags=re.M)


def rewrite(text: str, moves: dict[str, str], paths: dict[str, str], imports_only: bool = False) -> str:
    # new names are parked behind placeholders until the dotted pass is done: a new package may
    # carry an old module's name (index.catalog.build.py -> index/catalog/build.py)
    parked: list[str] = []

    def park(name: str) -> str:
        parked.append(name)
        return f"\x00{len(parked) - 1}\x00"

    # `from a.b import c` where a.b.c is a moved module
    def from_import(m: re.Match) -> str:
        indent, parent, names = m.group(1), m.group(2), m.group(3)
        items = [n.strip() for n in names.split(",")]
        moved, kept = [], []
        for item in items:
            name, _, alias = item.partition(" as ")
            full = f"{parent}.{name.strip()}"
            (moved if full in moves else kept).append((name.strip(), alias.strip() or None))
        if not moved:
            return m.group(0)
        lines = []
        if kept:
            lines.append(f"{indent}from {parent} import " + ", ".join(n + (f" as {a}" if a else "") for n, a in kept))
        for name, alias in moved:
            new = moves[f"{parent}.{name}"]
            new_parent, _, new_name = new.rpartition(".")
            local = alias or name
            lines.append(f"{indent}from {park(new_parent)} import {new_name}" + (f" as {local}" if local != new_name else ""))
        return "\n".join(lines)

    text = re.sub(r"^([ \t]*)from ([\w.]+) import ([\w ,]+?)[ \t]*$", from_import, text, flags=re.M)
    names = sorted(moves, key=len, reverse=True)
    dotted = re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n in names) + r")(?![\w])")
    if imports_only:  # short top-level names (tests' `browser`, `loopback`) are common words elsewhere
        text = re.sub(r"^[ \t]*(?:from|import) [^\n]*$", lambda m: dotted.sub(lambda d: park(moves[d.group(1)]), m.group(0)),
                      text, flags=re.M)
    else:
        text = dotted.sub(lambda m: park(moves[m.group(1)]), text)
    files = sorted(paths, key=len, reverse=True)
    pathre = re.compile(r"(?<![\w/.])(" + "|".join(re.escape(p) for p in files) + r")(?![\w])")
    text = pathre.sub(lambda m: park(paths[m.group(1)]), text)
    return re.sub("\x00(\\d+)\x00", lambda m: parked[int(m.group(1))], text)


def main(argv: list[str]) -> int:
    root = ""
    if argv and argv[0].startswith("--root="):  # module names relative to a folder on sys.path (tests/)
        root, argv = argv[0].split("=", 1)[1], argv[1:]
    pairs = [a.split("=", 1) for a in argv]
    moves = {module_of(old, root): module_of(new, root) for old, new in pairs}
    paths = {old: new for old, new in pairs}
    for f in tracked_files():  # relative imports read against the modules' places before the move
        if f.suffix == ".py":
            text = f.read_text()
            new = absolutize(f, text)
            if new != text:
                f.write_text(new)
    for old, new in pairs:
        target = ROOT / new
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "mv", old, new], cwd=ROOT, check=True)
        # every folder between the top package and the module is a package
        d = target.parent
        while d != ROOT and d.relative_to(ROOT).parts[0] in PACKAGES and d != ROOT / root:
            init = d / "__init__.py"
            if not init.exists():
                init.write_text("")
                subprocess.run(["git", "add", str(init)], cwd=ROOT, check=True)
            d = d.parent
    for f in tracked_files():
        text = f.read_text()
        new = rewrite(text, moves, paths, imports_only=bool(root))
        if new != text:
            f.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
