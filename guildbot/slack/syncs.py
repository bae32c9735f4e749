"""Cross-team syncs in Slack: the proposal, RSVPs, the invitation, the reminder and the check-in.

- A proposal goes to `[syncs] channel` (one message per sync; everything after it in its thread)
  or, without a channel, to a group DM of the members (conversations.open). It says the topic,
  why these people (their team and evidence links) and the time, which Slack shows in each
  reader's own zone (`<!date^...>`), with buttons "I'm in", "Can't make it", "Another time".
- When the quorum accepts, the invitation: an .ics (guildbot/syncs/ics.py) uploaded with
  files.getUploadURLExternal + files.completeUploadExternal (slack_sdk's files_upload_v2), and
  the event written to CalDAV where `[syncs] caldav_url` is set.
- `due(...)` sends the reminder the day before and the check-in after the meeting ("Did you meet?
  What came of it?"); "We met" opens a modal for what came of it; answers are stored.
- `/guild sync <topic>`, `/guild sync list`, `/guild sync optout` (and `optin`).
"""
from __future__ import annotations

import logging
import re
import sys
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from guildbot import blockkit as kit
from guildbot.syncs import service as planner
from guildbot.syncs.service import SyncService, syncs_for
from guildbot.slack.commands import COMMANDS, Command

log = logging.getLogger("guildbot.syncs.service")

YES, NO, LATER, SLOT = "sync_yes", "sync_no", "sync_later", "sync_slot"
SEND, MET, NOT_MET, OUTCOME_VIEW = "sync_send", "sync_met", "sync_not_met", "sync_outcome"
ANSWERS = {YES: "yes", NO: "no"}
REMIND_BEFORE = timedelta(hours=24)
DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")  # Slack's date formatting -> its fallback text


def when(iso: str, fallback_suffix: str = " UTC") -> str:
    """A time every reader sees in their own zone: Slack's date formatting, with a UTC fallback."""
    dt = planner.parse_time(iso)
    return (f"<!date^{int(dt.timestamp())}^{{date_short_pretty}} at {{time}}|"
            f"{dt.strftime('%a %d %b %Y %H:%M')}{fallback_suffix}>")


# -- messages ---------------------------------------------------------------------------------------
def note(mrkdwn: str) -> kit.Message:
    """A one-section message whose text is already mrkdwn (mentions, dates); callers escape what users wrote."""
    plain = kit.mrkdwn_to_text(DATE.sub(lambda m: m.group(1), mrkdwn))
    return kit.Message(kit.clip(plain, kit.FALLBACK_TEXT), [kit.section(mrkdwn)])


