"""Each person's own guildbot in Slack (issue 26): `/guild me` and the App Home.

- `/guild me` shows how guildbot suggests you (your topics, whether you are suggested, a pause) with
  buttons, and takes words too: `/guild me stop`, `start`, `pause 2w`, `resume`, `hide <topic>`,
  `show <topic>`.
- The App Home (`app_home_opened` -> `views.publish`) shows questions from others you may answer, the
  overlaps that involve your team, your upcoming syncs, and your profile with the same buttons.

A button pressed in the App Home publishes the home again; one pressed under a `/guild me` answer
replaces that answer. Consent is kept by the Guild (Guild.set_consent), which also takes an opted-out
person off the syncs' list.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Any, Callable

from index.expertise.profiles import Profile

from guildbot import blockkit as kit
from guildbot.consent import checked_pause
from guildbot.guild import Guild
from guildbot.slack.commands import COMMANDS, Ask, Command
from guildbot.slack.users import SlackIds

log = logging.getLogger("guildbot.slack")

ME_STOP, ME_START = "guild_me_stop", "guild_me_start"
ME_PAUSE, ME_RESUME = "guild_me_pause", "guild_me_resume"
ME_HIDE, ME_SHOW = "guild_me_hide", "guild_me_show"
ME_ACTIONS = (ME_STOP, ME_START, ME_PAUSE, ME_RESUME, ME_HIDE, ME_SHOW)
TOPICS_SHOWN = 8
PAUSE = re.compile(r"^(\d{1,3})\s*(d|day|days|w|week|weeks)?$")
NOT_KNOWN = ("guildbot does not know you yet: nothing you wrote is in its index, and the people directory "
             "does not have your Slack id or email. Ask whoever runs guildbot to add you to the directory.")


def pause_days(text: str) -> int:
    """Days of a pause written as `14`, `14d`, `2w`, `2 weeks`; ValueError with the fix otherwise."""
    m = PAUSE.match(text.strip().casefold())
    if not m:
        raise ValueError(f"cannot read the pause {text!r}: write a number of days or weeks, e.g. `pause 2w`")
    return checked_pause(int(m.group(1)) * (7 if (m.group(2) or "d").startswith("w") else 1))


def profile_blocks(me: Profile, consent: dict[str, Any], suggested: int, budget: int) -> list[dict[str, Any]]:
    """Your profile as guildbot sees it, and the buttons that change how you are suggested."""
    if consent["opted_out"]:
        state = "*You are not suggested* to anyone who asks, nor planned into syncs or named in digests."
    elif consent["paused_until"]:
        state = f"*You are paused* until {consent['paused_until'][:16].replace('T', ' ')} UTC: nobody is pointed to you."
    else:
        state = "*You are suggested* to people who ask about what you work on."
    load = f"Suggested first {suggested} time{'s' if suggested != 1 else ''} in the last 7 days"
    load += f" (after {budget}, people of nearly equal standing go first)." if budget else "."
    blocks: list[dict[str, Any]] = [
        kit.section(f"*{kit.escape(me.name)}* · {kit.escape(me.team or 'no team')}\n{state}\n{kit.escape(load)}",
                    block_id="me:state"),
        kit.actions("me:consent",
                    kit.button("Suggest me again", ME_START, {}, "primary") if consent["opted_out"]
                    else kit.button("Stop suggesting me", ME_STOP, {}, "danger"),
                    kit.button("Resume now", ME_RESUME, {}) if consent["paused_until"]
                    else kit.button("Pause for a week", ME_PAUSE, {"d": 7}),
                    *([] if consent["paused_until"] else [kit.button("Pause for 4 weeks", ME_PAUSE, {"d": 28})])),
    ]
    hidden = {t.casefold() for t in consent["hidden_topics"]}
    topics = [t for t in me.topics if t.casefold() not in hidden][:TOPICS_SHOWN]
    if topics:
        blocks.append(kit.section("*Topics guildbot suggests you for* (hide one and you are not suggested for it)",
                                  block_id="me:topics"))
        for n, t in enumerate(topics):
            blocks.append(kit.section(f"• {kit.escape(t)}", block_id=f"me:topic:{n}",
                                      accessory=kit.button("Hide", ME_HIDE, {"t": t})))
    for n, t in enumerate(consent["hidden_topics"][:TOPICS_SHOWN]):
        blocks.append(kit.section(f"• ~{kit.escape(t)}~ (hidden)", block_id=f"me:hidden:{n}",
                                  accessory=kit.button("Show again", ME_SHOW, {"t": t})))
    if me.projects:
        lines = [f"• {kit.escape(p['name'])}" + (f" · {kit.escape(p['team'])}" if p.get("team") else "")
                 for p in me.projects[:8]]
        blocks.append(kit.section("*Your projects*\n" + kit.join_lines(lines), block_id="me:projects"))
    blocks.append(kit.context(f"`{kit.COMMAND} me hide <topic>` hides a topic not listed here; "
                              f"`{kit.COMMAND} me pause 2w` pauses for two weeks."))
    return blocks


def _me_state(a_guild: Guild, me: Profile) -> tuple[dict[str, Any], int]:
    return a_guild.consent(me.person_id), a_guild.suggestion_counts([me.person_id]).get(me.person_id, 0)


def answer_me(a: Ask) -> kit.Message:
    """`/guild me [stop|start|pause N|resume|hide T|show T]`."""
    user = a.asker or a.shared_by or ""
    me = None
    with a.index() as g:
        me = g.whoami(slack_id=user) if user else None
    if me is None and user:
        email = (a.ids.profile(user) or {}).get("email", "")
        with a.index() as g:
            me = g.whoami(email=email) if email else None
    if me is None:
        return kit.text_message(NOT_KNOWN)
    verb, _, rest = kit.one_line(a.arg).partition(" ")
    verb, rest = verb.casefold(), rest.strip()
    note = ""
    try:
        with a.index() as g:
            if verb in ("stop", "optout", "opt-out", "off"):
                g.set_consent(me.person_id, opted_out=True)
                note = "Done: guildbot no longer suggests you."
            elif verb in ("start", "optin", "opt-in", "on"):
                g.set_consent(me.person_id, opted_out=False)
                note = "Done: guildbot suggests you again."
            elif verb == "pause":
                days = pause_days(rest or "7")
                g.set_consent(me.person_id, pause_days=days)
                note = f"Paused for {days} days."
            elif verb == "resume":
                g.set_consent(me.person_id, resume=True)
                note = "Your pause is over."
            elif verb == "hide" and rest:
                g.set_consent(me.person_id, hide=rest)
                note = f"You are no longer suggested for {rest}."
            elif verb in ("show", "unhide") and rest:
                g.set_consent(me.person_id, show=rest)
                note = f"You can be suggested for {rest} again."
            elif verb:
                note = (f"I don't know `me {verb}`. Use `{kit.COMMAND} me stop`, `start`, `pause 2w`, `resume`, "
                        "`hide <topic>` or `show <topic>`.")
            consent, suggested = _me_state(g, me)
            me = g.whoami(slack_id=me.slack_id) if me.slack_id else me
            budget = g.config.weekly_budget
    except ValueError as e:
        return kit.text_message(str(e))
    blocks = ([kit.context(kit.escape(note))] if note else []) + profile_blocks(me, consent, suggested, budget)
    return kit.Message(kit.fallback(note or f"How guildbot suggests {me.name}"), kit.fit(blocks))


COMMANDS["me"] = Command(answer_me, "me [stop|start|pause 2w|resume|hide <topic>|show <topic>]",
                         "how guildbot suggests you: hide topics, stop being suggested, or pause", ("myself",),
                         needs_arg=False)


# -- the App Home ------------------------------------------------------------------------------------------
def home_blocks(guild: Guild, me: Profile | None, viewer: Any) -> list[dict[str, Any]]:
    """Questions you may answer, your team's overlaps, your syncs, then your profile (guild access held)."""
    blocks: list[dict[str, Any]] = [kit.header("Your guildbot")]
    if me is None:
        return blocks + [kit.section(kit.escape(NOT_KNOWN), block_id="home:unknown")]
    questions = guild.questions_for(me.person_id, viewer=viewer)
    lines = [f"• _{kit.escape(kit.clip(q['question'], 200))}_" + (f" — asked {q['asked']}×" if q["asked"] > 1 else "")
             + (f" by {kit.escape(', '.join(q['teams']))}" if q["teams"] else "") for q in questions]
    blocks.append(kit.section("*Questions you may answer*\n" + (kit.join_lines(lines) if lines else
                              "None this month: nobody asked about your work without a good answer."), block_id="home:questions"))
    team = (me.team or "").casefold()
    overlaps = [o for o in guild.overlaps(limit=50, viewer=viewer) if team and team in (o.a.team.casefold(), o.b.team.casefold())][:5]
    lines = [f"• *{kit.escape(o.a.name)}* ({kit.escape(o.a.team)}) ↔ *{kit.escape(o.b.name)}* ({kit.escape(o.b.team)})"
             + (f" — {kit.escape(', '.join(o.shared_topics[:3]))}" if o.shared_topics else "") for o in overlaps]
    blocks.append(kit.section(f"*Overlaps with {kit.escape(me.team or 'your team')}*\n"
                              + (kit.join_lines(lines) if lines else "No other team works on the same things as yours yet."),
                              block_id="home:overlaps"))
    syncs = guild.syncs_of(me)[:5]
    lines = [f"• {kit.escape(s.get('topic') or '')}" + (f" — {str(s['start'])[:16].replace('T', ' ')} UTC" if s.get("start") else "")
             + (f" · {kit.escape(', '.join(s.get('teams') or []))}" if s.get("teams") else "") for s in syncs]
    blocks.append(kit.section("*Your upcoming syncs*\n" + (kit.join_lines(lines) if lines else "None planned."),
                              block_id="home:syncs"))
    blocks.append(kit.divider())
    consent, suggested = _me_state(guild, me)
    return blocks + profile_blocks(me, consent, suggested, guild.config.weekly_budget)


