"""The weekly digest as a Slack message and a web page, and its idempotent delivery.

Rendering is pure: the digest data (index/digest/weekly.py) becomes lines of spans (text, links,
people), and the same lines become Block Kit mrkdwn for Slack or HTML for the web page. Sections
come in order of importance (duplicate effort first); each keeps at most `max_items` items and
Slack's limits (50 blocks, 3,000 characters a section), and says how many more are on the web
page.

`DigestService(store, answers, config)`, built once per surface by `digest_for(guild)`, builds a
week's data (index/digest/weekly.py) from the store, asking the answer layer (the Guild) only for
answers (overlaps, experts, the question model), and delivers it; it reads the run records and
upcoming syncs itself, through index/storage.

Delivery (`Delivery.deliver`) is idempotent per (channel, week), with the run record
(index/storage/digest_runs.py) as the lock:
- same content as recorded: nothing is sent;
- a recorded message with other content: `chat.update` edits it; when Slack says that message is
  gone (`message_not_found`: deleted; `channel_not_found`: the channel was renamed, archived or
  recreated since), the digest is posted anew to the configured channel and the new ts recorded;
- an earlier attempt that claimed the run and never recorded a message (a crash between posting
  and recording): the channel's history is searched for the bot's own digest message, marked in
  its metadata (event_type `guildbot_digest`) and in a context line, and it is adopted, not
  posted again; when the history cannot be read, nothing is posted rather than risk a duplicate;
- otherwise `chat.postMessage`, then the record.
HTTP 429 is retried after Slack's Retry-After (slack_sdk's RateLimitErrorRetryHandler);
connection errors are not retried blindly, because a post may have arrived.
"""
from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import socket
import uuid
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Protocol, Sequence
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from connectors.common.redact import register_secret
from index.storage import digest_runs
from index.storage import syncs as syncstore
from index.digest.weekly import DigestData, build_digest, last_week, mark_announced, week_bounds
from index.expertise.experts import topic_of
from index.people.visibility import make_viewer
from index.retrieval import querylog

from guildbot import blockkit as kit
from guildbot import settings

if TYPE_CHECKING:
    from index.catalog.overlaps import Overlap
    from index.embedding.embedder import Embedder
    from index.expertise.experts import Expert
    from index.people.visibility import Viewer
    from index.storage.factory import Store

    from guildbot.config.loader import Config
    from guildbot.guild import Guild

log = logging.getLogger("guildbot.digest.service")

EVENT_TYPE = "guildbot_digest"
MARKER = "guildbot digest"          # the visible marker line: "guildbot digest 2026-W49 · guild"
HISTORY_PAGES = 5
GONE = ("message_not_found", "channel_not_found")  # chat.update's errors for a message that is no longer there
CHANGE_LABEL = {"new": "new", "back": "came back", "dormant": "went dormant", "changed": "changed", "edited": "edited"}
CHANGE_ICON = {"new": ":new:", "back": ":leftwards_arrow_with_hook:", "dormant": ":zzz:", "changed": ":pencil2:",
               "edited": ":pencil2:"}

# -- spans: one description of a line, two renderings ----------------------------------------------------
Span = tuple  # ("t", text) | ("b", bold) | ("i", italic) | ("a", url, title) | ("p", person dict) | ("e", Slack emoji)


def _people(people: Sequence[Mapping[str, Any]], limit: int = 4) -> list[Span]:
    spans: list[Span] = []
    for i, p in enumerate(people[:limit]):
        spans += [("t", ", ")] if i else []
        spans.append(("p", p))
    if len(people) > limit:
        spans.append(("t", f" and {len(people) - limit} more"))
    return spans


def _slack_person(p: Mapping[str, Any]) -> str:
    sid = p.get("slack_id", "")
    return kit.mention(p["name"], sid) + (f" ({kit.escape(p['name'])})" if sid else "")


def _html_link(url: str, title: str) -> str:
    title = html.escape(title or "untitled")
    return f'<a href="{html.escape(url)}">{title}</a>' if url else title


