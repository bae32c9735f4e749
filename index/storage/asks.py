"""Load and introductions (issue 26): every time a person was suggested (the weekly budget reads
these), the questions sent to people with "Ask them", and the Slack threads guildbot answered in
(a reply there is a follow-up, answered without a new mention).

Times are UTC ISO text, so they compare as strings. Writes run in their own transaction.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable, TypedDict, cast

from index.storage.clauses import in_batches
from index.storage.sqlite.store import Store, now_iso


# -- suggestions -----------------------------------------------------------------------------------------
def record_suggestions(store: Store, rows: Iterable[dict[str, str]], at: str | None = None) -> None:
    """Remember suggestions: each row has person_id, surface, asker, asker_team, person_team, qkey."""
    stamp = at or now_iso()
    with store.transaction():
        for r in rows:
            store.conn.execute(
                "INSERT INTO suggestions (at, person_id, surface, asker, asker_team, person_team, qkey) "
                "VALUES (?,?,?,?,?,?,?)", (stamp, r["person_id"], r.get("surface", ""), r.get("asker", ""),
                                           r.get("asker_team", ""), r.get("person_team", ""), r.get("qkey", "")))


def suggested_lately(store: Store, asker: str, qkey: str, surface: str, since: str) -> bool:
    """True when this asker got an answer to the same question words on this surface since `since`."""
    return bool(store.query("SELECT 1 FROM suggestions WHERE asker = ? AND qkey = ? AND surface = ? AND at >= ? LIMIT 1",
                            [asker, qkey, surface, since]))


def suggestion_counts(store: Store, person_ids: Iterable[str], since: str) -> dict[str, int]:
    """person id -> how often they were suggested since `since` (ISO)."""
    out: dict[str, int] = {}
    for part, qs in in_batches(person_ids):
        for r in store.query(f"SELECT person_id, count(*) AS n FROM suggestions WHERE at >= ? AND person_id IN ({qs}) "
                             "GROUP BY person_id", [since, *part]):
            out[r["person_id"]] = int(r["n"])
    return out


def team_pairs(store: Store, start: str, end: str) -> Counter:
    """(asker's team, suggested person's team) -> suggestions in [start, end)."""
    return Counter({(r["a"], r["b"]): int(r["n"]) for r in store.query(
        "SELECT asker_team AS a, person_team AS b, count(*) AS n FROM suggestions WHERE at >= ? AND at < ? "
        "AND asker_team <> '' AND person_team <> '' GROUP BY asker_team, person_team", [start, end])})


def own_question_keys(store: Store, askers: Iterable[str], since: str) -> set[str]:
    """The question words (query_log.qkey) these askers (Slack ids, emails, names) asked since `since`."""
    keys = [a for a in askers if a]
    if not keys:
        return set()
    qs = ",".join("?" * len(keys))
    return {r["qkey"] for r in store.query(f"SELECT DISTINCT qkey FROM query_log WHERE at >= ? AND asker IN ({qs})",
                                          [since, *keys])}


# -- asks ------------------------------------------------------------------------------------------------
class AskRow(TypedDict):
    id: str
    at: str
    asker: str
    asker_team: str
    question: str
    people: list[dict[str, Any]]   # [{person_id, name, team, slack_id}]
    sent: dict[str, dict[str, str]]  # slack id -> {channel, ts} of the message each one got
    answered_at: str
    answered_by: str


def _ask(r: dict[str, Any]) -> AskRow:
    return AskRow(id=r["id"], at=r["at"], asker=r["asker"] or "", asker_team=r["asker_team"] or "",
                  question=r["question"] or "", people=json.loads(r["people"] or "[]"), sent=json.loads(r["sent"] or "{}"),
                  answered_at=r["answered_at"] or "", answered_by=r["answered_by"] or "")


def add_ask(store: Store, ask_id: str, *, asker: str, asker_team: str, question: str, people: list[dict[str, Any]],
            sent: dict[str, dict[str, str]]) -> None:
    with store.transaction():
        store.conn.execute("INSERT INTO asks (id, at, asker, asker_team, question, people, sent) VALUES (?,?,?,?,?,?,?) "
                           "ON CONFLICT (id) DO NOTHING",
                           (ask_id, now_iso(), asker, asker_team, question, json.dumps(people), json.dumps(sent)))


def get_ask(store: Store, ask_id: str) -> AskRow | None:
    rows = store.query("SELECT * FROM asks WHERE id = ?", [ask_id])
    return _ask(rows[0]) if rows else None


def mark_answered(store: Store, ask_id: str, by: str) -> bool:
    """Note the first answer; True only for the call that noted it (the asker is told once)."""
    with store.transaction():
        cur = store.conn.execute("UPDATE asks SET answered_at = ?, answered_by = ? WHERE id = ? AND answered_at IS NULL",
                                 (now_iso(), by, ask_id))
        return cur.rowcount == 1


def asks_between(store: Store, start: str, end: str) -> list[AskRow]:
    return [_ask(r) for r in store.query("SELECT * FROM asks WHERE at >= ? AND at < ? ORDER BY at", [start, end])]


# -- Slack threads guildbot answered in ----------------------------------------------------------------------
def remember_thread(store: Store, channel: str, thread_ts: str, kind: str = "answer", ref: str = "") -> None:
    """A thread guildbot answered in (kind "answer"), or the thread of an "Ask them" message (kind "ask",
    ref: the ask's id)."""
    with store.transaction():
        store.conn.execute("INSERT INTO slack_threads (channel, thread_ts, at, kind, ref) VALUES (?,?,?,?,?) "
                           "ON CONFLICT (channel, thread_ts) DO NOTHING", (channel, thread_ts, now_iso(), kind, ref))


class ThreadRow(TypedDict):
    channel: str
    thread_ts: str
    at: str
    kind: str
    ref: str


def thread(store: Store, channel: str, thread_ts: str) -> ThreadRow | None:
    rows = store.query("SELECT channel, thread_ts, at, kind, ref FROM slack_threads WHERE channel = ? AND thread_ts = ?",
                       [channel, thread_ts])
    return cast(ThreadRow, rows[0]) if rows else None
