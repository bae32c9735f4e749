"""Answers as Slack Block Kit messages: pure functions, no Slack calls.

Everything is kept inside Slack's limits: at most 50 blocks a message, 3,000 characters of
section text, 2,000 per section field, 150 for a header, 75 for button text and 2,000 for a button
value. `validate()` checks a message with slack_sdk's own block models. User text (titles,
snippets, questions, names) is escaped for mrkdwn in the blocks and in the fallback `text` alike
(Slack renders both, and notifications show the text), so a title like "<b> & co" cannot break
formatting and `<!channel>` typed into a question pings nobody.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote

from index.expertise.experts import Evidence, Expert, describe
from index.expertise.profiles import Profile
from index.retrieval.search import Hit

MAX_BLOCKS = 50
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
CONTEXT_ELEMENTS = 10
FALLBACK_TEXT = 3000  # notification text: Slack truncates long `text` anyway
SNIPPET = 300
QUESTION_IN_VALUE = 1000

# action ids, matched by the Slack app
SHARE = "guild_share"
HELPFUL = "guild_helpful"
NOT_HELPFUL = "guild_not_helpful"
ASK_THEM = "guild_ask_them"  # opens the "Ask them" modal (guildbot/slack/asks.py)

COMMAND = "/guild"


@dataclass
class Message:
    """What the bot posts: fallback text for notifications plus blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


@dataclass
class ProjectLine:
    """One line of a projects answer: a catalog project, or a source with matching documents."""

    name: str
    team: str
    kind: str = ""
    url: str = ""
    documents: int = 0
    detail: str = ""


# -- text helpers --------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Escape the three characters mrkdwn treats as control characters."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ENTITY = re.compile(r"&(amp|lt|gt);")
UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}


def unescape(text: str) -> str:
    """Undo `escape` once, in one pass: `&amp;lt;` (a typed "&lt;") becomes "&lt;", not "<"."""
    return ENTITY.sub(lambda m: UNESCAPED[m.group(1)], text or "")


def fallback(text: str) -> str:
    """The notification `text` of a message: escaped like the blocks, within Slack's limit."""
    return clip(escape(one_line(text)), FALLBACK_TEXT)


SLACK_ID = re.compile(r"^[UW][A-Z0-9]+$")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary when one is near, with an ellipsis."""
    text = text or ""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    # never leave half an escape sequence (&amp; &lt; &gt;) at the end
    amp = cut.rfind("&")
    if amp >= 0 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def link(url: str, title: str) -> str:
    """A mrkdwn link, or the bare title when there is no URL."""
    title = escape(one_line(title)) or "untitled"
    if not url:
        return title
    safe = quote(url, safe=":/?#[]@!$&'()*+,;=%~.-_")
    return f"<{safe}|{title.replace('|', '¦')}>"


def mention(name: str, slack_id: str = "") -> str:
    return f"<@{slack_id}>" if slack_id and SLACK_ID.match(slack_id) else f"*{escape(name)}*"


def join_lines(lines: Sequence[str], limit: int = SECTION_TEXT, more: str = "…and {n} more") -> str:
    """Whole lines up to `limit` characters; a note says how many were left out."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        left = len(lines) - i
        note = more.format(n=left)
        cost = len(line) + (1 if out else 0)
        if used + cost > limit or (used + cost + len(note) + 1 > limit and left > 1):
            if not out:  # a single line longer than the limit: cut it
                return clip(line, limit)
            if used + len(note) + 1 <= limit:
                out.append(note)
            break
        out.append(line)
        used += cost
    return "\n".join(out)


# -- blocks ------------------------------------------------------------------------------------------
def section(text: str, block_id: str | None = None, accessory: dict | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT) or " "}}
    if block_id:
        b["block_id"] = block_id[:255]
    if accessory:
        b["accessory"] = accessory
    return b


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(one_line(text), HEADER_TEXT) or " ", "emoji": True}}


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(t, SECTION_TEXT)}
                                            for t in texts[:CONTEXT_ELEMENTS] if t]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def button(text: str, action_id: str, value: Any, style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT), "emoji": True},
                         "action_id": action_id, "value": encode_value(value)}
    if style:
        b["style"] = style
    return b


def actions(block_id: str, *elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id[:255], "elements": list(elements)[:25]}