MRKDWN = {"t": kit.escape, "b": lambda x: f"*{kit.escape(x)}*", "i": lambda x: f"_{kit.escape(x)}_", "a": kit.link,
          "p": _slack_person, "e": lambda x: x}
HTML = {"t": html.escape, "b": lambda x: f"<strong>{html.escape(x)}</strong>", "i": lambda x: f"<em>{html.escape(x)}</em>",
        "a": _html_link, "e": lambda x: "",  # emoji are Slack's
        "p": lambda p: f'<span class="person" title="{html.escape(p.get("team", ""))}">{html.escape(p["name"])}</span>'}


def to_mrkdwn(spans: Iterable[Span]) -> str:
    return "".join(MRKDWN[s[0]](*s[1:]) for s in spans)


def to_html(spans: Iterable[Span]) -> str:
    return "".join(HTML[s[0]](*s[1:]) for s in spans)


@dataclass
class Section:
    key: str
    title: str
    lines: list[list[Span]]
    total: int           # items before the cap
    block_per_line: bool = False


def _project_line(p: Mapping[str, Any]) -> list[Span]:
    spans: list[Span] = [("e", CHANGE_ICON[p["change"]] + " "), ("a", p["url"], p["project"]), ("t", f" ({p['team']}) — "),
                         ("b", CHANGE_LABEL[p["change"]])]
    if p["people"]:
        spans += [("t", " · ")] + _people(p["people"])
    if p["change"] == "new" and p.get("summary"):
        spans += [("t", " — "), ("i", kit.clip(kit.one_line(p["summary"]), 160))]
    return spans


def _overlap_lines(o: Mapping[str, Any]) -> list[Span]:
    a, b = o["a"], o["b"]
    spans: list[Span] = [("a", a.get("url", ""), a["project"]), ("t", f" ({a['team']}) and "),
                         ("a", b.get("url", ""), b["project"]), ("t", f" ({b['team']}) look alike (score {o['score']:.2f})")]
    if o.get("shared_topics"):
        spans += [("t", " — shared topics: " + ", ".join(o["shared_topics"][:5]))]
    for ev in o.get("evidence", [])[:2]:
        spans += [("t", "\n   closest documents: "), ("a", ev["a"]["url"], ev["a"]["title"]), ("t", " ~ "),
                  ("a", ev["b"]["url"], ev["b"]["title"])]
    spans += [("t", f"\n   who should talk — {a['team']}: ")] + _people(a["people"], 3)
    spans += [("t", f"; {b['team']}: ")] + _people(b["people"], 3)
    return spans


def _document_line(d: Mapping[str, Any]) -> list[Span]:
    spans: list[Span] = [("a", d["url"], d["title"]), ("t", f" ({d['team']} · {d['source']}) — "), ("b", CHANGE_LABEL[d["change"]])]
    if d["authors"]:
        spans += [("t", " by ")] + _people(d["authors"], 3)
    return spans


def _gap_line(g: Mapping[str, Any]) -> list[Span]:
    why = "marked not helpful" if g["not_helpful"] else "weak answer" if g["strength"] is not None else "no answer"
    spans: list[Span] = [("i", kit.clip(kit.one_line(g["question"]), 200)), ("t", f" — asked {g['asked']}× · {why}")]
    if g["people"]:
        spans += [("t", " · might know: ")] + _people(g["people"], 3)
    else:
        spans += [("t", " · nobody has written about it yet")]
    return spans


def _crossing_line(c: Mapping[str, Any]) -> list[Span]:
    return [("p", c["person"]), ("t", f" of {c['person']['team']} started contributing to "), ("a", c["url"], c["project"]),
            ("t", f" ({c['project_team']})")]


def _sync_line(s: Mapping[str, Any]) -> list[Span]:
    spans: list[Span] = [("a", s.get("url", ""), s.get("topic", "sync")), ("t", f" — {s.get('start', '')}")]
    if s.get("members"):
        spans += [("t", " · ")] + _people(s["members"], 6)
    return spans


