"""Start loading the question model while the command line imports the rest (`who`, `search`).

A question's process spends about 0.2 s importing guildbot (pydantic, numpy, FAISS, the index) and
0.2 s opening the ONNX question model; the second runs in C++ on another core, so it can start
first. The guess at the model comes from guild.toml read with tomllib alone (no validation): a
wrong guess costs one load on a spare core, never an error, and the command still loads what its
validated configuration names (the loader is shared and locked, so a right guess is loaded once).
"""
from __future__ import annotations

import os
import threading
import tomllib
from pathlib import Path

QUESTION_COMMANDS = {"who", "search"}
QUERY_BACKENDS = {"bf16": "onnx", "onnx": "onnx", "onnx-int8": "onnx-int8"}  # the backend questions are encoded with


def guess(argv: list[str]) -> tuple[str, str, Path] | None:
    """(model, question backend, data_dir) a question command will load, or None."""
    config, command, rest = os.environ.get("GUILDBOT_CONFIG", "").strip() or "guild.toml", None, list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--config" and rest:
            config = rest.pop(0)
        elif arg.startswith("--config="):
            config = arg.split("=", 1)[1]
        elif not arg.startswith("-"):
            command = arg
            break
    if command not in QUESTION_COMMANDS:
        return None
    try:
        with open(config, "rb") as f:
            guild = tomllib.load(f).get("guild", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    backend = os.environ.get("GUILDBOT_BACKEND", "").strip() or guild.get("backend", "bf16")
    model, data_dir = guild.get("model", "all-MiniLM-L6-v2"), guild.get("data_dir", ".guildbot")
    if backend not in QUERY_BACKENDS or not isinstance(model, str) or not isinstance(data_dir, str):
        return None
    return model, QUERY_BACKENDS[backend], Path(config).parent / Path(data_dir).expanduser()


def _load(model: str, backend: str, data_dir: Path) -> None:
    try:
        from index.embedding.embedder import cache_dir_for, load_onnx

        load_onnx(model, backend, str(cache_dir_for(data_dir)), export=False)  # never export on a guess
    except Exception:  # noqa: BLE001 - best effort; the command loads and reports for itself
        pass


def start(argv: list[str]) -> threading.Thread | None:
    found = guess(argv)
    if found is None:
        return None
    thread = threading.Thread(target=_load, args=found, name="guildbot-warm", daemon=True)
    thread.start()
    return thread
