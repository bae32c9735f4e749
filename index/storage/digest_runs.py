"""Digest run records: one per (channel, week), the lock that makes delivery idempotent.

A record holds the posted message's `ts` and a hash of its content. Before posting, a process
claims the record (owner and time) inside one SQLite transaction: several `guildbot serve`
processes sharing the store then post once between them. A claim older than CLAIM_SECONDS with
no `ts` is a crashed attempt; the next run takes it over and first looks in the channel for the
bot's own message (guildbot/digest/service.py), so a message posted just before a crash is adopted,
not posted again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from index.storage.sqlite.store import Store, iso

CLAIM_SECONDS = 600


@dataclass
class RunRecord:
    channel: str
    week: str
    view: str = ""
    channel_id: str = ""
    ts: str = ""
    content_hash: str = ""
    owner: str = ""
    claimed_at: str = ""
    posted_at: str = ""
    updated_at: str = ""

    @property
    def posted(self) -> bool:
        return bool(self.ts)


@dataclass
class Claim:
    """The outcome of claiming a (channel, week): `record` as it was, and whether we may deliver."""

    record: RunRecord | None
    granted: bool
    stale: bool = False   # an earlier attempt claimed it and never recorded a message: it may have posted


def get(store: Store, channel: str, week: str) -> RunRecord | None:
    rows = store.query("SELECT * FROM digest_runs WHERE channel = ? AND week = ?", [channel, week])
    return RunRecord(**{k: v or "" for k, v in rows[0].items()}) if rows else None


def _fresh(claimed_at: str, now: datetime) -> bool:
    """Whether a claim made at `claimed_at` (ISO; naive means UTC) is still within CLAIM_SECONDS."""
    try:
        at = datetime.fromisoformat(claimed_at)
    except ValueError:
        return False
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return at > now - timedelta(seconds=CLAIM_SECONDS)


def claim(store: Store, channel: str, week: str, view: str, owner: str, now: datetime | None = None) -> Claim:
    """Take the lock for delivering (channel, week), unless another live attempt holds it."""
    now = now or datetime.now(timezone.utc)
    with store.transaction():
        rec = get(store, channel, week)
        if rec and not rec.ts and rec.owner and rec.owner != owner and _fresh(rec.claimed_at, now):
            return Claim(rec, False)
        stale = bool(rec and not rec.ts and rec.claimed_at)
        if rec is None:
            store.conn.execute("INSERT INTO digest_runs (channel, week, view, owner, claimed_at) VALUES (?,?,?,?,?)",
                               (channel, week, view, owner, iso(now)))
        else:
            store.conn.execute("UPDATE digest_runs SET owner = ?, claimed_at = ? WHERE channel = ? AND week = ?",
                               (owner, iso(now), channel, week))
        return Claim(rec, True, stale)


def release(store: Store, channel: str, week: str, owner: str) -> None:
    """Give up a claim that posted nothing (an error before posting), so the next run need not wait."""
    with store.transaction():
        store.conn.execute("UPDATE digest_runs SET owner = '', claimed_at = '' WHERE channel = ? AND week = ? "
                           "AND owner = ? AND coalesce(ts, '') = ''", (channel, week, owner))


def record(store: Store, channel: str, week: str, *, ts: str, channel_id: str, content_hash: str,
           edited: bool = False, now: datetime | None = None) -> None:
    """The message is out (posted, adopted or edited): remember where and what."""
    stamp = iso(now or datetime.now(timezone.utc))
    with store.transaction():
        store.conn.execute(
            f"""UPDATE digest_runs SET ts = ?, channel_id = ?, content_hash = ?, owner = '',
                {'updated_at' if edited else 'posted_at'} = ? WHERE channel = ? AND week = ?""",
            (ts, channel_id, content_hash, stamp, channel, week))


def known_channel_id(store: Store, channel: str) -> str:
    """The channel id an earlier run recorded for a channel name ('' when none did)."""
    rows = store.query("SELECT channel_id FROM digest_runs WHERE channel = ? AND coalesce(channel_id, '') != '' "
                       "ORDER BY week DESC LIMIT 1", [channel])
    return rows[0]["channel_id"] if rows else ""


def runs(store: Store, week: str | None = None) -> list[RunRecord]:
    sql, args = "SELECT * FROM digest_runs", []
    if week:
        sql, args = sql + " WHERE week = ?", [week]
    return [RunRecord(**{k: v or "" for k, v in r.items()}) for r in store.query(sql + " ORDER BY week, channel", args)]
