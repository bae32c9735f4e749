#!/usr/bin/env python3
"""Write docs/sources.md from the connectors' own declarations (module docstring and `fields`).

The page can therefore never disagree with what guild.toml validation accepts; a test checks that
the committed page is current. Usage: python scripts/sources_doc.py [--check]
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from connectors import KINDS, connector_class  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "sources.md"
INTRO = """# Source kinds

Every `[[sources]]` entry in guild.toml has `kind`, `name` (unique) and `team` (a declared team),
plus the options of its kind below. Relative paths resolve against guild.toml's folder. Secrets
are read from the environment variables named here, never from guild.toml.

This page is generated from the connectors' declarations by `scripts/sources_doc.py`.
"""


def _type(t) -> str:
    types = t if isinstance(t, tuple) else (t,)
    return " or ".join({"str": "string", "int": "integer", "list": "list", "bool": "true/false",
                        "float": "number"}.get(x.__name__, x.__name__) for x in types)


def render() -> str:
    parts = [INTRO]
    for kind in KINDS:
        cls = connector_class(kind)
        doc = (importlib.import_module(cls.__module__).__doc__ or "").strip()
        parts.append(f"\n## `kind = \"{kind}\"`\n\n{doc}\n\n| option | type | required | meaning |\n|---|---|---|---|")
        for f in cls.fields:
            parts.append(f"| `{f.name}` | {_type(f.type)} | {'yes' if f.required else 'no'} | {f.help.replace('|', '/')} |")
    return "\n".join(parts) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        current = OUT.read_text() if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date: run python scripts/sources_doc.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text)
    print(f"written {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
