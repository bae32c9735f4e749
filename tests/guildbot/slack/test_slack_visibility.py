"""Permission-aware answers in Slack: the asking Slack user -> directory person -> team decides what a
private answer shows; an answer posted in a channel shows public sources only. Signed requests
through the real app on uvicorn, answered on the fake Slack Web API, over the small restricted org."""
from __future__ import annotations

import httpx
import pytest

from support.fake_slack import FakeSlack, User
from support.guilds import shared_embedder  # noqa: F401
from support.slack import SECRET, Bot, ServerThread, mention_event
from support.visibility_org import SECRET as WORD
from support.visibility_org import org, vault_urls  # noqa: F401

PEOPLE = [User("U0ADA", "ada", "ada@corp.example", "Ada Lind"), User("U0BO", "bo", "bo@corp.example", "Bo Berg"),
          User("U0CY", "cy", "cy@corp.example", "Cy Moss"), User("U0DI", "di", "di@corp.example", "Di Park"),
          User("U9CYNEW", "cy2", "cy@corp.example", "Cy Moss"),  # Cy's second account: not in the directory by id
          User("U9GUEST", "guest", "guest@partner.example", "A Guest")]


@pytest.fixture(scope="module")
def vbot(org):  # noqa: F811
    from guildbot.slack.app import SlackSettings, build_app
    from guildbot.web.app import create_app

    with FakeSlack(users=PEOPLE) as fake:
        settings = SlackSettings(bot_token=fake.token, signing_secret=SECRET, api_url=fake.api_url, rate_limit=0)
        app = build_app(org, settings)
        server = ServerThread(create_app(org, app)).start()
        with httpx.Client(timeout=30) as http:
            yield Bot(server.url + "/slack/events", fake, app, http)
        server.stop()


def body_of(reply: dict) -> str:
    return "\n".join(b["text"]["text"] for b in reply["blocks"] if b.get("text")) + "\n" + reply["text"]


def ask(vbot, text: str, user: str) -> str:
    _, key = vbot.command(text, user_id=user)
    return body_of(vbot.reply(key))


def test_private_answers_show_what_the_askers_team_may_see(vbot, org):  # noqa: F811
    outsider = ask(vbot, "ask ledger payment risk scores", "U0BO")  # the question does not say the secret word
    assert not any(url in outsider for url in vault_urls(org)) and WORD not in outsider.casefold()
    insider = ask(vbot, "ask ledger payment risk scores", "U0CY")
    assert any(url in insider for url in vault_urls(org))
    assert "Zed Quill" not in ask(vbot, f"who {WORD} ledger", "U0BO")
    assert "Zed Quill" in ask(vbot, f"who {WORD} ledger", "U0CY")


def test_a_slack_account_the_directory_lacks_is_matched_by_its_email(vbot, org):  # noqa: F811
    assert any(url in ask(vbot, f"ask {WORD} ledger", "U9CYNEW") for url in vault_urls(org))
    guest = ask(vbot, f"ask {WORD} ledger", "U9GUEST")  # nobody in the directory: public sources only
    assert not any(url in guest for url in vault_urls(org))


def test_projects_and_people_follow_the_same_rules(vbot, org):  # noqa: F811
    assert "vault" not in ask(vbot, "projects", "U0BO") and "vault" in ask(vbot, "projects", "U0CY")
    assert "Nobody called" in ask(vbot, "person Zed Quill", "U0BO")
    assert "Zed Quill" in ask(vbot, "person Zed Quill", "U0CY")
    ada = ask(vbot, "person Ada Lind", "U0BO")
    assert "Ada Lind" in ada and WORD not in ada.casefold() and "ada.private@home.example" not in ada


def test_answers_in_a_channel_show_public_sources_only(vbot, org):  # noqa: F811
    vbot.fake.reset()
    event = mention_event(f"<@{vbot.fake.bot_user_id}> ledger payment risk scores", user="U0CY")
    vbot.event(event)
    posted = vbot.fake.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == event["ts"])[0]
    text = body_of(posted.args)
    assert not any(url in text for url in vault_urls(org)) and WORD not in text.casefold()
    # Cy's private answer has the vault; sharing it in the channel posts the public answer only
    _, key = vbot.command(f"ask {WORD} ledger payment risk", user_id="U0CY")
    reply = vbot.reply(key)
    assert any(url in body_of(reply) for url in vault_urls(org))
    _, share = vbot.click(reply["blocks"], "guild_share", user="U0CY")
    shared = vbot.fake.wait_for(lambda c: c.method == "response_url" and c.key == share
                                and c.args.get("response_type") == "in_channel")[0]
    assert not any(url in body_of(shared.args) for url in vault_urls(org))
