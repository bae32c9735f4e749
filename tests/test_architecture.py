"""The layout's rules hold: no import cycle anywhere, the import-linter contracts are kept, and
only the Guild and the services' factories reach for the Guild's store.

grimp sees every import, those inside functions included, so a cycle hidden behind a
function-level import fails here as well as a top-level one.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("connectors", "index", "guildbot")


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every group of modules that import each other, directly or around a loop."""
    g = nx.DiGraph()
    for module in graph.modules:
        g.add_node(module)
        for imported in graph.find_modules_directly_imported_by(module):
            g.add_edge(module, imported)
    return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)


def test_no_module_imports_itself_around_a_loop():
    graph = grimp.build_graph(*PACKAGES)
    assert import_cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    graph = grimp.ImportGraph()
    for m in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(m)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert import_cycles(graph) == [["pkg.a", "pkg.b"]]


def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "0 broken" in out.stdout


# the Guild owns its store; the digest and syncs services get it once, from their factories
STORE_READERS = {"guildbot/guild.py": None, "guildbot/digest/service.py": {"digest_for"},
                 "guildbot/syncs/service.py": {"syncs_for"}, "guildbot/insights.py": {"insights_for"}}


def guild_store_reads(source: str, allowed_functions: set[str] | None = frozenset()) -> list[str]:
    """`<something guild>.store` reads in `source` ("guild.store", "self.guild.store", "g.store"...),
    as "line: expression", outside the functions named in `allowed_functions` (None: anywhere is allowed)."""
    if allowed_functions is None:
        return []
    found = []

    def visit(node: ast.AST, function: str = "") -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.Attribute) and node.attr == "store" and function not in allowed_functions:
            owner = ast.unparse(node.value)
            if owner.rsplit(".", 1)[-1].lstrip("_").endswith("guild") or owner == "g":
                found.append(f"{node.lineno}: {ast.unparse(node)}")
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source))
    return found


def test_only_the_guild_and_the_service_factories_read_the_guilds_store():
    reads = {}
    for path in sorted((ROOT / "guildbot").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        found = guild_store_reads(path.read_text(encoding="utf-8"), STORE_READERS.get(name, set()))
        if found:
            reads[name] = found
    assert reads == {}, "use the services (syncs_for, digest_for) or a Guild answer instead of the Guild's store"


def test_the_store_check_finds_a_read_of_the_guilds_store():
    source = """
def missed(guild):
    return runs(guild.store)

class Flow:
    def _store(self):
        return self.guild.store

def syncs_for(guild):
    return Service(guild.store, guild)

def fine(self):
    return self.store, store.guild
"""
    assert guild_store_reads(source) == ["3: guild.store", "7: self.guild.store", "10: guild.store"]
    assert guild_store_reads(source, {"syncs_for"}) == ["3: guild.store", "7: self.guild.store"]
