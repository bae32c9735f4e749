"""Block Kit answers within Slack's limits (checked with slack_sdk's block models), command parsing,
escaping, and the settings' start-up messages."""
from __future__ import annotations

import json

import pytest
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from guildbot import blockkit as kit
from guildbot.slack.app import SlackConfigError, SlackSettings, question_text, strip_mentions
from guildbot.slack.commands import help_lines, parse_command, parse_person_query
from index.expertise.experts import Evidence, Expert
from index.expertise.profiles import Profile
from index.retrieval.search import Hit

HUGE = "recommender " * 2000  # 24,000 characters


def hit(n: int, title: str = "", snippet: str = "", url: str = "") -> Hit:
    return Hit(f"src:doc{n}", title or f"Document {n}", url or f"https://wiki.example/doc{n}", "wiki", "Home Feed",
               f"doc{n}.md", "doc", snippet or f"snippet {n}", 1.0 / n)


def expert(n: int, name: str = "", evidence: int = 3, slack_id: str = "") -> Expert:
    return Expert(f"p{n}", name or f"Person {n}", "Risk", 1.0 / n, [f"p{n}@acme.example"], [], slack_id,
                  [Evidence(f"Evidence {n}.{k}", f"https://git.example/{n}/{k}", what="author: 3 commits, 2023–2024")
                   for k in range(evidence)])


def all_text(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if b.get("text"):
            out.append(b["text"]["text"])
        out += [e.get("text", "") if isinstance(e.get("text"), str) else e.get("text", {}).get("text", "")
                for e in b.get("elements", [])]
    return "\n".join(out)


def test_ask_message_validates_with_slack_sdk_models():
    msg = kit.ask_message("how do we handle cold start?", [hit(n) for n in range(1, 6)],
                          [expert(1, slack_id="U1"), expert(2)], {"p1": "U1"})
    kit.validate(msg.blocks)
    models = [Block.parse(b) for b in msg.blocks]
    assert isinstance(models[-1], ActionsBlock)
    share = models[-1].elements[0]
    assert isinstance(share, ButtonElement) and share.text.text == "Share in channel"
    assert json.loads(share.value) == {"c": "ask", "a": "how do we handle cold start?"}
    feedback = [b for b in models if isinstance(b, ActionsBlock) and b.block_id.startswith("feedback:")]
    assert len(feedback) == 5
    assert [e.action_id for e in feedback[0].elements] == [kit.HELPFUL, kit.NOT_HELPFUL]
    assert json.loads(feedback[2].elements[0].value) == {"d": "src:doc3", "q": "how do we handle cold start?"}
    text = all_text(msg.blocks)
    assert "<https://wiki.example/doc1|Document 1>" in text and "> snippet 1" in text
    assert "<@U1> (Person 1)" in text and "*Person 2*" in text  # a mention where the Slack id is known
    assert msg.text.startswith("5 documents for")


def test_huge_answers_are_cut_to_slacks_limits():
    hits = [hit(n, title=HUGE, snippet=HUGE, url="https://wiki.example/" + "x" * 2500) for n in range(1, 80)]
    experts = [expert(n, name=HUGE[:500], evidence=40) for n in range(1, 80)]
    for msg in (kit.ask_message(HUGE, hits, experts, {}), kit.who_message(HUGE, experts, {}),
                kit.person_message([Profile("p1", HUGE, HUGE, [HUGE], recent=[{"title": HUGE, "url": "https://x/" + HUGE[:200],
                                                                               "role": "author", "count": 3}] * 200,
                                            projects=[{"name": HUGE}] * 50)], HUGE),
                kit.projects_message(HUGE, [(HUGE, "#x", [kit.ProjectLine(HUGE, HUGE, "repo", "", 3, HUGE)] * 300)] * 60, arg=HUGE)):
        kit.validate(msg.blocks)  # raises on any model violation
        assert len(msg.blocks) <= kit.MAX_BLOCKS
        assert msg.blocks[-1]["type"] == "actions" and msg.blocks[-1]["elements"][0]["action_id"] == kit.SHARE
        for b in msg.blocks:
            if b["type"] == "section":
                assert len(b["text"]["text"]) <= kit.SECTION_TEXT
            for e in b.get("elements", []):
                if e.get("type") == "button":
                    assert len(e["text"]["text"]) <= kit.BUTTON_TEXT and len(e["value"]) <= kit.BUTTON_VALUE
                    assert json.loads(e["value"])  # still valid JSON after shortening
        assert len(msg.text) <= kit.FALLBACK_TEXT


def test_validate_rejects_what_slack_would_reject():
    with pytest.raises(ValueError, match="51 blocks"):
        kit.validate([kit.divider()] * 51)
    with pytest.raises(ValueError):
        kit.validate([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    with pytest.raises(ValueError):
        kit.validate([{"type": "actions", "block_id": "a", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "b" * 76}, "action_id": "x"}]}])
    with pytest.raises(ValueError, match="duplicate block_id"):
        kit.validate([kit.section("a", block_id="same"), kit.section("b", block_id="same")])
    with pytest.raises(ValueError, match="unknown block"):
        kit.validate([{"type": "no_such_block"}])


