"""ConfigError, naming the file, the entry and the fix, and the typed field reader every section
of guild.toml uses. The sections (loader, database, syncs) build on it, never on each other's modules."""
from __future__ import annotations

from pathlib import Path
from typing import Any


class ConfigError(Exception):
    def __init__(self, path: Path | str, entry: str, problem: str, fix: str):
        self.path, self.entry, self.problem, self.fix = Path(path), entry, problem, fix
        where = f"{path}" + (f", {entry}" if entry else "")
        super().__init__(f"{where}: {problem}\n  fix: {fix}")


def expect(path: Path, entry: str, table: dict, key: str, typ: type | tuple, required: bool, fix: str) -> Any:
    if key not in table:
        if required:
            raise ConfigError(path, entry, f"missing required field `{key}`", fix)
        return None
    value = table[key]
    if not isinstance(value, typ) or (isinstance(value, bool) and typ is int):
        names = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
        raise ConfigError(path, entry, f"`{key}` must be a {names}, not {type(value).__name__} ({value!r})", fix)
    return value