def proposal_message(sync: dict[str, Any], answers: dict[str, str] | None = None, *, buttons: bool = True,
                     send_button: bool = False) -> kit.Message:
    answers = answers or {}
    outside = set(sync.get("outside_hours") or [])
    lines = []
    for m in sync["members"]:
        mark = {"yes": " ✅", "no": " ✖️"}.get(answers.get(m["slack_id"], ""), "")
        note = " _(outside working hours)_" if m["email"] in outside else ""
        lines.append(f"• {kit.mention(m['name'], m['slack_id'])} · {kit.escape(m['team'])}{note}{mark}")
    for c in sync.get("contacts") or []:  # a side with nobody in the directory: whom to bring in
        lines.append(f"• {kit.escape(c['team'])}: nobody in the directory works on it; please ask {kit.escape(c['contact'])}")
    evidence = [kit.link(e["url"], e["title"]) for e in sync.get("evidence") or []]
    blocks = [kit.header(f"Cross-team sync: {sync['topic']}"),
              kit.section(f"*Why these people*: they work on this in {' and '.join(kit.escape(t) for t in sync['teams'])}.\n"
                          + kit.join_lines(lines), block_id=f"sync_people:{sync['id']}")]
    if evidence:
        blocks.append(kit.section("*What they wrote*\n" + kit.join_lines([f"• {e}" for e in evidence]),
                                  block_id=f"sync_evidence:{sync['id']}"))
    if sync.get("start"):
        minutes = int((planner.parse_time(sync["end"]) - planner.parse_time(sync["start"])).total_seconds() // 60)
        blocks.append(kit.section(f"*When*: {when(sync['start'])} ({minutes} minutes, shown in your time zone)",
                                  block_id=f"sync_when:{sync['id']}"))
    if buttons:
        blocks.append(kit.actions(f"sync_rsvp:{sync['id']}", kit.button("I'm in", YES, sync["id"], "primary"),
                                  kit.button("Can't make it", NO, sync["id"]),
                                  kit.button("Another time", LATER, sync["id"])))
    if send_button:
        blocks.append(kit.actions(f"sync_send:{sync['id']}", kit.button("Send it to them", SEND, sync["id"], "primary")))
    yes = sum(1 for a in answers.values() if a == "yes")
    if answers:
        blocks.append(kit.context(f"{yes} in · {sum(1 for a in answers.values() if a == 'no')} can't make it"))
    return kit.Message(f"Cross-team sync proposed: {sync['topic']}", kit.fit(blocks, keep_last=1))


def slots_message(sync: dict[str, Any]) -> kit.Message:
    """The other slots (numbered as stored, so a choice names the slot itself), each a button."""
    others = [(i, s) for i, s in enumerate(sync["slots"]) if s["start"] != sync.get("start")]
    if not others:
        return note("No other time suits this group this cycle.")
    lines = [f"{n}. {when(s['start'])}" + (f" — outside working hours for {len(s['outside_hours'])}" if s["outside_hours"] else "")
             for n, (_, s) in enumerate(others, 1)]
    buttons = [kit.button(f"Option {n}", SLOT, kit.encode_value({"s": sync["id"], "i": i}))
               for n, (i, _) in enumerate(others, 1)]
    return kit.Message(f"Other times for {sync['topic']}", [
        kit.section(f"*Other times for {kit.escape(sync['topic'])}*\n" + "\n".join(lines)),
        kit.actions(f"sync_slots:{sync['id']}", *buttons[:5])])


def list_message(syncs: list[dict[str, Any]]) -> kit.Message:
    if not syncs:
        return note("No syncs are planned. `/guild sync &lt;topic&gt;` proposes one now.")
    lines = [f"• *{kit.escape(s['topic'])}* · {' + '.join(s['teams'])} · "
             f"{when(s['start']) if s.get('start') else 'no time yet'} · {s['status']}" for s in syncs]
    return kit.Message("Planned syncs", [kit.section("*Planned syncs*\n" + kit.join_lines(lines))])


def checkin_message(sync: dict[str, Any]) -> kit.Message:
    people = " ".join(kit.mention(m["name"], m["slack_id"]) for m in sync["members"])
    return kit.Message(f"Did you meet about {sync['topic']}?", [
        kit.section(f"{people}\n*Did you meet? What came of it?* ({kit.escape(sync['topic'])})",
                    block_id=f"sync_checkin:{sync['id']}"),
        kit.actions(f"sync_checkin_buttons:{sync['id']}", kit.button("We met", MET, sync["id"], "primary"),
                    kit.button("We didn't meet", NOT_MET, sync["id"]))])


def outcome_view(sync: dict[str, Any]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": OUTCOME_VIEW, "private_metadata": sync["id"],
            "title": {"type": "plain_text", "text": "What came of it?"},
            "submit": {"type": "plain_text", "text": "Save"},
            "blocks": [{"type": "input", "block_id": "outcome", "label": {"type": "plain_text",
                        "text": kit.clip(f"Your sync on {sync['topic']}", 150)},
                        "element": {"type": "plain_text_input", "action_id": "text", "multiline": True}}]}


# -- the flow --------------------------------------------------------------------------------------
class SyncFlow:
    """Posting and answering syncs; the service's store is shared with the bot, so every use of it
    is serialised by `lock` (shared with the bot)."""

    def __init__(self, syncs: SyncService, client: WebClient, lock: threading.Lock | None = None):
        self.syncs, self.client = syncs, client
        self.lock = lock or threading.Lock()
        self.cfg = syncs.settings()

    def post(self, sync_id: str) -> dict[str, Any] | None:
        """Post a proposal once: to the guild channel, else to a group DM of its members."""
        with self.lock:
            sync = self.syncs.get(sync_id)
        if sync is None or sync.get("posted_at") or not sync.get("members") or not sync.get("start"):
            return sync  # posted already, or nothing to propose (no time suits any member)
        channel = self.cfg.channel
        if not channel:
            users = ",".join(m["slack_id"] for m in sync["members"])
            channel = self.client.conversations_open(users=users)["channel"]["id"]
        resp = self.client.chat_postMessage(channel=channel, unfurl_links=False, **proposal_message(sync).payload())
        with self.lock:
            self.syncs.posted(sync_id, resp["channel"], resp["ts"])
            return self.syncs.get(sync_id)

    def _thread(self, sync: dict[str, Any], message: kit.Message) -> None:
        self.client.chat_postMessage(channel=sync["channel"], thread_ts=sync["ts"], unfurl_links=False, **message.payload())

    def rsvp(self, sync_id: str, user: str, answer: str) -> str:
        """Record a member's answer; send the invitation when the quorum is reached. Returns what happened."""
        with self.lock:
            sync = self.syncs.get(sync_id)
            if sync is None:
                return "unknown"
            if user not in self.syncs.members(sync_id):
                return "not a member"
            answers = self.syncs.record_rsvp(sync_id, user, answer)
        if sync.get("channel") and sync.get("ts"):
            self.client.chat_update(channel=sync["channel"], ts=sync["ts"], **proposal_message(sync, answers).payload())
        yes = sum(1 for a in answers.values() if a == "yes")
        if yes >= self.cfg.quorum_for(len(sync["members"])):
            with self.lock:
                claimed = self.syncs.claim_invite(sync_id)
            if claimed:  # exactly one of several concurrent accepts sends the invitation
                try:
                    self.invite(sync_id)
                except Exception:
                    with self.lock:
                        self.syncs.claim_invite(sync_id, claim=False)
                    raise
                return "invited"
        return "recorded"

    def invite(self, sync_id: str) -> None:
        """The .ics in the sync's thread (and on CalDAV where configured); the sync is then scheduled."""
        with self.lock:
            sync = self.syncs.get(sync_id)
            data = self.syncs.ics(sync_id)
        accepted = [uid for uid, a in self.syncs.rsvps(sync_id).items() if a == "yes"]
        href = None
        if self.cfg.caldav_url:
            from guildbot.syncs.caldav import CalendarError, calendar_from_config
            try:
                href = calendar_from_config(self.cfg).put_event(data)
            except CalendarError as e:
                log.warning("%s; the invitation goes out in Slack only", e)
        comment = (f"It's on: *{kit.escape(sync['topic'])}* {when(sync['start'])}. "
                   + " ".join(f"<@{u}>" for u in accepted) + " — the invitation is attached.")
        self.client.files_upload_v2(channel=sync["channel"], thread_ts=sync["ts"], content=data,
                                    filename=f"sync-{sync_id}.ics", title=f"Sync: {sync['topic']}", initial_comment=comment)
        with self.lock:
            self.syncs.scheduled(sync_id, href)

    def another_time(self, sync_id: str) -> kit.Message:
        with self.lock:
            sync = self.syncs.get(sync_id)
        if sync is None:
            return note("That sync is gone.")
        return slots_message(sync)

    def choose_slot(self, sync_id: str, index: int, user: str) -> None:
        with self.lock:
            sync = self.syncs.move(sync_id, index)
        if sync is None or not sync.get("ts"):
            return
        self.client.chat_update(channel=sync["channel"], ts=sync["ts"], **proposal_message(sync).payload())
        self._thread(sync, note(f"<@{user}> proposed another time: {when(sync['start'])}. "
                                            "Everyone, please answer again."))

    def due(self, now: datetime | None = None) -> dict[str, int]:
        """Reminders (the day before) and check-ins (after the meeting) that are due; each once."""
        now = now or datetime.now(timezone.utc)
        sent = {"reminders": 0, "checkins": 0}
        with self.lock:
            scheduled = self.syncs.stored(status=["scheduled"])
        for s in scheduled:
            start, end = planner.parse_time(s["start"]), planner.parse_time(s["end"])
            if not s.get("reminded_at") and now < start <= now + REMIND_BEFORE:
                people = " ".join(f"<@{m['slack_id']}>" for m in s["members"])
                self._thread(s, note(f"Reminder: *{kit.escape(s['topic'])}* is {when(s['start'])}. {people}"))
                with self.lock:
                    self.syncs.reminded(s["id"])
                sent["reminders"] += 1
            if not s.get("checkin_at") and end <= now:
                self._thread(s, checkin_message(s))
                with self.lock:
                    self.syncs.checkin_sent(s["id"])
                sent["checkins"] += 1
        return sent

    def checkin(self, sync_id: str, user: str, met: bool, outcome: str = "") -> None:
        with self.lock:
            self.syncs.checkin(sync_id, user, met, outcome)

    def get(self, sync_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.syncs.get(sync_id)


def client_from_env() -> WebClient | None:
    """A Web API client from SLACK_BOT_TOKEN (and SLACK_API_URL); None when no token is set."""
    from guildbot.settings import DEFAULT_API_URL, SlackSettings, environment, make_client
    env = environment()
    token = env.slack_bot_token.get_secret_value()
    if not token:
        return None
    api = env.slack_api_url or DEFAULT_API_URL
    return make_client(SlackSettings(token, api_url=api if api.endswith("/") else api + "/"))


def run_cycle(syncs: SyncService, client: WebClient | None = None, now: datetime | None = None,
              lock: threading.Lock | None = None) -> dict[str, int]:
    """One scheduled run (for `guildbot serve`'s scheduler): plan the next cycle (once), post what is
    unposted, send the reminders and check-ins that are due. Without a client (none given and no
    SLACK_BOT_TOKEN) it only plans."""
    client = client or client_from_env()
    if client is None:
        with lock or threading.Lock():
            proposals = syncs.propose(now=now)
        log.info("syncs: %d planned; SLACK_BOT_TOKEN is not set, so nothing was posted", len(proposals))
        return {"proposed": len(proposals), "posted": 0, "reminders": 0, "checkins": 0}
    flow = SyncFlow(syncs, client, lock)
    with flow.lock:
        proposals = syncs.propose(now=now)
    posted = 0
    for p in proposals:
        before = syncs.get(p["id"])
        if before and not before.get("posted_at") and before.get("start"):
            flow.post(p["id"])
            posted += 1
    return {"proposed": len(proposals), "posted": posted, **flow.due(now)}


def post_cycle_from_env(syncs: SyncService) -> int:
    """`guildbot syncs post`: the bot token from SLACK_BOT_TOKEN (SLACK_API_URL optional)."""
    from guildbot.settings import ENV_HELP
    client = client_from_env()
    if client is None:
        print(f"guildbot: SLACK_BOT_TOKEN is not set; it is {ENV_HELP['SLACK_BOT_TOKEN']}", file=sys.stderr)
        return 2
    try:
        result = run_cycle(syncs, client)
    except SlackApiError as e:
        print(f"guildbot: Slack refused the post ({e.response.get('error')}); check the token's scopes "
              "(chat:write, im:write, mpim:write, files:write) and that the bot is in the channel", file=sys.stderr)
        return 1
    print(f"{result['proposed']} syncs this cycle, {result['posted']} posted now, "
          f"{result['reminders']} reminders and {result['checkins']} check-ins sent")
    return 0


# -- the Slack app ------------------------------------------------------------------------------------
def answer_sync(a: Any) -> kit.Message:
    """`/guild sync <topic>` proposes a group and times now; `sync list` shows what is planned;
    `sync optout` / `sync optin` (the asker, by their Slack id or directory email)."""
    arg = a.arg.strip()
    if arg.casefold() in ("", "list"):
        with a.index() as g:
            return list_message(syncs_for(g).upcoming())
    if arg.casefold() in ("optout", "opt-out", "optin", "opt-in"):
        out = "out" in arg.casefold()
        who = getattr(a.viewer, "who", "") if a.viewer else ""
        if not who:
            return note("Opting out works in `/guild sync optout`, where I know who asks.")
        with a.index() as g:
            syncs_for(g).optout([who], out=out)
        return note("You will not be proposed for syncs any more. `/guild sync optin` undoes it."
                    if out else "You can be proposed for syncs again.")
    with a.index() as g:
        sync = syncs_for(g).propose_topic(arg)
    if not sync:
        return note(f"No cross-team group found for “{kit.escape(arg)}”: it needs people from two teams with Slack ids "
                    "in the directory. Try broader words.")
    return proposal_message(sync, buttons=False, send_button=True)


COMMANDS["sync"] = Command(answer_sync, "sync <topic|list|optout>",
                           "propose a cross-team sync on a topic now, list planned syncs, or opt out", ("syncs",),
                           needs_arg=False)


def register(app: Any, guild: Any, lock: threading.Lock, deliver: Callable[..., Any], guard: Callable) -> SyncFlow:
    """Add the sync buttons and the check-in modal to the bot (`/guild sync` is a subcommand in
    slack_commands.COMMANDS, added above)."""
    flow = SyncFlow(syncs_for(guild), app.client, lock)  # the Slack app's one sync service

    def ack_now(ack):
        ack()

    def private(body, client, message: kit.Message) -> None:
        container = body.get("container") or {}
        deliver(client, message, user=body["user"]["id"], channel=(body.get("channel") or {}).get("id"),
                response_url=body.get("response_url") if container.get("is_ephemeral") else None,
                thread_ts=container.get("thread_ts"))

    def answer(body, action, client, value: str) -> None:
        result = flow.rsvp(action["value"], body["user"]["id"], value)
        if result == "not a member":
            private(body, client, note("This sync is for the people it names; `/guild sync &lt;topic&gt;` proposes your own."))

    @guard("your answer")
    def said_yes(body, action, client):
        answer(body, action, client, "yes")

    @guard("your answer")
    def said_no(body, action, client):
        answer(body, action, client, "no")

    @guard("other times")
    def later(body, action, client):
        private(body, client, flow.another_time(action["value"]))

    @guard("the new time")
    def slot(body, action, client):
        v = kit.decode_value(action.get("value"))
        flow.choose_slot(v["s"], int(v["i"]), body["user"]["id"])

    @guard("sending the sync")
    def send(body, action, client):
        flow.post(action["value"])
        private(body, client, note("Sent: the proposal is with them now."))

    @guard("your check-in")
    def met(body, action, client):
        flow.checkin(action["value"], body["user"]["id"], True)
        sync = flow.get(action["value"])
        client.views_open(trigger_id=body["trigger_id"], view=outcome_view(sync))

    @guard("your check-in")
    def not_met(body, action, client):
        flow.checkin(action["value"], body["user"]["id"], False)
        private(body, client, note("Noted. Thanks for saying."))

    for action_id, handler in ((YES, said_yes), (NO, said_no), (LATER, later), (SLOT, slot), (SEND, send),
                               (MET, met), (NOT_MET, not_met)):
        app.action(action_id)(ack=ack_now, lazy=[handler])

    def save_outcome(ack, body, view):
        ack()
        text = ((view.get("state") or {}).get("values") or {}).get("outcome", {}).get("text", {}).get("value") or ""
        flow.checkin(view.get("private_metadata", ""), body["user"]["id"], True, text.strip())

    app.view(OUTCOME_VIEW)(save_outcome)
    return flow