def test_clip_and_join_lines_respect_limits():
    assert kit.clip("short", 10) == "short"
    cut = kit.clip("word " * 100, 50)
    assert len(cut) <= 50 and cut.endswith("…") and not cut.endswith(" …")
    assert not kit.clip("a &amp; b &amp; c", 9).rstrip("…").endswith("&am")  # never half an escape
    lines = [f"line {n} " + "x" * 50 for n in range(200)]
    joined = kit.join_lines(lines, 1000)
    assert len(joined) <= 1000 and joined.endswith("more") and joined.splitlines()[0] == lines[0]
    assert len(kit.join_lines(["y" * 5000], 3000)) <= 3000


def test_user_text_is_escaped_and_links_survive_odd_urls():
    msg = kit.ask_message("<!channel> & <@U999> drift?", [hit(1, title="a <b> | c & d", url="https://x.example/a|b>c d")], [], {})
    text = all_text(msg.blocks)
    assert "<!channel>" not in text and "<@U999>" not in text  # nobody gets pinged by a question
    assert "&lt;!channel&gt; &amp; &lt;@U999&gt;" in text
    assert "<https://x.example/a%7Cb%3Ec%20d|a &lt;b&gt; ¦ c &amp; d>" in text
    kit.validate(msg.blocks)


def test_who_message_lists_people_with_team_and_evidence():
    msg = kit.who_message("recommender", [expert(1, "Ada Lovelace", slack_id="U1"), expert(2, "Alan Turing")], {"p1": "U1"})
    kit.validate(msg.blocks)
    sections = [b["text"]["text"] for b in msg.blocks if b["type"] == "section"]
    assert "recommender" in sections[0]
    assert sections[1].startswith("*1.* <@U1> (Ada Lovelace) · Risk")
    assert "<https://git.example/1/0|Evidence 1.0> — author: 3 commits, 2023–2024" in sections[1]
    assert sections[2].startswith("*2.* *Alan Turing* · Risk")
    assert "Ada Lovelace, Alan Turing" in msg.text
    empty = kit.who_message("quantum knitting", [], {})
    assert "Nobody found" in all_text(empty.blocks)


def test_shared_message_credits_the_user_and_has_no_share_button():
    msg = kit.who_message("drift", [expert(1)], {}, share=False, shared_by="U0ASKER")
    kit.validate(msg.blocks)
    assert msg.blocks[0]["type"] == "context" and "<@U0ASKER>" in msg.blocks[0]["elements"][0]["text"]
    assert not any(e.get("action_id") == kit.SHARE for b in msg.blocks for e in b.get("elements", []))


def test_help_and_unknown_subcommand():
    assert "/guild who <topic>" in all_text(kit.help_message(help_lines()).blocks).replace("&lt;", "<").replace("&gt;", ">")
    unknown = all_text(kit.help_message(help_lines(), unknown="frobnicate").blocks)
    assert "I don't know the command `frobnicate`" in unknown and "/guild ask frobnicate" in unknown
    assert "needs something to look for" in all_text(kit.help_message(help_lines(), missing="who").blocks)