def publish_home(client: Any, guild: Guild, ids: SlackIds, lock: threading.Lock, user: str) -> None:
    me = find_me_locked(guild, ids, lock, user)
    viewer = ids.viewer(guild, user)
    with lock:
        guild.refresh()
        blocks = home_blocks(guild, me, viewer)
    client.views_publish(user_id=user, view={"type": "home", "blocks": kit.fit(blocks)})


def find_me_locked(guild: Guild, ids: SlackIds, lock: threading.Lock, user: str) -> Profile | None:
    with lock:
        found = guild.whoami(slack_id=user)
    if found is None:
        email = (ids.profile(user) or {}).get("email", "")  # a Slack call: outside the lock
        if email:
            with lock:
                found = guild.whoami(email=email)
    return found


def register(app: Any, guild: Guild, lock: threading.Lock, ids: SlackIds, post_response_url: Callable[..., Any],
             guard: Callable) -> None:
    """The App Home and the consent buttons (`/guild me` is a subcommand, added above)."""

    def ack_now(ack):
        ack()

    @guard("your guildbot home")
    def home_opened(body, event, client):
        if event.get("tab", "home") != "home":
            return
        publish_home(client, guild, ids, lock, event["user"])

    @guard("changing how you are suggested")
    def change(body, action, client):
        user = body["user"]["id"]
        me = find_me_locked(guild, ids, lock, user)
        if me is None:
            return
        v = kit.decode_value(action.get("value"))
        with lock:
            what = action["action_id"]
            if what in (ME_STOP, ME_START):
                guild.set_consent(me.person_id, opted_out=what == ME_STOP)
            elif what == ME_PAUSE:
                guild.set_consent(me.person_id, pause_days=int(v.get("d") or 7))
            elif what == ME_RESUME:
                guild.set_consent(me.person_id, resume=True)
            elif what in (ME_HIDE, ME_SHOW) and v.get("t"):
                guild.set_consent(me.person_id, **{"hide" if what == ME_HIDE else "show": str(v["t"])})
        if (body.get("view") or {}).get("type") == "home" or not body.get("response_url"):
            publish_home(client, guild, ids, lock, user)
            return
        ask = Ask(guild, "", ids.viewer(guild, user), ids, lock, share=False, feedback=False, asker=user)
        post_response_url(body["response_url"], {"response_type": "ephemeral", "replace_original": True,
                                                  **answer_me(ask).payload()})

    app.event("app_home_opened")(ack=ack_now, lazy=[home_opened])
    for action_id in ME_ACTIONS:
        app.action(action_id)(ack=ack_now, lazy=[change])
