"""Consent: what each person lets guildbot do with them (issue 26). A person may opt out of being
suggested, pause for a period, or hide topics they do not want to be asked about. The rows are keyed
by person id ("p:<directory email>", stable across crawls); `unavailable_keys` also names them by
email and Slack id, the keys the syncs and the digest match people by.

Writes run in their own transaction; `paused_until` is an ISO date-time in UTC (a pause ends then).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterable, TypedDict

from index.storage.clauses import in_batches
from index.storage.sqlite.store import Store, iso, now_iso


class ConsentRow(TypedDict):
    person_id: str
    opted_out: bool
    paused_until: str          # "" when not paused (or a pause that ended)
    hidden_topics: list[str]
    updated_at: str


def _row(r: dict, now: str) -> ConsentRow:
    paused = r.get("paused_until") or ""
    return ConsentRow(person_id=r["person_id"], opted_out=bool(r.get("opted_out")),
                      paused_until=paused if paused > now else "",
                      hidden_topics=list(json.loads(r.get("hidden_topics") or "[]")), updated_at=r.get("updated_at") or "")


def _now(now: datetime | None) -> str:
    return iso(now or datetime.now(timezone.utc)) or ""


def get(store: Store, person_id: str, now: datetime | None = None) -> ConsentRow:
    """A person's consent (everything allowed when they never said otherwise)."""
    rows = store.query("SELECT * FROM consent WHERE person_id = ?", [person_id])
    if not rows:
        return ConsentRow(person_id=person_id, opted_out=False, paused_until="", hidden_topics=[], updated_at="")
    return _row(rows[0], _now(now))


def all_rows(store: Store, now: datetime | None = None) -> dict[str, ConsentRow]:
    """person id -> consent, for every person who said something."""
    stamp = _now(now)
    return {r["person_id"]: _row(r, stamp) for r in store.query("SELECT * FROM consent")}


def _put(store: Store, row: ConsentRow) -> None:
    store.conn.execute(
        """INSERT INTO consent (person_id, opted_out, paused_until, hidden_topics, updated_at) VALUES (?,?,?,?,?)
           ON CONFLICT (person_id) DO UPDATE SET opted_out = excluded.opted_out, paused_until = excluded.paused_until,
           hidden_topics = excluded.hidden_topics, updated_at = excluded.updated_at""",
        (row["person_id"], int(row["opted_out"]), row["paused_until"] or None, json.dumps(row["hidden_topics"]),
         now_iso()))


def set_opted_out(store: Store, person_id: str, out: bool = True) -> ConsentRow:
    with store.transaction():
        row = get(store, person_id)
        row["opted_out"] = out
        _put(store, row)
    return row


def set_paused_until(store: Store, person_id: str, until: datetime | None) -> ConsentRow:
    """Pause until `until` (UTC), or end a pause with None."""
    with store.transaction():
        row = get(store, person_id)
        row["paused_until"] = (iso(until) or "") if until else ""
        _put(store, row)
    return row


def set_hidden(store: Store, person_id: str, topic: str, hidden: bool = True) -> ConsentRow:
    """Hide a topic (or show it again); topics compare without case and extra spaces."""
    topic = " ".join(topic.split())
    with store.transaction():
        row = get(store, person_id)
        kept = [t for t in row["hidden_topics"] if t.casefold() != topic.casefold()]
        row["hidden_topics"] = kept + ([topic] if hidden and topic else [])
        _put(store, row)
    return row


def unavailable(store: Store, now: datetime | None = None) -> set[str]:
    """Person ids of everyone who opted out or is paused now: never suggested, never in a digest or sync."""
    return {pid for pid, r in all_rows(store, now).items() if r["opted_out"] or r["paused_until"]}


def unavailable_keys(store: Store, now: datetime | None = None) -> set[str]:
    """The people `unavailable` returns, by person id, every email (casefolded) and Slack id: the keys
    index/syncs/plan.py's `eligible` and the digest match people by."""
    keys: set[str] = set()
    for person in person_keys(store, sorted(unavailable(store, now))).values():
        keys.update(person)
    return keys


def person_keys(store: Store, person_ids: Iterable[str]) -> dict[str, list[str]]:
    """person id -> its id, emails and Slack id (what the syncs' opt-out list may name them by)."""
    ids = list(dict.fromkeys(person_ids))
    out: dict[str, list[str]] = {pid: [pid] for pid in ids}
    for part, qs in in_batches(ids):
        for r in store.query(f"SELECT id, slack_id, emails FROM people WHERE id IN ({qs})", part):
            out[r["id"]] += [e.casefold() for e in json.loads(r["emails"] or "[]") if e]
            out[r["id"]] += [r["slack_id"]] if r["slack_id"] else []
    return out
