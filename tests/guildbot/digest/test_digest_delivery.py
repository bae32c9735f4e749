"""Delivering the digest to the Slack Web API fake: once per channel and week, edits when the
content changes, no second post after a crash, Retry-After honoured, one poster among several."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from guildbot.digest import service as dg
from guildbot import blockkit as kit
from guildbot.cli.main import main
from index.storage import digest_runs
from index.retrieval import querylog
from index.digest.weekly import week_bounds
from index.storage.sqlite.store import Store

from support.digest import CHANNELS, demo_week  # noqa: F401 - a fixture
from support.fake_slack import FakeSlack
from support.slack import directory_users



@pytest.fixture(scope="module")
def fake():
    with FakeSlack(users=directory_users(), channels=CHANNELS) as f:
        yield f


@pytest.fixture
def slack(fake, demo_guild, monkeypatch):
    """A clean slate: no calls, no messages, no run records; the CLI pointed at the fake."""
    fake.reset()
    for table in ("digest_runs", "digest_overlaps"):
        demo_guild.store.conn.execute(f"DELETE FROM {table}")
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    yield fake


@pytest.fixture(scope="module")
def week_digest(demo_guild, demo_week):
    """The guild-wide digest of the demo's last week, and its message."""
    data = dg.digest_for(demo_guild).build(demo_week)
    return data, dg.render_message(data, "Acme")


def client(fake: FakeSlack):
    return dg.make_client({"SLACK_BOT_TOKEN": fake.token, "SLACK_API_URL": fake.api_url})


def text_of(message: dict) -> str:
    return kit.to_text(message["blocks"])


def digest_cli(demo_dir, *args: str) -> int:
    return main(["--config", str(demo_dir / "guild.toml"), "digest", *args])


def test_the_same_week_twice_gives_one_message_per_channel(slack, demo_guild, demo_dir, demo_week, capsys):
    assert digest_cli(demo_dir, "--week", demo_week) == 0
    first = capsys.readouterr().out
    assert first.count(" posted ") == 5 and "failed" not in first, first
    assert digest_cli(demo_dir, "--week", demo_week) == 0
    assert capsys.readouterr().out.count("already posted, unchanged") == 5
    assert len(slack.calls_to("chat.postMessage", ok=True)) == 5 and not slack.calls_to("chat.update")
    for name in CHANNELS:
        assert len(slack.messages_in("#" + name)) == 1, name
    guild_wide = text_of(slack.messages_in("#ml-guild")[0])
    overlap = guild_wide[guild_wide.index("Possible duplicate effort"):guild_wide.index("Questions nobody")]
    assert "feed-ranker" in overlap.split("look alike")[0] and "similar-items" in overlap.split("look alike")[0]
    assert "@U01PRIYA (Priya Raman)" in overlap and "@U04OMAR (Omar Haddad)" in overlap  # mentions of both teams
    assert "The model registry" in guild_wide and "Home feed ranker experiments" in guild_wide  # the week's new pages
    meta = slack.messages_in("#ml-guild")[0]["metadata"]
    assert meta["event_type"] == "guildbot_digest" and meta["event_payload"]["week"] == demo_week
    assert all(r.ts and r.channel_id == CHANNELS[r.channel[1:]] for r in digest_runs.runs(demo_guild.store, demo_week))


def test_a_team_channel_gets_its_view(slack, demo_dir, demo_week):
    assert digest_cli(demo_dir, "--week", demo_week, "--team", "Marketplace") == 0
    (message,) = slack.messages_in("#marketplace")
    text = text_of(message)
    assert "weekly digest · " + demo_week + " · Marketplace" in text
    assert "similar-items" in text and "feed-ranker" in text  # the overlap that involves Marketplace
    assert "Marketplace recommendations roadmap" in text  # its new page
    assert "drift-watch" not in text and "The model registry" not in text  # other teams' news
    assert [c.args["channel"] for c in slack.calls_to("chat.postMessage")] == ["#marketplace"]


def test_changed_content_edits_the_message_once(slack, demo_guild, demo_dir, demo_week):
    assert digest_cli(demo_dir, "--week", demo_week, "--channel", "#ml-guild") == 0
    (posted,) = slack.messages_in("#ml-guild")
    before = text_of(posted)
    week = week_bounds(demo_week, demo_guild.config.digest.tz)
    question = "how do we shard the embeddings index across regions?"
    entry = querylog.record(demo_guild.store, question, "web", "search", 0.1, 3, now=week.start + timedelta(days=2))
    try:
        assert digest_cli(demo_dir, "--week", demo_week, "--channel", "#ml-guild") == 0
        assert digest_cli(demo_dir, "--week", demo_week, "--channel", "#ml-guild") == 0  # and then it is current
    finally:
        demo_guild.store.conn.execute("DELETE FROM query_log WHERE id = ?", (entry,))
    assert len(slack.calls_to("chat.postMessage")) == 1
    (update,) = slack.calls_to("chat.update", ok=True)
    assert update.args["ts"] == posted["ts"] and update.args["channel"] == "C0MLGUILD"
    (edited,) = slack.messages_in("#ml-guild")
    assert edited["edited"] and question in text_of(edited) and question not in before


