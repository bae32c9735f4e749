"""The rows behind insights (issue 26) that no other repository reads: syncs by when they were
proposed and whether they were held (a check-in said they met, or the sync is done)."""
from __future__ import annotations

import json
from typing import Any

from index.storage.sqlite.store import Store


def syncs_between(store: Store, start: str, end: str) -> list[dict[str, Any]]:
    """Syncs proposed in [start, end) (not cancelled): created_at, held (0/1) and the members' teams."""
    met = {r["sync_id"] for r in store.query("SELECT DISTINCT sync_id FROM sync_checkins WHERE met = 1")}
    out = []
    for r in store.query("SELECT id, status, created_at, data FROM syncs WHERE created_at >= ? AND created_at < ? "
                         "AND status <> 'cancelled' ORDER BY created_at", [start, end]):
        data = json.loads(r["data"] or "{}")
        out.append({"id": r["id"], "created_at": r["created_at"], "held": int(r["status"] == "done" or r["id"] in met),
                    "teams": sorted({m.get("team") or "" for m in data.get("members") or []} - {""})})
    return out