def encode_value(value: Any) -> str:
    """A button value: JSON, shortened (the question first) to fit Slack's 2,000 characters."""
    if isinstance(value, str):
        return value[:BUTTON_VALUE]
    data = dict(value)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    while len(text) > BUTTON_VALUE:
        key = max((k for k, v in data.items() if isinstance(v, str)), key=lambda k: len(data[k]))
        data[key] = data[key][: max(0, len(data[key]) - (len(text) - BUTTON_VALUE) - 1)]
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text


def decode_value(value: str | None) -> dict[str, Any]:
    try:
        data = json.loads(value or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def fit(blocks: list[dict[str, Any]], keep_last: int = 0) -> list[dict[str, Any]]:
    """At most MAX_BLOCKS blocks; the last `keep_last` (the buttons) always stay."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    tail = blocks[len(blocks) - keep_last:] if keep_last else []
    head = blocks[: MAX_BLOCKS - keep_last - 1]
    return head + [context(f"…{len(blocks) - len(head) - len(tail)} more blocks left out")] + tail


def share_button(command: str, arg: str, ask_them: bool = False) -> dict[str, Any]:
    """The answer's buttons: "Share in channel", and "Ask them" when it names people to ask."""
    share = button("Share in channel", SHARE, {"c": command, "a": arg[:QUESTION_IN_VALUE]}, "primary")
    return actions("guild_share", share, *([ask_them_button(arg)] if ask_them else []))


def ask_them_button(question: str) -> dict[str, Any]:
    return button("Ask them", ASK_THEM, {"q": question[:QUESTION_IN_VALUE]})


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in text.splitlines() if line.strip())


# -- answers ---------------------------------------------------------------------------------------
def _evidence_line(ev: Evidence) -> str:
    what = f" — {escape(ev.what)}" if getattr(ev, "what", "") else ""
    return f"• {link(ev.url, ev.title)}{what}"


def _expert_text(n: int, e: Expert, slack_id: str, evidence: int = 3) -> str:
    team = f" · {escape(e.team)}" if e.team else ""
    name = f"{mention(e.name, slack_id)} ({escape(e.name)})" if slack_id else mention(e.name)
    lines = [f"*{n}.* {name}{team}"] + [_evidence_line(ev) for ev in e.evidence[:evidence]]
    return join_lines(lines)


def _shared_by(user: str | None) -> list[dict[str, Any]]:
    return [context(f"Shared by {mention('someone', user)} · `{COMMAND}`")] if user else []


def ask_message(question: str, hits: Sequence[Hit], experts: Sequence[Expert], slack_ids: Mapping[str, str],
                *, share: bool = True, feedback: bool = True, shared_by: str | None = None) -> Message:
    """Top documents with snippets and links, then the people to ask."""
    q = escape(one_line(question))
    blocks: list[dict[str, Any]] = [*_shared_by(shared_by), section(f"*Top documents for* _{clip(q, 500)}_")]
    if not hits:
        blocks.append(section("Nothing matched well. Try other words, or ask `/guild who &lt;topic&gt;` for people."))
    for n, h in enumerate(hits, 1):
        where = " · ".join(escape(x) for x in (h.team, h.source) if x)
        snippet = _quote(escape(clip(one_line(h.snippet), SNIPPET))) if h.snippet else ""
        text = f"*{n}. {link(h.url, h.title)}*" + (f"  _{where}_" if where else "") + (f"\n{snippet}" if snippet else "")
        blocks.append(section(text, block_id=f"doc:{n}"))
        if feedback:
            value = {"d": h.doc_id, "q": question[:QUESTION_IN_VALUE]}
            blocks.append(actions(f"feedback:{n}", button("👍 Helpful", HELPFUL, value),
                                  button("👎 Not helpful", NOT_HELPFUL, value)))
    if experts:
        blocks.append(divider())
        lines = [f"• {mention(e.name, slack_ids.get(e.person_id, ''))}"
                 + (f" ({escape(e.name)})" if slack_ids.get(e.person_id) else "")
                 + (f" · {escape(e.team)}" if e.team else "")
                 + (f" — {link(e.evidence[0].url, e.evidence[0].title)}" if e.evidence else "")
                 for e in experts]
        blocks.append(section("*People to ask*\n" + join_lines(lines, SECTION_TEXT - 20)))
    asking = bool(experts) and not shared_by
    tail = ([share_button("ask", question, asking)] if share else
            [actions("guild_ask", ask_them_button(question))] if asking else [])
    blocks = fit(blocks + tail, keep_last=len(tail))
    top = hits[0].title if hits else "no documents"
    return Message(fallback(f"{len(hits)} documents for “{clip(one_line(question), 200)}” (top: {top})"), blocks)


