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


# -- bus factor ------------------------------------------------------------------------------------------------
def newest_activity(store: Store) -> str | None:
    """The latest contribution in the index (ISO), the bus factor's "today" for an index of old history."""
    rows = store.query("SELECT max(last_at) AS at FROM contributions")
    return rows[0]["at"] if rows and rows[0]["at"] else None


def project_commits(store: Store, since: str) -> list[dict[str, Any]]:
    """(project_id, person_id, recent, total): each person's commits to each project's files, those whose
    last commit is at or after `since` as `recent`, and all of them as `total`."""
    return store.query(
        """SELECT pd.project_id AS project_id, i.person_id AS person_id,
                  sum(CASE WHEN c.last_at >= ? THEN c.count ELSE 0 END) AS recent, sum(c.count) AS total
           FROM contributions c JOIN identities i ON i.id = c.identity_id JOIN project_documents pd ON pd.doc_id = c.doc_id
           WHERE i.person_id IS NOT NULL AND c.role IN ('author', 'committer')
           GROUP BY pd.project_id, i.person_id""", [since])


def people_activity(store: Store) -> dict[str, dict[str, Any]]:
    """person id -> {name, team, in_directory, last_at}: who a bus factor names, and whether they are still here."""
    out = {r["id"]: {"name": r["name"], "team": r["team"], "in_directory": bool(r["in_directory"]), "last_at": None}
           for r in store.query("SELECT id, name, team, in_directory FROM people")}
    for r in store.query("""SELECT i.person_id, max(c.last_at) AS last FROM contributions c
                            JOIN identities i ON i.id = c.identity_id WHERE i.person_id IS NOT NULL GROUP BY i.person_id"""):
        if r["person_id"] in out:
            out[r["person_id"]]["last_at"] = r["last"]
    return out