def sections(data: DigestData, max_items: int | None = None) -> list[Section]:
    """The digest's non-empty sections in order of importance, each cut to `max_items` items."""
    def cut(items: list) -> list:
        return items if max_items is None else items[:max_items]

    gaps_title = f"Questions nobody could answer well ({data.questions} asked this week)"
    parts = [
        ("overlaps", "Possible duplicate effort: teams working on the same thing", data.overlaps, _overlap_lines, True),
        ("gaps", gaps_title, data.gaps, _gap_line, False),
        ("projects", "Projects: new, changed, dormant, back", data.projects, _project_line, False),
        ("documents", "New and edited pages", data.documents, _document_line, False),
        ("crossings", "Crossing team lines", data.crossings, _crossing_line, False),
        ("syncs", "Upcoming cross-team syncs", data.syncs, _sync_line, False),  # filled once syncs exist
        ("at_risk", "At risk: projects that hang on one person who is gone", data.at_risk, _risk_line, False),
    ]
    return [Section(key, title, [line(x) for x in cut(items)], len(items), per_line)
            for key, title, items, line, per_line in parts if items]


# -- Slack -----------------------------------------------------------------------------------------------
def archive_url(web_url: str, data: DigestData) -> str:
    if not web_url:
        return ""
    return f"{web_url.rstrip('/')}/digest/{data.week}" + (f"?team={data.team.replace(' ', '%20')}" if data.team else "")


def marker(data: DigestData) -> str:
    return f"{MARKER} {data.week} · {data.view}"


def _dates(data: DigestData) -> str:
    zone = ZoneInfo(data.tz)
    start = datetime.fromisoformat(data.start).astimezone(zone)
    last = datetime.fromisoformat(data.end).astimezone(zone) - timedelta(days=1)
    return f"{start:%a %d %b} – {last:%a %d %b %Y} ({data.tz})"


def fit_lines(title: str, lines: Sequence[str], total: int, more: str, limit: int = kit.SECTION_TEXT) -> str:
    """A title and whole lines within `limit` characters; a last line says how many of `total` were left out."""
    note_room = len(more.format(n=total)) + 1
    out, used = [title], len(title)
    for line in lines:
        if used + 1 + len(line) + note_room > limit:
            break
        out.append(line)
        used += 1 + len(line)
    left = total - (len(out) - 1)
    if left > 0:
        out.append(more.format(n=left))
    return kit.clip("\n".join(out), limit)


def render_message(data: DigestData, guild_name: str, web_url: str = "", max_items: int = 5,
                   empty: str = "skip") -> kit.Message | None:
    """The digest as a Slack message; None for a week with nothing to say (unless empty = "line")."""
    title = f"{guild_name} weekly digest · {data.week}" + (f" · {data.team}" if data.team else "")
    archive = archive_url(web_url, data)
    if data.empty():
        if empty != "line":
            return None
        text = f"A quiet week: nothing new to report for {data.week}" + (f" in {data.team}" if data.team else "") + "."
        return kit.Message(text, [kit.section(kit.escape(text)), kit.context(marker(data))])
    blocks: list[dict[str, Any]] = [kit.header(title), kit.context(_dates(data))]
    more = "…and {n} more" + (f" in the {kit.link(archive, 'web archive')}" if archive else "")
    for sec in sections(data, max_items):
        left = sec.total - len(sec.lines)
        tail = [more.format(n=left)] if left > 0 else []
        if sec.block_per_line:  # one block per item: each may use a whole section's 3,000 characters
            blocks.append(kit.section(f"*{kit.escape(sec.title)}*"))
            blocks += [kit.section(kit.clip(to_mrkdwn(line), kit.SECTION_TEXT)) for line in sec.lines]
            blocks += [kit.context(*tail)] if tail else []
        else:
            blocks.append(kit.section(fit_lines(f"*{kit.escape(sec.title)}*", ["• " + to_mrkdwn(x) for x in sec.lines],
                                                sec.total, more)))
        blocks.append(kit.divider())
    footer = [f"Everything, week by week: {kit.link(archive, 'the digest archive')}"] if archive else []
    blocks.append(kit.context(*footer, marker(data)))
    blocks = kit.fit(blocks, keep_last=1)
    names = [s.title.split(":")[0].split(" (")[0].lower() for s in sections(data)]
    return kit.Message(kit.clip(f"{title}: " + ", ".join(names), kit.FALLBACK_TEXT), blocks)