def who_message(topic: str, experts: Sequence[Expert], slack_ids: Mapping[str, str], *, share: bool = True,
                shared_by: str | None = None) -> Message:
    """People who know a topic, with team and evidence, as Slack mentions where the id is known."""
    t = escape(one_line(topic))
    blocks: list[dict[str, Any]] = [*_shared_by(shared_by), section(f"*People who know about* _{clip(t, 500)}_")]
    if not experts:
        blocks.append(section("Nobody found for that topic yet. Try other words, or `/guild ask` for documents."))
    for n, e in enumerate(experts, 1):
        blocks.append(section(_expert_text(n, e, slack_ids.get(e.person_id, "")), block_id=f"expert:{n}"))
    asking = bool(experts) and not shared_by
    tail = ([share_button("who", topic, asking)] if share else
            [actions("guild_ask", ask_them_button(topic))] if asking else [])
    blocks = fit(blocks + tail, keep_last=len(tail))
    names = ", ".join(e.name for e in experts[:5]) or "nobody yet"
    return Message(fallback(f"People who know about “{clip(one_line(topic), 200)}”: {names}"), blocks)


def projects_message(title: str, groups: Sequence[tuple[str, str, Sequence[ProjectLine]]], *, share: bool = True,
                     arg: str = "", shared_by: str | None = None) -> Message:
    """groups: (team, Slack channel, project lines)."""
    blocks: list[dict[str, Any]] = [*_shared_by(shared_by), section(f"*{escape(title)}*")]
    if not groups:
        blocks.append(section("No projects found. `/guild projects` lists every team's projects."))
    for team, channel, projects in groups:
        head = f"*{escape(team)}*" + (f"  {escape(channel)}" if channel else "")
        lines = []
        for p in projects:
            docs = f"{p.documents} document{'s' if p.documents != 1 else ''}" if p.documents else ""
            bits = [escape(x) for x in (p.kind, docs) if x]
            name = link(p.url, p.name) if p.url else f"*{escape(p.name)}*"
            lines.append(f"• {name}" + (f" — {', '.join(bits)}" if bits else "")
                         + (f"\n    {escape(clip(one_line(p.detail), 200))}" if p.detail else ""))
        blocks.append(section(head + "\n" + join_lines(lines, SECTION_TEXT - len(head) - 1)))
    tail = [share_button("projects", arg)] if share else []
    blocks = fit(blocks + tail, keep_last=len(tail))
    n = sum(len(p) for _, _, p in groups)
    return Message(fallback(f"{title}: {n} projects"), blocks)


def _work_line(r: Mapping[str, Any]) -> str:
    what = describe(r["role"], int(r.get("count") or 0), None, r.get("last_at")) if r.get("role") else ""
    return f"• {link(r.get('url') or '', r.get('title') or '')}" + (f" — {escape(what)}" if what else "")


def person_message(people: Sequence[Profile], query: str, slack_ids: Mapping[str, str] | None = None, *,
                   suggestions: Sequence[str] = (), share: bool = True, shared_by: str | None = None) -> Message:
    """people: profiles (index/profiles.Profile: name, team, tz, emails, recent, projects); several
    people can share a name, each gets a section. `slack_ids`: person id -> Slack id."""
    slack_ids = slack_ids or {}
    if not people:
        hint = f" Did you mean {', '.join(escape(s) for s in suggestions)}?" if suggestions else ""
        return Message(fallback(f"Nobody called {clip(one_line(query), 200)} in the index"),
                       [section(f"Nobody called _{escape(clip(one_line(query), 300))}_ in the index.{hint}")])
    blocks: list[dict[str, Any]] = [*_shared_by(shared_by)]
    if len(people) > 1:
        blocks.append(section(f"*{len(people)} people match* _{escape(clip(one_line(query), 300))}_"))
    for n, person in enumerate(people, 1):
        sid = slack_ids.get(person.person_id) or person.slack_id
        facts = [escape(x) for x in (person.team, person.tz) if x]
        head = (mention(person.name, sid) + (f" ({escape(person.name)})" if sid else "")
                + (" · " + " · ".join(facts) if facts else ""))
        if person.emails:
            head += "\n" + ", ".join(escape(e) for e in person.emails[:5])
        docs = [_work_line(r) for r in person.recent]
        body = ("\n*Wrote or worked on*\n" + join_lines(docs, SECTION_TEXT - len(head) - 30)) if docs else ""
        blocks.append(section(head + body, block_id=f"person:{n}"))
        if person.projects:
            blocks.append(context("Projects: " + ", ".join(escape(p["name"]) for p in person.projects[:20])))
    tail = [share_button("person", query)] if share else []
    blocks = fit(blocks + tail, keep_last=len(tail))
    return Message(fallback("; ".join(f"{p.name}" + (f" ({p.team})" if p.team else "") for p in people)), blocks)


