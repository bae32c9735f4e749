"""A reader in a process of its own for the concurrency probe: loads the guild once, then answers.

stdin, one command a line: `search QUERY`, `who QUESTION` or `feedback DOC_ID`; stdout, one JSON
line each: {"ok", "seconds", "n"} or {"ok": false, "error"}. The guild is opened before the
crawl starts, as a running Slack bot or web app would be.
"""
from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(config: str) -> None:
    from guildbot.guild import Guild
    from index.retrieval.feedback import record_feedback

    guild = Guild.from_config(config)
    guild.search("warm up")  # model, FAISS and SQLite loaded before the first timed answer
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        t0 = time.perf_counter()
        try:
            if command == "search":
                n = len(guild.search(arg, limit=5))
            elif command == "who":
                n = len(guild.experts(arg, limit=5))
            elif command == "feedback":
                record_feedback(guild.store, arg, "probe question", 1, "probe-user")
                n = 1
            else:
                raise ValueError(f"unknown command {command!r}")
        except Exception as e:  # noqa: BLE001 - reported to the test, which fails on it
            print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
            continue
        print(json.dumps({"ok": True, "seconds": time.perf_counter() - t0, "n": n}), flush=True)
    guild.close()


if __name__ == "__main__":
    main(sys.argv[1])