def render_text(message: kit.Message | None) -> str:
    """A message as readable text, as `slack-console` shows blocks."""
    return kit.to_text(message.blocks) if message else "(nothing to say this week: no message)"


# -- web ---------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _templates() -> Environment:
    """The digest's HTML comes from the app's Jinja templates (autoescaped), like every web page."""
    return Environment(loader=PackageLoader("guildbot", "templates"), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined)


def render_html(data: DigestData, guild_name: str = "") -> str:
    """The digest as an HTML fragment (every item, no cap) for the web app's /digest/{week} page."""
    title = f"{guild_name + ' ' if guild_name else ''}weekly digest · {data.week}" + (f" · {data.team}" if data.team else "")
    secs = [{"key": sec.key, "title": sec.title,
             "lines": [Markup(to_html(line).replace(chr(10), "<br>")) for line in sec.lines]} for sec in sections(data)]
    return _templates().get_template("digest_body.html").render(data=data, title=title, dates=_dates(data), sections=secs)


def archive_weeks(now: datetime | None = None, tz: str = "UTC", count: int = 12) -> list[str]:
    """The last `count` ended ISO weeks, newest first: the /digest archive's entries."""
    end = now or datetime.now(ZoneInfo("UTC"))
    return [last_week(end - timedelta(weeks=i), tz) for i in range(count)]


def render_archive_html(weeks: Sequence[str], guild_name: str = "", base: str = "/digest") -> str:
    """The /digest page's body: links to each week's digest."""
    return _templates().get_template("digest_archive_body.html").render(weeks=list(weeks), guild_name=guild_name, base=base)


# -- delivery ----------------------------------------------------------------------------------------------
class DigestSetupError(Exception):
    """Slack settings missing or wrong for posting; the message says which and the fix."""


def make_client(environ: Mapping[str, str] | None = None) -> WebClient:
    """A Web API client from SLACK_BOT_TOKEN and SLACK_API_URL (default Slack's), retried after 429:
    the one factory (guildbot/settings.py) with the digest's own error."""
    env = settings.environment(environ)
    token = env.slack_bot_token.get_secret_value()
    if not token:
        raise DigestSetupError("SLACK_BOT_TOKEN is not set; it is the Bot User OAuth Token (xoxb-...) from "
                               "api.slack.com/apps -> your app -> OAuth & Permissions (or use --dry-run)")
    try:
        url = settings.slack_api_url(env)
    except ValueError as e:
        raise DigestSetupError(str(e)) from None
    register_secret(token)
    return settings.make_client(settings.SlackSettings(bot_token=token, api_url=url))


@dataclass
class Target:
    channel: str      # "#ml-guild" or an id; "" for a dry run of a team without a channel
    team: str = ""    # "" for the guild-wide view


def targets(config: Any, channel: str | None = None, team: str | None = None) -> list[Target]:
    """Where the digest goes: --channel, --team, or [digest] channel plus each team's channel (per_team)."""
    d = config.digest
    if team:
        t = config.team(team)
        if not t:
            raise LookupError(f"no team named {team!r}; use one of: {', '.join(x.name for x in config.teams)}")
        return [Target(channel or t.slack_channel, t.name)]
    if channel:
        return [Target(channel, "")]
    out = [Target(d.channel, "")] if d.channel else []
    if d.per_team:
        out += [Target(t.slack_channel, t.name) for t in config.teams if t.slack_channel]
    return out