def help_message(commands: Sequence[tuple[str, str]], unknown: str | None = None, missing: str | None = None) -> Message:
    """The command list ((usage, what) pairs); `unknown`: a subcommand that does not exist;
    `missing`: one given no argument."""
    lines = [f"• `{COMMAND} {escape(cmd)}` — {escape(what)}" for cmd, what in commands]
    intro = ""
    if unknown:
        intro = (f"I don't know the command `{escape(clip(unknown, 100))}`. To search for it, use "
                 f"`{COMMAND} ask {escape(clip(unknown, 100))}`.\n\n")
    elif missing:
        usage = next((c for c, _ in commands if c.split()[0] == missing), missing)
        intro = f"`{COMMAND} {escape(missing)}` needs something to look for: `{COMMAND} {escape(usage)}`.\n\n"
    blocks = [section(intro + "*guildbot* finds who in the company already built it, and where it is written down.\n"
                      + "\n".join(lines)),
              context("Answers are only visible to you until you press *Share in channel*. "
                      "Mention me in a channel to get an answer in the thread, or send me a direct message.")]
    return Message(fallback("guildbot help: " + ", ".join(f"{COMMAND} {c.split()[0]}" for c, _ in commands)), blocks)


def text_message(text: str) -> Message:
    return Message(fallback(text), [section(escape(text))])


def thanks_message(value: int, title: str, question: str) -> Message:
    verb = "helpful" if value > 0 else "not helpful"
    text = f"Thanks, noted: {link('', title)} was {verb} for _{escape(clip(one_line(question), 200))}_."
    return Message(fallback(f"Thanks, noted: {title} was {verb}"), [context(text + " Later answers take it into account.")])


# -- checks and rendering ----------------------------------------------------------------------------
def validate(blocks: Iterable[dict[str, Any]]) -> None:
    """Raise ValueError unless every block parses and validates with slack_sdk's block models
    and the message fits in Slack's limits."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block

    blocks = list(blocks)
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack allows {MAX_BLOCKS}")
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate block_id in {ids}")
    for b in blocks:
        model = Block.parse(b)
        if model is None or type(model) is Block:
            raise ValueError(f"unknown block {b!r}")
        try:
            if model.to_dict() != b:
                raise ValueError(f"block does not round-trip through slack_sdk: {b!r}")
        except SlackObjectFormationError as e:
            raise ValueError(f"{e}: {b!r}") from e
        for el in b.get("elements", []) if b["type"] == "actions" else []:
            if len(el.get("value", "")) > BUTTON_VALUE:
                raise ValueError(f"button value longer than {BUTTON_VALUE}")


LINK = re.compile(r"<([^<>|]+)\|([^<>]*)>")
BARE = re.compile(r"<([^<>|]+)>")


def mrkdwn_to_text(text: str) -> str:
    """Slack's markup as a terminal would show it."""
    text = BARE.sub(lambda m: "@" + m.group(1)[1:] if m.group(1).startswith("@") else m.group(1), text)
    text = LINK.sub(lambda m: f"{m.group(2)} <{m.group(1)}>", text)
    return unescape(text)


def to_text(blocks: Iterable[dict[str, Any]]) -> str:
    """Blocks as readable plain text (for `guildbot slack-console` and logs)."""
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            out.append(f"== {b['text']['text']} ==")
        elif kind == "section":
            if b.get("text"):
                out.append(mrkdwn_to_text(b["text"]["text"]))
            for f in b.get("fields", []):
                out.append(mrkdwn_to_text(f["text"]))
            acc = b.get("accessory")
            if acc and acc.get("type") == "button":
                out.append(f"[{acc['text']['text']}]")
        elif kind == "context":
            out.append("  " + "  ".join(mrkdwn_to_text(e.get("text", "")) for e in b.get("elements", [])))
        elif kind == "divider":
            out.append("-" * 40)
        elif kind == "actions":
            out.append("  " + " ".join(f"[{e['text']['text']}]" for e in b.get("elements", []) if e.get("text")))
        else:
            out.append(f"({kind} block)")
    return "\n".join(out)