def test_to_text_renders_blocks_readably():
    msg = kit.who_message("drift", [expert(1, "Ada", slack_id="U1")], {"p1": "U1"})
    text = kit.to_text(msg.blocks)
    assert "@U1 (Ada) · Risk" in text
    assert "Evidence 1.0 <https://git.example/1/0> — author" in text
    assert text.rstrip().endswith("[Share in channel] [Ask them]")


@pytest.mark.parametrize("text, expected", [
    ("", ("help", "")), ("help", ("help", "")), ("who recommender", ("who", "recommender")),
    ("WHO   drift  monitoring", ("who", "drift monitoring")), ("ask how do we ship?", ("ask", "how do we ship?")),
    ("how do we monitor drift?", ("ask", "how do we monitor drift?")), ("projects", ("projects", "")),
    ("projects Risk", ("projects", "Risk")), ("person <@U04OMAR|omar>", ("person", "<@U04OMAR|omar>")),
    ("frobnicate", ("unknown", "frobnicate")), ("recommender?", ("ask", "recommender?")),
    ("search drift", ("ask", "drift")),
])
def test_parse_command(text, expected):
    assert parse_command(text) == expected


def test_free_text_treats_a_single_word_as_a_question():
    assert parse_command("recommender", free_text=True) == ("ask", "recommender")
    assert strip_mentions("<@U0BOT> who knows <@U7|jo>?", "U0BOT") == "who knows <@U7|jo>?"


def test_event_text_is_unescaped_exactly_once():
    """Slack escapes & < > in event text; a typed "&lt;" arrives as `&amp;lt;` and must stay "&lt;"."""
    assert kit.unescape("a &amp; b &lt;c&gt; &amp;lt; &amp;amp; &quot;") == "a & b <c> &lt; &amp; &quot;"
    assert kit.unescape(kit.escape("x &lt; <y> & z")) == "x &lt; <y> & z"
    assert question_text("<@U0BOT> drift &amp; fraud &lt;@U0BOT&gt; <@U7|jo>", "U0BOT") == "drift & fraud <@U0BOT> <@U7|jo>"


def test_the_no_documents_hint_is_escaped_mrkdwn():
    text = all_text(kit.ask_message("quantum knitting", [], [], {}).blocks)
    assert "`/guild who &lt;topic&gt;`" in text and "<topic>" not in text
    assert "`/guild who <topic>`" in kit.to_text(kit.ask_message("quantum knitting", [], [], {}).blocks)


def test_person_query_forms():
    assert parse_person_query("<@U04OMAR|omar>") == ("slack", "U04OMAR")
    assert parse_person_query("<@W123>") == ("slack", "W123")
    assert parse_person_query("Omar.Haddad@Acme.example") == ("email", "omar.haddad@acme.example")
    assert parse_person_query("@Omar Haddad") == ("name", "Omar Haddad")


def test_slack_tokens_from_the_environment_are_masked_in_messages_and_logs():
    from connectors.common.redact import redact
    env = {"SLACK_BOT_TOKEN": "xoxb-1234-abcdefSECRET", "SLACK_SIGNING_SECRET": "f00dfeedsigningsecret"}
    SlackSettings.from_env(environ=env)
    line = redact("token xoxb-1234-abcdefSECRET and secret f00dfeedsigningsecret in a log line")
    assert "abcdefSECRET" not in line and "f00dfeedsigningsecret" not in line


