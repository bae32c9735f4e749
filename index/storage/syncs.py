"""The store side of cross-team syncs: proposals and their state, members, RSVPs, check-ins,
opt-outs, and the facts the planner reads (people rows, their activity, project contributors). The tables are declared in index/storage/sqlite/schema.py (Postgres: its migrations).

A sync's `data` is its public proposal (the `syncs propose --json` shape); its status moves
proposed -> posted -> scheduled (the quorum accepted) -> done (checked in), or cancelled.
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Any, Iterable

from index.storage.sqlite.store import Store, now_iso

STATUSES = ("proposed", "posted", "scheduled", "done", "cancelled")
FIELDS = {"status", "channel", "ts", "posted_at", "invited_at", "reminded_at", "checkin_at", "caldav_href"}


# -- planner inputs ----------------------------------------------------------------------------------
def people_rows(store: Store) -> list[dict[str, Any]]:
    """Every person row; the planner turns them into its Persons (index/syncs/inputs.py)."""
    return list(store.query("SELECT * FROM people"))


def name_words(store: Store) -> set[str]:
    """Every word of people's names and email addresses: never a topic's title."""
    words: set[str] = set()
    for r in store.query("SELECT name, emails, aliases FROM people"):
        for text in [r["name"] or "", *json.loads(r["emails"] or "[]"), *json.loads(r["aliases"] or "[]")]:
            words |= {w for w in re.findall(r"[a-z][a-z0-9]+", text.casefold()) if len(w) > 2}
    return words


def person_activity(store: Store) -> dict[str, str]:
    """person id -> their latest contribution (ISO time)."""
    return {r["person_id"]: r["last"] for r in store.query(
        """SELECT i.person_id, max(c.last_at) AS last FROM contributions c JOIN identities i ON i.id = c.identity_id
           WHERE i.person_id IS NOT NULL GROUP BY i.person_id""") if r["last"]}


def project_people(store: Store, project_ids: Iterable[str]) -> dict[str, float]:
    """person id -> their share of the given projects' contributions, each project counting once."""
    ids = list(project_ids)
    if not ids:
        return {}
    rows = store.query(f"""SELECT pd.project_id, i.person_id, sum(c.count) AS n FROM project_documents pd
                           JOIN contributions c ON c.doc_id = pd.doc_id JOIN identities i ON i.id = c.identity_id
                           WHERE pd.project_id IN ({','.join('?' * len(ids))}) AND i.person_id IS NOT NULL
                           GROUP BY pd.project_id, i.person_id""", ids)
    totals: Counter = Counter()
    for r in rows:
        totals[r["project_id"]] += r["n"] or 0
    share: dict[str, float] = defaultdict(float)
    for r in rows:
        if totals[r["project_id"]]:
            share[r["person_id"]] += (r["n"] or 0) / totals[r["project_id"]] / len(ids)
    return dict(share)


def projects_of(store: Store, doc_ids: Iterable[str]) -> list[str]:
    """The projects the given documents belong to."""
    ids = list(doc_ids)
    if not ids:
        return []
    return sorted({r["project_id"] for r in store.query(
        f"SELECT project_id FROM project_documents WHERE doc_id IN ({','.join('?' * len(ids))})", ids)})


# -- syncs -------------------------------------------------------------------------------------------
def _row(r: dict[str, Any]) -> dict[str, Any]:
    d = json.loads(r["data"] or "{}")
    d.update({k: r[k] for k in ("cycle", "origin", "status", "channel", "ts", "posted_at", "invited_at",
                                 "reminded_at", "checkin_at", "caldav_href", "created_at")})
    d["slots"] = json.loads(r["slots"] or "[]")
    return d


def save_sync(store: Store, proposal: dict[str, Any], cycle: str, origin: str, slots: list[dict[str, Any]],
              person_ids: list[str]) -> bool:
    """Store a proposal unless a sync with its id exists; True when it was new."""
    with store.transaction():
        cur = store.conn.execute(
            """INSERT INTO syncs (id, cycle, origin, topic, data, slots, status, start_at, end_at, created_at)
               VALUES (?,?,?,?,?,?, 'proposed', ?,?,?) ON CONFLICT (id) DO NOTHING""",
            (proposal["id"], cycle, origin, proposal["topic"], json.dumps(proposal, ensure_ascii=False),
             json.dumps(slots), proposal["start"], proposal["end"], now_iso()))
        if cur.rowcount:
            for pid, m in zip(person_ids, proposal["members"]):
                store.conn.execute("INSERT INTO sync_members (sync_id, person_id, slack_id, email) VALUES (?,?,?,?) "
                                   "ON CONFLICT DO NOTHING",
                                   (proposal["id"], pid, m["slack_id"], m["email"]))
    return bool(cur.rowcount)


