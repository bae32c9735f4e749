"""`/guild` subcommands: one table from subcommand to handler; every handler calls the typed Guild
facade, as the CLI does, and renders with slack_blocks.

Adding a subcommand is one entry in COMMANDS: `COMMANDS["sync"] = Command(handler, "sync ...",
"what it does")`. A handler gets an `Ask` (the argument, who asks, how the answer is shown) and
returns a message; index work runs inside `ask.index()`, which serialises access to the Guild
(one SQLite connection, one FAISS index, one model) and picks up a crawl from another process.
Slack Web API look-ups (mentions, users.info) happen outside it.
"""
from __future__ import annotations

import re
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from index.catalog.build import Project
from index.expertise.experts import topic_of
from index.expertise.profiles import AmbiguousPerson, Profile
from index.people.visibility import Viewer

from guildbot import blockkit as kit
from guildbot.guild import Guild
from guildbot.slack.users import SlackIds

DOCS = 5          # documents in an `ask` answer
ASK_PEOPLE = 3    # people in an `ask` answer
WHO_PEOPLE = 5    # people in a `who` answer
PEOPLE_SHOWN = 5  # people in a `person` answer when several match
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KIND_LABEL = {"git": "repository", "github": "repository", "gitlab": "repository", "files": "wiki", "mediawiki": "wiki",
              "confluence": "wiki", "web": "website"}


@dataclass
class Ask:
    """One request to answer."""

    guild: Guild
    arg: str
    viewer: Viewer | None
    ids: SlackIds
    lock: threading.Lock = field(default_factory=threading.Lock)
    share: bool = True         # offer "Share in channel"
    feedback: bool = True      # offer "Helpful" / "Not helpful"
    shared_by: str | None = None
    asker: str | None = None   # who asked, for the query log; None for an answer shown again (shared)

    def log(self) -> dict:
        """The query log's arguments for Guild.search / Guild.experts."""
        return {"surface": "slack" if self.asker else None, "asker": self.asker}

    @contextmanager
    def index(self) -> Iterator[Guild]:
        with self.lock:
            self.guild.refresh()
            yield self.guild


Handler = Callable[[Ask], kit.Message]


@dataclass(frozen=True)
class Command:
    handler: Handler
    usage: str            # "who <topic>", shown in the help
    help: str
    aliases: tuple[str, ...] = ()
    needs_arg: bool = True


# -- handlers ---------------------------------------------------------------------------------------
def answer_ask(a: Ask) -> kit.Message:
    with a.index() as g:
        hits = g.search(a.arg, limit=DOCS, viewer=a.viewer, **a.log())
        experts = g.experts(a.arg, limit=ASK_PEOPLE, viewer=a.viewer, **a.log())
    return kit.ask_message(a.arg, hits, experts, a.ids.resolve(experts), share=a.share, feedback=a.feedback,
                           shared_by=a.shared_by)


def answer_who(a: Ask) -> kit.Message:
    question = a.arg if a.arg.casefold().startswith("who") else f"who {a.arg}"
    with a.index() as g:
        experts = g.experts(question, limit=WHO_PEOPLE, viewer=a.viewer, **a.log())
    return kit.who_message(topic_of(question), experts, a.ids.resolve(experts), share=a.share, shared_by=a.shared_by)


def project_line(p: Project, risk: dict | None = None) -> kit.ProjectLine:
    url = next((link["url"] for link in p.links if link.get("url")), "")
    detail = p.summary
    if risk:  # the bus factor (Guild.at_risk) first: it is what a reader must not miss
        after = ", ".join(n["name"] for n in risk["next"]) or "nobody else"
        detail = (f"⚠ At risk: {risk['person']['name']} made {risk['share']:.0%} of the last year's commits and "
                  f"{risk['reason']}; next most knowledgeable: {after}. " + (detail or ""))
    return kit.ProjectLine(p.name, p.team, p.kind, url, p.documents, detail)


def projects_about(a: Ask, topic: str, limit: int = 8) -> list[kit.ProjectLine]:
    """Sources with documents about `topic`, best first, each with its best document (when no
    catalog project has the topic)."""
    with a.index() as g:
        hits = g.search(topic, limit=limit, viewer=a.viewer, surface=None)
    best, count = {}, defaultdict(int)
    for h in hits:
        best.setdefault(h.source, h)
        count[h.source] += 1
    kinds = {s.name: s.kind for s in a.guild.config.sources}
    return [kit.ProjectLine(src, h.team, KIND_LABEL.get(kinds.get(src, ""), kinds.get(src, "")), h.url, 0,
                            f"{count[src]} matching document{'s' if count[src] != 1 else ''}, best: {h.title}")
            for src, h in best.items()]