def test_settings_say_which_variable_is_missing_and_where_to_find_it():
    with pytest.raises(SlackConfigError) as e:
        SlackSettings.from_env(environ={})
    msg = str(e.value)
    assert "SLACK_BOT_TOKEN is not set" in msg and "OAuth & Permissions" in msg
    assert "SLACK_SIGNING_SECRET is not set" in msg and "Signing Secret" in msg and "SLACK_APP_TOKEN" not in msg
    with pytest.raises(SlackConfigError) as e:
        SlackSettings.from_env(socket_mode=True, environ={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert "SLACK_APP_TOKEN is not set" in str(e.value) and "connections:write" in str(e.value)
    assert "SIGNING" not in str(e.value)
    with pytest.raises(SlackConfigError, match="must be an app-level token"):
        SlackSettings.from_env(socket_mode=True, environ={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"})
    with pytest.raises(SlackConfigError, match="SLACK_API_URL"):
        SlackSettings.from_env(environ={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "slack"})
    s = SlackSettings.from_env(environ={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    assert s.api_url == "https://slack.com/api/"
    s = SlackSettings.from_env(environ={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                                        "SLACK_API_URL": "https://proxy.corp.example/slack/api"})
    assert s.api_url == "https://proxy.corp.example/slack/api/"
    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert s.rate_limit == 10 and SlackSettings.from_env(environ={**base, "GUILDBOT_SLACK_RATE_LIMIT": "0"}).rate_limit == 0
    with pytest.raises(SlackConfigError, match="GUILDBOT_SLACK_RATE_LIMIT='lots' is not a whole number"):
        SlackSettings.from_env(environ={**base, "GUILDBOT_SLACK_RATE_LIMIT": "lots"})


def test_section_model_limits_are_the_ones_we_enforce():
    """Our constants agree with slack_sdk's own models, so a change there shows up here."""
    assert SectionBlock.text_max_length == kit.SECTION_TEXT
    assert ButtonElement.text_max_length == kit.BUTTON_TEXT
    assert ButtonElement.value_max_length == kit.BUTTON_VALUE


HOSTILE = "<!channel> <!here> <@U999> & <https://evil.example|click>"


def test_fallback_text_is_escaped_like_the_blocks_in_every_message():
    """Slack renders the notification `text` as mrkdwn too: nothing the user typed may ping or link."""
    person = Profile("p1", HOSTILE, HOSTILE, [HOSTILE], recent=[{"title": HOSTILE, "url": "", "role": "author", "count": 1}],
                     projects=[{"name": HOSTILE}])
    messages = [kit.ask_message(HOSTILE, [hit(1, title=HOSTILE, snippet=HOSTILE)], [expert(1, HOSTILE)], {}),
                kit.who_message(HOSTILE, [expert(1, HOSTILE)], {}),
                kit.projects_message(HOSTILE, [(HOSTILE, HOSTILE, [kit.ProjectLine(HOSTILE, HOSTILE, HOSTILE, "", 1, HOSTILE)])],
                                     arg=HOSTILE),
                kit.person_message([person], HOSTILE), kit.person_message([], HOSTILE, suggestions=[HOSTILE]),
                kit.help_message(help_lines(), unknown=HOSTILE), kit.help_message(help_lines(), missing=HOSTILE),
                kit.thanks_message(1, HOSTILE, HOSTILE), kit.text_message(HOSTILE)]
    for msg in messages:
        kit.validate(msg.blocks)
        for text in (msg.text, all_text(msg.blocks)):
            for ping in ("<!channel>", "<!here>", "<@U999>", "<https://evil.example"):
                assert ping not in text, (ping, text)
        assert "&lt;!channel&gt;" in msg.text or "&lt;!channel&gt;" in all_text(msg.blocks)
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U999&gt; &amp;" in messages[0].text


def test_a_forged_slack_id_never_becomes_a_mention():
    assert kit.mention("Ada", "U1ADA") == "<@U1ADA>"
    assert kit.mention("Ada", "U1>|<!channel") == "*Ada*"
    msg = kit.who_message("drift", [expert(1)], {}, share=False, shared_by="U0X> <!channel")
    assert "<!channel>" not in all_text(msg.blocks)


def test_an_answer_with_no_good_document_says_so_like_the_cli_and_the_web():
    message = kit.ask_message("unicorn stables", [], [], {})
    texts = " ".join(b.get("text", {}).get("text", "") for b in message.blocks if b.get("type") == "section")
    assert "Nothing matched well" in texts and "/guild who" in texts