def get_sync(store: Store, sync_id: str) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM syncs WHERE id = ?", [sync_id])
    return _row(rows[0]) if rows else None


def list_syncs(store: Store, cycle: str | None = None, status: Iterable[str] | None = None,
               origin: str | None = None, starting_from: str | None = None) -> list[dict[str, Any]]:
    """Syncs, soonest first; optionally of one cycle, with one of the statuses, of one origin,
    starting at or after `starting_from` (ISO UTC with a Z, as stored)."""
    where, params = [], []
    if starting_from:
        where.append("start_at >= ?")
        params.append(starting_from)
    if cycle:
        where.append("cycle = ?")
        params.append(cycle)
    if origin:
        where.append("origin = ?")
        params.append(origin)
    status = list(status or [])
    if status:
        where.append(f"status IN ({','.join('?' * len(status))})")
        params += status
    sql = "SELECT * FROM syncs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY start_at, id"
    return [_row(r) for r in store.query(sql, params)]


def update_sync(store: Store, sync_id: str, **values: Any) -> None:
    bad = set(values) - FIELDS
    if bad:
        raise ValueError(f"not a sync field: {', '.join(sorted(bad))}")
    if values:
        with store.transaction():
            store.conn.execute(f"UPDATE syncs SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                               (*values.values(), sync_id))


STAMPS = {"posted_at", "reminded_at", "checkin_at"}


def stamp(store: Store, sync_id: str, column: str, **values: Any) -> None:
    """Set a sync's `column` (posted_at, reminded_at or checkin_at) to now, with any other fields."""
    if column not in STAMPS:
        raise ValueError(f"not a sync time stamp: {column}")
    update_sync(store, sync_id, **values, **{column: now_iso()})


def upcoming(store: Store, after: datetime, team: str = "") -> list[dict[str, Any]]:
    """Syncs still to come (proposed, posted or scheduled) starting at or after `after`, soonest
    first; only those with `team` among their teams when given. Each has a "url" ("" when none)."""
    starting_from = after.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")  # as stored
    found = list_syncs(store, status=["proposed", "posted", "scheduled"], starting_from=starting_from)
    return [{**s, "url": s.get("url", "")} for s in found
            if not team or team.casefold() in {t.casefold() for t in s.get("teams") or []}]


def claim_invite(store: Store, sync_id: str, claim: bool = True) -> bool:
    """Mark a sync as being invited, once (True for the one caller that got it); claim=False releases it."""
    with store.transaction():
        if not claim:
            store.conn.execute("UPDATE syncs SET invited_at = NULL WHERE id = ?", (sync_id,))
            return False
        cur = store.conn.execute("UPDATE syncs SET invited_at = ? WHERE id = ? AND invited_at IS NULL", (now_iso(), sync_id))
    return cur.rowcount == 1


def move_sync(store: Store, sync_id: str, start: str, end: str, outside: list[str], local_starts: dict[str, str]) -> None:
    """Give a sync another time (after "Another time"): the proposal's times and members' local starts."""
    sync = get_sync(store, sync_id)
    if sync is None:
        return
    data = json.loads(store.query("SELECT data FROM syncs WHERE id = ?", [sync_id])[0]["data"])
    data.update(start=start, end=end, outside_hours=outside)
    for m in data["members"]:
        m["local_start"] = local_starts.get(m["email"], m["local_start"])
    with store.transaction():
        store.conn.execute("UPDATE syncs SET data = ?, start_at = ?, end_at = ? WHERE id = ?",
                           (json.dumps(data, ensure_ascii=False), start, end, sync_id))
        store.conn.execute("DELETE FROM sync_rsvps WHERE sync_id = ?", (sync_id,))  # a new time asks again


def delete_unposted(store: Store, cycle: str) -> int:
    """Forget a cycle's proposals that were never posted (to plan it again)."""
    with store.transaction():
        ids = [r["id"] for r in store.query("SELECT id FROM syncs WHERE cycle = ? AND status = 'proposed'", [cycle])]
        for i in ids:
            store.conn.execute("DELETE FROM sync_members WHERE sync_id = ?", (i,))
            store.conn.execute("DELETE FROM syncs WHERE id = ?", (i,))
    return len(ids)


def cycle_load(store: Store, cycle: str) -> Counter:
    """person id -> the syncs they are in this cycle (cancelled ones do not count)."""
    return Counter({r["person_id"]: r["n"] for r in store.query(
        """SELECT m.person_id, count(*) AS n FROM sync_members m JOIN syncs s ON s.id = m.sync_id
           WHERE s.cycle = ? AND s.status != 'cancelled' AND s.origin = 'cycle' GROUP BY m.person_id""", [cycle])})


def recent_groups(store: Store, since: str) -> list[set[str]]:
    """The member sets of syncs created since `since` (ISO), to avoid proposing them again."""
    groups: dict[str, set[str]] = defaultdict(set)
    for r in store.query("""SELECT m.sync_id, m.person_id FROM sync_members m JOIN syncs s ON s.id = m.sync_id
                            WHERE s.created_at >= ? AND s.status != 'cancelled'""", [since]):
        groups[r["sync_id"]].add(r["person_id"])
    return list(groups.values())


def members_of(store: Store, sync_id: str) -> dict[str, str]:
    """Slack id -> person id of a sync's members."""
    return {r["slack_id"]: r["person_id"] for r in store.query(
        "SELECT slack_id, person_id FROM sync_members WHERE sync_id = ?", [sync_id])}


# -- answers -----------------------------------------------------------------------------------------
def record_rsvp(store: Store, sync_id: str, slack_id: str, answer: str) -> None:
    with store.transaction():
        store.conn.execute("INSERT INTO sync_rsvps (sync_id, slack_id, answer, at) VALUES (?,?,?,?) "
                           "ON CONFLICT (sync_id, slack_id) DO UPDATE SET answer = excluded.answer, at = excluded.at",
                           (sync_id, slack_id, answer, now_iso()))


def rsvps(store: Store, sync_id: str) -> dict[str, str]:
    return {r["slack_id"]: r["answer"] for r in store.query(
        "SELECT slack_id, answer FROM sync_rsvps WHERE sync_id = ?", [sync_id])}


def record_checkin(store: Store, sync_id: str, slack_id: str, met: bool, outcome: str = "") -> None:
    with store.transaction():
        store.conn.execute(
            """INSERT INTO sync_checkins (sync_id, slack_id, met, outcome, at) VALUES (?,?,?,?,?)
               ON CONFLICT (sync_id, slack_id) DO UPDATE SET met = excluded.met,
               outcome = CASE WHEN excluded.outcome != '' THEN excluded.outcome ELSE outcome END, at = excluded.at""",
            (sync_id, slack_id, 1 if met else 0, outcome, now_iso()))


def checkins(store: Store, since: str | None = None) -> list[dict[str, Any]]:
    """Check-in answers ({"sync_id", "topic", "slack_id", "met", "outcome", "at"}), newest first."""
    return [{**r, "met": bool(r["met"])} for r in store.query(
        """SELECT c.sync_id, s.topic, c.slack_id, c.met, c.outcome, c.at FROM sync_checkins c
           JOIN syncs s ON s.id = c.sync_id WHERE c.at >= ? ORDER BY c.at DESC""", [since or ""])]


def set_optout(store: Store, keys: Iterable[str], out: bool = True) -> None:
    """Opt people out (or back in) by Slack id, email or person id."""
    with store.transaction():
        for k in keys:
            if not k:
                continue
            if out:
                store.conn.execute("INSERT INTO sync_optouts (key, at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET at = excluded.at", (k.strip(), now_iso()))
            else:
                store.conn.execute("DELETE FROM sync_optouts WHERE key = ?", (k.strip(),))


def optouts(store: Store) -> set[str]:
    return {r["key"].casefold() if "@" in r["key"] else r["key"] for r in store.query("SELECT key FROM sync_optouts")}