@dataclass
class Outcome:
    channel: str
    week: str
    team: str
    status: str       # posted | updated | reposted | unchanged | adopted | nothing | busy | failed
    ts: str = ""
    error: str = ""

    def public(self) -> dict[str, Any]:
        return dict(vars(self))


def content_hash(message: kit.Message) -> str:
    return hashlib.sha256(json.dumps(message.payload(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _is_channel_id(channel: str) -> bool:
    return bool(re.fullmatch(r"[CGD][A-Z0-9]{6,}", channel))


class Delivery:
    """Posts digests to Slack at most once per (channel, week); see the module docstring. Holds the
    store (for the run records) and the Slack client; `DigestService.run` builds what it posts."""

    def __init__(self, store: "Store", client: WebClient, owner: str | None = None):
        self.store, self.client = store, client
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._me: dict[str, str] | None = None

    def deliver(self, target: Target, data: DigestData, message: kit.Message | None) -> Outcome:
        outcome = Outcome(target.channel, data.week, target.team, "nothing")
        if message is None:
            return outcome
        chash = content_hash(message)
        claim = digest_runs.claim(self.store, target.channel, data.week, data.view, self.owner)
        rec = claim.record
        metadata = {"event_type": EVENT_TYPE,
                    "event_payload": {"week": data.week, "view": data.view, "hash": chash}}
        posting = False
        try:
            if rec and rec.ts:
                if rec.content_hash == chash:
                    outcome.status, outcome.ts = "unchanged", rec.ts
                else:
                    try:
                        self.client.chat_update(channel=rec.channel_id or target.channel, ts=rec.ts, metadata=metadata,
                                                **message.payload())
                    except SlackApiError as e:
                        if e.response.get("error") not in GONE:
                            raise
                        # the message was deleted, or its channel renamed or recreated: post it anew below
                        log.info("the %s digest in %s is gone (%s); posting it again", data.week, target.channel,
                                 e.response.get("error"))
                        posting, outcome.status = True, "reposted"
                    else:
                        digest_runs.record(self.store, target.channel, data.week, ts=rec.ts, channel_id=rec.channel_id,
                                           content_hash=chash, edited=True)
                        outcome.status, outcome.ts = "updated", rec.ts
            elif claim.stale or not claim.granted:
                found = self.find_own(target.channel, data)
                if found:
                    ts, channel_id, old_hash = found
                    if old_hash != chash:
                        self.client.chat_update(channel=channel_id, ts=ts, metadata=metadata, **message.payload())
                    digest_runs.record(self.store, target.channel, data.week, ts=ts, channel_id=channel_id,
                                       content_hash=chash)
                    outcome.status, outcome.ts = "adopted", ts
                elif not claim.granted:
                    outcome.status = "busy"
                    outcome.error = "another guildbot process is delivering this digest right now"
                    return outcome
                else:
                    posting = True
            else:
                posting = True
            if posting:
                resp = self.client.chat_postMessage(channel=target.channel, unfurl_links=False, unfurl_media=False,
                                                    metadata=metadata, **message.payload())
                digest_runs.record(self.store, target.channel, data.week, ts=resp["ts"],
                                   channel_id=resp.get("channel") or "", content_hash=chash)
                outcome.status = "reposted" if outcome.status == "reposted" else "posted"
                outcome.ts = resp["ts"]
        except SlackApiError as e:
            # Slack answered with an error: nothing was posted, so the next run need not search for it
            digest_runs.release(self.store, target.channel, data.week, self.owner)
            outcome.status, outcome.error = "failed", f"Slack refused ({e.response.get('error')}): {_advice(e)}"
            return outcome
        except _HistoryUnavailable as e:
            outcome.status, outcome.error = "failed", str(e)
            return outcome
        except OSError as e:  # unreachable or timed out: the post may have arrived, so the claim stays for the next run
            outcome.status = "failed"
            outcome.error = (f"cannot reach Slack at {self.client.base_url} ({getattr(e, 'reason', e)}); check the network "
                             "and SLACK_API_URL. The next run looks in the channel before posting again")
            return outcome
        mark_announced(self.store, data.view, data.week, [o["pair"] for o in data.overlaps])
        return outcome

    # -- finding our own message after a crash -------------------------------------------------------
    def me(self) -> dict[str, str]:
        if self._me is None:
            resp = self.client.auth_test()
            self._me = {"user_id": resp.get("user_id", ""), "bot_id": resp.get("bot_id", "")}
        return self._me

    def channel_id(self, channel: str) -> str:
        if _is_channel_id(channel):
            return channel
        known = digest_runs.known_channel_id(self.store, channel)
        if known:
            return known
        name, cursor = channel.lstrip("#"), None
        for _ in range(20):
            resp = self.client.conversations_list(types="public_channel,private_channel", exclude_archived=True,
                                                  limit=200, cursor=cursor)
            for c in resp.get("channels", []):
                if c.get("name") == name:
                    return c["id"]
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        raise _HistoryUnavailable(f"channel {channel} not found by conversations.list; invite the bot to it or "
                                  "configure the channel id")

    def find_own(self, channel: str, data: DigestData) -> tuple[str, str, str] | None:
        """(ts, channel id, content hash) of the bot's digest for this week and view in the channel, if posted."""
        try:
            cid = self.channel_id(channel)
            me = self.me()
            oldest = str(datetime.fromisoformat(data.start).timestamp())
            cursor = None
            for _ in range(HISTORY_PAGES):
                resp = self.client.conversations_history(channel=cid, oldest=oldest, limit=200, cursor=cursor,
                                                         include_all_metadata=True)
                for m in resp.get("messages", []):
                    if not (m.get("user") == me["user_id"] or (me["bot_id"] and m.get("bot_id") == me["bot_id"])):
                        continue
                    payload = (m.get("metadata") or {}).get("event_payload") or {}
                    if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE:
                        if payload.get("week") == data.week and payload.get("view") == data.view:
                            return m["ts"], cid, payload.get("hash", "")
                    elif marker(data) in json.dumps(m.get("blocks") or []) + (m.get("text") or ""):
                        return m["ts"], cid, ""
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not resp.get("has_more") or not cursor:
                    break
        except SlackApiError as e:
            raise _HistoryUnavailable(
                f"an earlier run may have posted the {data.week} digest to {channel} but its history cannot be read "
                f"({e.response.get('error')}); nothing was posted, to avoid a duplicate. {_advice(e)}") from e
        return None


def _risk_line(r: Mapping[str, Any]) -> list[Span]:
    spans: list[Span] = [("a", r.get("url", ""), r["project"]),
                         ("t", f" — {r['person']['name']} made {round(100 * r['share'])}% of the last year's "
                               f"{r['commits']} commits and {r['reason']}")]
    if r.get("next"):
        spans += [("t", " · next to ask: ")] + _people(r["next"], 3)
    return spans


# -- the service -------------------------------------------------------------------------------------------
class DigestAnswers(Protocol):
    """The answers the digest asks of the answer layer (Guild has them all)."""

    embedder: "Embedder"  # the question model: how near a weak question comes to someone's documents

    def experts(self, question: str, limit: int = 10, team: str | None = None, viewer: "Viewer | None" = None, *,
                surface: str | None = "api", asker: str | None = None) -> list["Expert"]: ...

    def overlaps(self, limit: int = 10, include_same_team: bool = False, min_score: float | None = None,
                 viewer: "Viewer | None" = None) -> list["Overlap"]: ...

    def at_risk(self, team: str | None = None, viewer: "Viewer | None" = None) -> list[dict[str, Any]]: ...


def digest_for(guild: "Guild") -> "DigestService":
    """The digest service of a guild: its store, its answers and its config. Surfaces build it once;
    this is the one place outside guild.py that reads `guild.store` for the digest."""
    return DigestService(guild.store, guild, guild.config)


class DigestService:
    """The weekly digest: its data per week and view, where it goes, and its delivery. Owns its
    storage use (the digest's queries, run records, upcoming syncs); `answers` is asked only for answers."""

    def __init__(self, store: "Store", answers: DigestAnswers, config: "Config"):
        self.store, self.answers, self.config = store, answers, config

    def build(self, week: str | None = None, team: str | None = None, now: Any = None) -> DigestData:
        """The digest of an ISO week ("2026-W49"; default: the week that just ended in [digest] tz),
        guild-wide or one team's view. ValueError for a malformed week, LookupError for an unknown team."""
        config = self.config
        cfg = config.digest
        bounds = week_bounds(week or last_week(now, cfg.tz), cfg.tz)
        name = ""
        if team:
            found = config.team(team)
            if not found:
                raise LookupError(f"no team named {team!r}; use one of: {', '.join(t.name for t in config.teams)}")
            name = found.name

        # a digest is read by a whole channel: the guild's shows public sources, a team's what that team may see
        rules = {s.name: (s.team, s.visibility) for s in config.sources}
        viewer = make_viewer(rules, name, f"digest {name or 'guild'}")
        answers, store = self.answers, self.store

        def who_knows(question: str) -> list[dict[str, Any]]:
            """People whose own documents come near the question; nobody rather than noise."""
            vector = answers.question_vectors.encode_query([topic_of(question)])[0]
            near = [e for e in answers.experts(question, limit=5, viewer=viewer, surface=None)
                    if querylog.might_know(querylog.strength(store, vector, [v.doc_id for v in e.evidence if v.doc_id]))]
            return [{"name": e.name, "team": e.team, "slack_id": e.slack_id} for e in near[:3]]

        data = build_digest(store, bounds, answers.overlaps(limit=50, viewer=viewer), who_knows, name, cfg.min_overlap,
                            config.query_log.weak_below, syncs=syncstore.upcoming(store, bounds.end, name),
                            sources=viewer.sources)
        if name:  # a team's digest reminds it of its own projects that hang on one person who is gone
            data.at_risk = answers.at_risk(team=name, viewer=viewer)
        return data

    def targets(self, channel: str | None = None, team: str | None = None) -> list[Target]:
        """Where the digest goes (see `targets`); LookupError for an unknown team."""
        return targets(self.config, channel, team)

    def message(self, data: DigestData) -> kit.Message | None:
        """The digest as a Slack message with [digest]'s settings; None for a week with nothing to say."""
        cfg = self.config
        return render_message(data, cfg.name, cfg.digest.web_url, cfg.digest.max_items, cfg.digest.empty)

    def delivery(self, client: WebClient, owner: str | None = None) -> Delivery:
        return Delivery(self.store, client, owner)

    def run(self, client: WebClient, week: str | None = None, channel: str | None = None,
            team: str | None = None) -> list[Outcome]:
        """Build and deliver the digest of `week` to every target."""
        delivery = self.delivery(client)
        out = []
        for target in self.targets(channel, team):
            data = self.build(week, target.team or None)
            out.append(delivery.deliver(target, data, self.message(data)))
        return out

    def undelivered(self, week: str) -> bool:
        """True when some target channel has no posted digest of `week` (a scheduled run was missed)."""
        return any(not (r and r.posted) for r in (digest_runs.get(self.store, t.channel, week)
                                                   for t in self.targets() if t.channel))


class _HistoryUnavailable(Exception):
    pass


def _advice(e: SlackApiError) -> str:
    error = e.response.get("error", "")
    needed = e.response.get("needed")
    if error == "missing_scope":
        return f"add the {needed or 'missing'} scope to the app (api.slack.com/apps -> OAuth & Permissions) and reinstall it"
    if error in ("not_in_channel", "channel_not_found"):
        return "invite the bot to the channel (/invite @guildbot) or fix the channel in guild.toml [digest]"
    if error in ("invalid_auth", "not_authed", "token_revoked"):
        return "check SLACK_BOT_TOKEN"
    if error == "ratelimited":
        return "Slack kept rate-limiting; run again later"
    return "see https://api.slack.com/methods for the error"