class Crash(Exception):
    pass


def _crash_after_posting(monkeypatch):
    """The process dies after chat.postMessage returned and before the run record was written."""
    real = digest_runs.record

    def crash(*args, **kwargs):
        monkeypatch.setattr(digest_runs, "record", real)
        raise Crash("killed between posting and recording")
    monkeypatch.setattr(digest_runs, "record", crash)


@pytest.mark.parametrize("claim_age", [0, digest_runs.CLAIM_SECONDS + 60])
def test_a_crash_between_posting_and_recording_never_posts_twice(slack, demo_guild, week_digest, monkeypatch, claim_age):
    data, message = week_digest
    target = dg.Target("#ml-guild")
    _crash_after_posting(monkeypatch)
    with pytest.raises(Crash):
        dg.digest_for(demo_guild).delivery(client(slack)).deliver(target, data, message)
    assert len(slack.messages_in("#ml-guild")) == 1 and not digest_runs.get(demo_guild.store, "#ml-guild", data.week).ts
    if claim_age:  # the crashed process's claim has expired by the next run
        demo_guild.store.conn.execute("UPDATE digest_runs SET claimed_at = datetime('now', ?)", (f"-{claim_age} seconds",))
    outcome = dg.digest_for(demo_guild).delivery(client(slack)).deliver(target, data, message)  # the next run, another process
    assert outcome.status == "adopted" and outcome.ts == slack.messages_in("#ml-guild")[0]["ts"]
    assert len(slack.calls_to("chat.postMessage")) == 1 and slack.calls_to("conversations.history", ok=True)
    assert not slack.calls_to("chat.update")  # the adopted message already had this content
    again = dg.digest_for(demo_guild).delivery(client(slack)).deliver(target, data, message)
    assert again.status == "unchanged" and len(slack.messages_in("#ml-guild")) == 1


def test_when_the_history_cannot_be_read_nothing_is_posted(slack, demo_guild, week_digest, monkeypatch):
    data, message = week_digest
    _crash_after_posting(monkeypatch)
    with pytest.raises(Crash):
        dg.digest_for(demo_guild).delivery(client(slack)).deliver(dg.Target("#ml-guild"), data, message)
    slack.fail("conversations.history", "missing_scope", times=5)
    outcome = dg.digest_for(demo_guild).delivery(client(slack)).deliver(dg.Target("#ml-guild"), data, message)
    assert outcome.status == "failed" and "missing_scope" in outcome.error and "nothing was posted" in outcome.error
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_slack_429_is_retried_after_retry_after(slack, demo_guild, week_digest):
    data, message = week_digest
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    outcome = dg.digest_for(demo_guild).delivery(client(slack)).deliver(dg.Target("#ml-guild"), data, message)
    assert outcome.status == "posted"
    limited, posted = slack.calls_to("chat.postMessage")
    assert limited.status == 429 and posted.ok and posted.at - limited.at >= 0.9
    assert len(slack.messages_in("#ml-guild")) == 1


def test_a_refused_post_is_reported_and_the_next_run_posts(slack, demo_guild, week_digest):
    data, message = week_digest
    slack.fail("chat.postMessage", "not_in_channel")
    failed = dg.digest_for(demo_guild).delivery(client(slack)).deliver(dg.Target("#ml-guild"), data, message)
    assert failed.status == "failed" and "/invite" in failed.error
    retried = dg.digest_for(demo_guild).delivery(client(slack)).deliver(dg.Target("#ml-guild"), data, message)
    assert retried.status == "posted" and not slack.calls_to("conversations.history")  # nothing to look for


def test_several_processes_post_once_between_them(slack, demo_guild, week_digest):
    data, message = week_digest
    start = threading.Barrier(3)
    outcomes = []

    def serve_process():
        store = Store(demo_guild.config.data_dir)  # each process has its own connection to the shared store
        try:
            start.wait()
            outcomes.append(dg.Delivery(store, client(slack)).deliver(dg.Target("#ml-guild"), data, message))
        finally:
            store.close()
    threads = [threading.Thread(target=serve_process) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o.status for o in outcomes).count("posted") == 1
    assert len(slack.messages_in("#ml-guild")) == 1