def answer_projects(a: Ask) -> kit.Message:
    arg = a.arg.strip()
    config = a.guild.config
    team = config.team(arg) if arg else None
    title = f"Projects of {team.name}" if team else (f"Projects about {arg}" if arg else "Projects by team")
    with a.index() as g:
        found = g.projects(team=team.name, viewer=a.viewer) if team else g.projects(topic=arg or None, viewer=a.viewer)
        risks = {r["project_id"]: r for r in g.at_risk(team=team.name if team else None, viewer=a.viewer)}
    lines = [project_line(p, risks.get(p.id)) for p in found]
    if not lines and arg and not team:
        lines = projects_about(a, arg)
    groups: dict[str, list[kit.ProjectLine]] = defaultdict(list)
    for line in lines:
        groups[line.team].append(line)
    order = [t.name for t in config.teams]
    by_topic = bool(arg and not team)
    teams = sorted(groups, key=lambda t: order.index(t) if (t in order and not by_topic) else len(order))
    channel = {t.name: t.slack_channel for t in config.teams}
    return kit.projects_message(title, [(t, channel.get(t, ""), groups[t]) for t in teams], share=a.share, arg=a.arg,
                                shared_by=a.shared_by)


def parse_person_query(text: str) -> tuple[str, str]:
    """('slack', 'U123') | ('email', 'a@b.c') | ('name', 'Ada Lovelace')."""
    text = text.strip()
    m = MENTION.match(text)
    if m:
        return "slack", m.group(1)
    text = text.lstrip("@").strip()
    if EMAIL.match(text):
        return "email", text.casefold()
    return "name", text


def find_people(a: Ask, query: str) -> list[Profile]:
    """Profiles the query names: one, or each of several people who share a name."""
    with a.index() as g:
        try:
            found = g.person(query, viewer=a.viewer)
            return [found] if found else []
        except AmbiguousPerson as e:
            return [p for p in (g.person(c["id"], viewer=a.viewer) for c in e.candidates[:PEOPLE_SHOWN]) if p]


def answer_person(a: Ask) -> kit.Message:
    kind, value = parse_person_query(a.arg)
    people = find_people(a, value)
    if not people and kind == "slack":  # someone the directory does not know by Slack id: ask Slack who it is
        profile = a.ids.profile(value) or {}
        for key in (profile.get("email"), profile.get("real_name"), profile.get("display_name")):
            if key and not people:
                people = find_people(a, key)
    suggestions: list[str] = []
    if not people:
        with a.index() as g:
            suggestions = g.suggest_people(value, viewer=a.viewer)
    slack_ids = {p.person_id: p.slack_id or (value if kind == "slack" else "")
                 or next((s for s in (a.ids.by_email(e) for e in p.emails) if s), "") for p in people}
    return kit.person_message(people, a.arg, slack_ids, suggestions=suggestions, share=a.share, shared_by=a.shared_by)


def answer_help(a: Ask) -> kit.Message:
    return kit.help_message(help_lines())


COMMANDS: dict[str, Command] = {
    "ask": Command(answer_ask, "ask <question>",
                   "the top documents with snippets and links, and the people to ask (also plain `/guild <question>`)",
                   ("search", "q")),
    "who": Command(answer_who, "who <topic>", "people who know a topic, with their team and evidence", ("experts",)),
    "projects": Command(answer_projects, "projects [team|topic]", "projects by team, or the projects about a topic",
                        ("project",), needs_arg=False),
    "person": Command(answer_person, "person <name|@mention>", "what someone has written and worked on", ("people",)),
    "help": Command(answer_help, "help", "this help", ("?",), needs_arg=False),
}


def help_lines() -> list[tuple[str, str]]:
    return [(c.usage, c.help) for c in COMMANDS.values()]


def find_command(word: str) -> str | None:
    """The subcommand a word names, by name or alias."""
    key = word.casefold()
    return next((name for name, c in COMMANDS.items() if key == name or key in c.aliases), None)


def parse_command(text: str, free_text: bool = False) -> tuple[str, str]:
    """(subcommand, argument) of `/guild` text. A single word that is not a subcommand is an unknown
    subcommand ("unknown", word) unless `free_text` (mentions, DMs), where it is a question."""
    text = kit.one_line(text)
    if not text:
        return "help", ""
    first, _, rest = text.partition(" ")
    name = find_command(first)
    if name:
        return name, rest.strip()
    if not free_text and " " not in text and not text.endswith("?"):
        return "unknown", text
    return "ask", text


def answer(sub: str, ask: Ask) -> kit.Message:
    """The answer to subcommand `sub` (as parse_command or a Share button names it)."""
    command = COMMANDS.get(sub)
    if command is None:
        return kit.help_message(help_lines(), unknown=ask.arg or sub)
    if command.needs_arg and not ask.arg:
        return kit.help_message(help_lines(), missing=sub)
    return command.handler(ask)
