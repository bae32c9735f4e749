"""Cross-team syncs in Slack, end to end on the demo org: the real app on uvicorn, signed requests
as Slack sends them, the fake Web API recording what people would see. Proposal in a group DM,
another time, three RSVPs, the .ics uploaded with Slack's external upload flow, the reminder and
the check-in."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from slack_sdk import WebClient

from guildbot.slack import syncs as ss
from guildbot.syncs.service import syncs_for
from support.slack import (ASKER, TEAM, APP_ID, bot, fake_slack, interactive_form, signed_headers,  # noqa: F401
                           slack)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def clean(guild) -> None:
    for t in ("syncs", "sync_members", "sync_rsvps", "sync_checkins", "sync_optouts"):
        guild.store.conn.execute(f"DELETE FROM {t}")


@pytest.fixture
def syncs_guild(demo_guild, slack):
    clean(demo_guild)
    cfg = demo_guild.config.syncs
    before = (cfg.quorum, cfg.channel)
    cfg.quorum = 2
    yield demo_guild
    cfg.quorum, cfg.channel = before
    slack.fake.quiet(0.3)
    clean(demo_guild)


def client_for(fake) -> WebClient:
    return WebClient(token=fake.token, base_url=fake.api_url)


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def posted(fake, channel: str, thread_ts: str | None = None) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage", ok=True)
            if c.args["channel"] == channel and c.args.get("thread_ts") == thread_ts]


def wait_until(get, ok, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if ok(value) or time.monotonic() > deadline:
            assert ok(value), value
            return value
        time.sleep(0.05)


def view_submission(user: str, view: dict, text: str) -> dict:
    return {"type": "view_submission", "team": {"id": TEAM, "domain": "acme"}, "user": {"id": user, "team_id": TEAM},
            "api_app_id": APP_ID, "token": "legacy-verification-token", "trigger_id": "9.42.abc",
            "view": {**view, "id": "V1", "team_id": TEAM, "state": {"values": {"outcome": {"text": {
                "type": "plain_text_input", "value": text}}}}, "hash": "1.abc"},
            "response_urls": [], "is_enterprise_install": False}


def test_proposal_rsvps_invite_reminder_and_checkin(slack, syncs_guild):
    fake, guild = slack.fake, syncs_guild
    client = client_for(fake)
    result = ss.run_cycle(syncs_for(guild), client, now=NOW)
    assert result["proposed"] >= 1 and result["posted"] == result["proposed"]
    sync = syncs_for(guild).get(syncs_for(guild).propose(now=NOW)[0]["id"])
    members = [m["slack_id"] for m in sync["members"]]

    # the proposal: in a group DM of exactly the members, once, with times for each reader's zone
    opened = fake.calls_to("conversations.open", ok=True)[0]
    assert sorted(opened.args["users"].split(",")) == sorted(members)
    dm = opened.result["channel"]["id"]
    assert dm.startswith("G") and sync["channel"] == dm and sync["status"] == "posted"
    message = posted(fake, dm)[0]
    text = json.dumps(message["blocks"])
    assert f"<!date^{epoch(sync['start'])}^" in text and sync["topic"] in text
    assert all(f"<@{m}>" in text for m in members)
    assert all(f"<{e['url']}|" in text for e in sync["evidence"][:3])
    assert [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]] == [ss.YES, ss.NO, ss.LATER]
    again = ss.run_cycle(syncs_for(guild), client, now=NOW)
    assert again["posted"] == 0 and len(posted(fake, dm)) == 1  # idempotent

    msg = {"ts": sync["ts"], "text": message["text"], "blocks": message["blocks"]}
    # "Another time": the next best slots, privately; choosing one moves the sync
    slack.click(message["blocks"], ss.LATER, user=members[0], channel=dm, ephemeral=False, message=msg)
    offer = fake.wait_for(lambda c: c.method == "chat.postEphemeral" and c.ok and c.args.get("user") == members[0])[0]
    slot_buttons = [e for b in offer.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert slot_buttons and all(e["action_id"] == ss.SLOT for e in slot_buttons)
    chosen = sync["slots"][json.loads(slot_buttons[0]["value"])["i"]]
    slack.click(offer.args["blocks"], ss.SLOT, user=members[0], channel=dm, ephemeral=True)
    fake.wait_for(lambda c: c.method == "chat.update" and c.ok)
    moved = syncs_for(guild).get(sync["id"])
    assert moved["start"] != sync["start"] and moved["start"] == chosen["start"]
    sync = moved

    # three RSVPs: yes, no, yes -> the quorum of two is reached on the third
    outsider = ASKER
    slack.click(message["blocks"], ss.YES, user=outsider, channel=dm, ephemeral=False, message=msg)
    fake.wait_for(lambda c: c.method == "chat.postEphemeral" and c.ok and c.args.get("user") == outsider)
    for n, (user, button) in enumerate([(members[0], ss.YES), (members[1], ss.NO), (members[2], ss.YES)], 2):
        slack.click(message["blocks"], button, user=user, channel=dm, ephemeral=False, message=msg)
        fake.wait_for(lambda c: c.method == "chat.update" and c.ok, count=n)
    assert outsider not in json.dumps(syncs_for(guild).get(sync["id"]))
    complete = fake.wait_for("files.completeUploadExternal")[0]
    order = [c.method for c in fake.calls if c.method in ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")]
    assert order == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert complete.args["channel_id"] == dm and complete.args["thread_ts"] == sync["ts"]
    f = fake.files[json.loads(complete.args["files"])[0]["id"]] if isinstance(complete.args["files"], str) else \
        fake.files[complete.args["files"][0]["id"]]
    event = Calendar.from_ical(f["data"]).walk("VEVENT")[0]
    assert str(event["uid"]) == f"{sync['id']}@guildbot"
    assert event.decoded("dtstart") == datetime.fromisoformat(sync["start"].replace("Z", "+00:00"))
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=guild.config.syncs.plan.duration)
    assert event["dtstart"].to_ical().endswith(b"Z")  # UTC
    attendees = sorted(str(a).removeprefix("mailto:") for a in event["attendee"])
    assert attendees == sorted(m["email"] for m in sync["members"]) and str(event["organizer"]).startswith("mailto:")
    for m in sync["members"]:  # the member's local time is inside their working hours
        local = event.decoded("dtstart").astimezone(ZoneInfo(m["tz"]))
        assert local.weekday() < 5 and 9 <= local.hour < 17, (m, local)
    scheduled = wait_until(lambda: syncs_for(guild).get(sync["id"]), lambda s: s["status"] == "scheduled")
    assert scheduled["invited_at"]

    # the reminder the day before, once
    start = datetime.fromisoformat(sync["start"].replace("Z", "+00:00"))
    assert ss.SyncFlow(syncs_for(guild), client).due(start - timedelta(hours=30)) == {"reminders": 0, "checkins": 0}
    assert ss.SyncFlow(syncs_for(guild), client).due(start - timedelta(hours=12))["reminders"] == 1
    assert ss.SyncFlow(syncs_for(guild), client).due(start - timedelta(hours=11))["reminders"] == 0
    reminder = posted(fake, dm, sync["ts"])[-1]
    reminder_text = reminder["blocks"][0]["text"]["text"]
    assert "Reminder" in reminder_text and f"<!date^{epoch(sync['start'])}^" in reminder_text
    assert all(f"<@{m}>" in reminder_text for m in members)

    # the check-in after the meeting: "We met" opens a modal whose answer is stored
    assert ss.SyncFlow(syncs_for(guild), client).due(start + timedelta(hours=2))["checkins"] == 1
    checkin = posted(fake, dm, sync["ts"])[-1]
    assert "Did you meet? What came of it?" in json.dumps(checkin["blocks"])
    cmsg = {"ts": "1.1", "text": checkin["text"], "blocks": checkin["blocks"], "thread_ts": sync["ts"]}
    slack.click(checkin["blocks"], ss.MET, user=members[0], channel=dm, ephemeral=False, message=cmsg)
    view = fake.wait_for("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    body = interactive_form(view_submission(members[0], view, "We will share one two-tower model"))
    assert slack.http.post(slack.url, content=body, headers=signed_headers(body)).status_code == 200
    slack.click(checkin["blocks"], ss.NOT_MET, user=members[2], channel=dm, ephemeral=False, message=cmsg)
    fake.wait_for(lambda c: c.method == "chat.postEphemeral" and c.ok and c.args.get("user") == members[2])
    answers = wait_until(lambda: {c["slack_id"]: c for c in syncs_for(guild).checkins()}, lambda a: len(a) == 2)
    assert answers[members[0]]["met"] and answers[members[0]]["outcome"] == "We will share one two-tower model"
    assert answers[members[2]]["met"] is False
    assert syncs_for(guild).get(sync["id"])["status"] == "done"


def test_slash_sync_topic_list_and_optout(slack, syncs_guild):
    fake, guild = slack.fake, syncs_guild
    resp, key = slack.command("sync cold start")
    assert resp.status_code == 200
    reply = slack.reply(key)
    text = json.dumps(reply["blocks"])
    assert "Cross-team sync: cold start" in text and "<!date^" in text
    sync = syncs_for(guild).stored()[0]
    assert len(set(sync["teams"])) >= 2 and all(f"<@{m['slack_id']}>" in text for m in sync["members"])
    _, key = slack.command("sync list")
    assert "cold start" in json.dumps(slack.reply(key)["blocks"])
    # "Send it to them" posts it for RSVPs, once
    slack.click(reply["blocks"], ss.SEND, ephemeral=True)
    fake.wait_for(lambda c: c.method == "chat.postMessage" and c.ok and "Cross-team sync" in c.args.get("text", ""))
    # opting out: never proposed again
    victim = sync["members"][0]["slack_id"]
    _, key = slack.command("sync optout", user_id=victim)
    assert "not be proposed" in json.dumps(slack.reply(key)["blocks"])
    again = syncs_for(guild).propose_topic("cold start listings")
    assert again is None or victim not in [m["slack_id"] for m in again["members"]]
    assert victim not in [m["slack_id"] for p in syncs_for(guild).propose(now=NOW) for m in p["members"]]


def test_with_a_guild_channel_each_sync_is_a_message_there_and_the_rest_goes_in_its_thread(slack, syncs_guild):
    fake, guild = slack.fake, syncs_guild
    guild.config.syncs.channel = "C0MLGUILD"
    client = client_for(fake)
    result = ss.run_cycle(syncs_for(guild), client, now=NOW)
    tops = posted(fake, "C0MLGUILD")
    assert len(tops) == result["posted"] == result["proposed"] >= 1
    assert not fake.calls_to("conversations.open")
    sync = syncs_for(guild).stored()[0]
    assert sync["channel"] == "C0MLGUILD" and sync["ts"]
    flow = ss.SyncFlow(syncs_for(guild), client)
    members = [m["slack_id"] for m in sync["members"]]
    assert flow.rsvp(sync["id"], members[0], "yes") == "recorded"
    assert flow.rsvp(sync["id"], members[1], "yes") == "invited"
    assert flow.rsvp(sync["id"], members[2], "yes") == "recorded"  # invited once
    uploads = fake.calls_to("files.completeUploadExternal", ok=True)
    assert len(uploads) == 1 and uploads[0].args["channel_id"] == "C0MLGUILD" and uploads[0].args["thread_ts"] == sync["ts"]


def test_a_failed_upload_leaves_the_invitation_to_the_next_accept(slack, syncs_guild):
    from slack_sdk.errors import SlackApiError
    fake, guild = slack.fake, syncs_guild
    client = client_for(fake)
    ss.run_cycle(syncs_for(guild), client, now=NOW)
    sync = syncs_for(guild).stored()[0]
    members = [m["slack_id"] for m in sync["members"]]
    flow = ss.SyncFlow(syncs_for(guild), client)
    flow.rsvp(sync["id"], members[0], "yes")
    fake.fail("files.getUploadURLExternal", "file_uploads_disabled")
    with pytest.raises(SlackApiError):
        flow.rsvp(sync["id"], members[1], "yes")
    assert not syncs_for(guild).get(sync["id"])["invited_at"] and syncs_for(guild).get(sync["id"])["status"] == "posted"
    assert flow.rsvp(sync["id"], members[2], "yes") == "invited"
    assert len(fake.calls_to("files.completeUploadExternal", ok=True)) == 1


def test_a_proposal_names_the_side_nobody_in_the_directory_speaks_for():
    from guildbot import blockkit as kit
    sync = {"id": "s1", "topic": "Drift alerts", "teams": ["Risk", "Sensors"], "evidence": [], "start": None,
            "members": [{"name": "Ana", "slack_id": "UANA", "team": "Risk", "email": "ana@x.example"},
                        {"name": "Bo", "slack_id": "UBO", "team": "Risk", "email": "bo@x.example"}],
            "contacts": [{"team": "Sensors", "contact": "#sensors"}]}
    text = kit.to_text(ss.proposal_message(sync).blocks)
    assert "Sensors: nobody in the directory works on it; please ask #sensors" in text
    assert "Risk and Sensors" in text