def test_posting_without_a_token_says_what_to_set(slack, demo_dir, demo_week, monkeypatch, capsys):
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert digest_cli(demo_dir, "--week", demo_week) == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err and not slack.calls


def test_a_quiet_week_posts_one_line_once_when_configured(slack, demo_dir, capsys):
    for _ in range(2):
        assert digest_cli(demo_dir, "--week", "2022-W10", "--team", "Risk") == 0  # long before any Risk activity
    (message,) = slack.messages_in("#risk")
    assert message["text"] == "A quiet week: nothing new to report for 2022-W10 in Risk." and len(message["blocks"]) == 2
    assert "unchanged" in capsys.readouterr().out.splitlines()[-1]


def test_an_unreachable_slack_is_a_clear_failure_and_the_next_run_checks_before_posting(slack, demo_guild, week_digest):
    data, message = week_digest
    dead = dg.make_client({"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": "http://127.0.0.1:9/api/"})
    failed = dg.digest_for(demo_guild).delivery(dead).deliver(dg.Target("#ml-guild"), data, message)
    assert failed.status == "failed" and "cannot reach Slack at http://127.0.0.1:9/api/" in failed.error
    claimed = digest_runs.get(demo_guild.store, "#ml-guild", data.week)
    demo_guild.store.conn.execute("UPDATE digest_runs SET claimed_at = '2000-01-01T00:00:00+00:00'")  # long ago
    posted = dg.digest_for(demo_guild).delivery(client(slack)).deliver(dg.Target("#ml-guild"), data, message)
    assert claimed.claimed_at and not claimed.ts and posted.status == "posted"
    assert slack.calls_to("conversations.history")  # it looked first: the failed attempt might have posted


def test_a_deleted_digest_is_posted_again_once_with_its_new_ts(slack, demo_guild, week_digest):
    data, message = week_digest
    target = dg.Target("#ml-guild")
    first = dg.digest_for(demo_guild).delivery(client(slack)).deliver(target, data, message)
    assert first.status == "posted"
    slack.delete_message("#ml-guild", first.ts)  # someone deleted it in Slack
    changed = dg.render_message(data, "Acme guild")  # the content changed since: an edit is due
    outcome = dg.digest_for(demo_guild).delivery(client(slack)).deliver(target, data, changed)
    assert outcome.status == "reposted" and not outcome.error and outcome.ts != first.ts
    (again,) = slack.messages_in("#ml-guild")
    assert again["ts"] == outcome.ts and "Acme guild" in text_of(again)
    assert digest_runs.get(demo_guild.store, "#ml-guild", data.week).ts == outcome.ts
    assert [c.result.get("error") for c in slack.calls_to("chat.update")] == ["message_not_found"]
    for _ in range(2):  # and from then on it is the message of the week
        later = dg.digest_for(demo_guild).delivery(client(slack)).deliver(target, data, changed)
        assert later.status == "unchanged" and later.ts == outcome.ts
    assert len(slack.calls_to("chat.postMessage", ok=True)) == 2 and len(slack.messages_in("#ml-guild")) == 1


def test_a_digest_whose_channel_was_recreated_is_posted_in_the_new_one(slack, demo_guild, week_digest):
    data, message = week_digest
    target = dg.Target("#ml-guild")
    first = dg.digest_for(demo_guild).delivery(client(slack)).deliver(target, data, message)
    old = slack.recreate_channel("ml-guild", "C0NEWGUILD")
    try:
        outcome = dg.digest_for(demo_guild).delivery(client(slack)).deliver(target, data, dg.render_message(data, "Acme guild"))
        assert outcome.status == "reposted" and outcome.ts != first.ts
        assert [m["ts"] for m in slack.messages_in("#ml-guild")] == [outcome.ts]
        record = digest_runs.get(demo_guild.store, "#ml-guild", data.week)
        assert record.ts == outcome.ts and record.channel_id == "C0NEWGUILD"
        assert [c.result.get("error") for c in slack.calls_to("chat.update")] == ["channel_not_found"]
    finally:
        slack.channels["ml-guild"] = old


def test_a_refused_edit_for_another_reason_still_fails_and_posts_nothing(slack, demo_guild, week_digest):
    data, message = week_digest
    target = dg.Target("#ml-guild")
    dg.digest_for(demo_guild).delivery(client(slack)).deliver(target, data, message)
    slack.fail("chat.update", "cant_update_message")
    outcome = dg.digest_for(demo_guild).delivery(client(slack)).deliver(target, data, dg.render_message(data, "Acme guild"))
    assert outcome.status == "failed" and "cant_update_message" in outcome.error
    assert len(slack.calls_to("chat.postMessage")) == 1
