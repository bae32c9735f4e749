"""The Slack surface records its questions in the query log through the Guild facade."""
from __future__ import annotations

from support.slack import bot, fake_slack, slack  # noqa: F401 - fixtures


def test_a_slack_ask_is_logged_once_with_the_askers_team(slack, demo_guild):
    demo_guild.store.conn.execute("DELETE FROM query_log")
    _, key = slack.command("ask how do we rotate kafka certificates?", user_id="U03LENA")
    slack.reply(key)
    rows = demo_guild.store.query("SELECT surface, kind, asker_team, question FROM query_log")
    assert rows == [{"surface": "slack", "kind": "search+experts", "asker_team": "Marketplace",
                     "question": "how do we rotate kafka certificates?"}]
    demo_guild.store.conn.execute("DELETE FROM query_log")
