"""Secrets never leave: URL credentials and tokens are masked in messages, logs, reports and rows."""
from __future__ import annotations

import json
import logging

import pytest

from connectors.base import SourceError
from connectors.redact import MASK, install_log_redaction, redact, redact_value, register_secret
from fakes_forge import FakeForge, dead_port
from guildbot import cli

from conftest import write_config

SECRET = "SECRETPASS9876"


@pytest.mark.parametrize("text, expected", [
    ("https://user:SECRET@host/x.git", f"https://user:{MASK}@host/x.git"),
    ("fatal: unable to access 'https://bob:p%40ss@git.corp/x.git/': 401", f"fatal: unable to access 'https://bob:{MASK}@git.corp/x.git/': 401"),
    ("https://ghp_abcdef123456@github.com/o/r", f"https://{MASK}@github.com/o/r"),
    ("ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git"),
    ("git@github.com:o/r.git and mail ada@corp.com", "git@github.com:o/r.git and mail ada@corp.com"),
    ("two: http://a:b@h1/ and HTTP://c:d@h2/", f"two: http://a:{MASK}@h1/ and HTTP://c:{MASK}@h2/"),
    ("", ""),
])
def test_url_credentials_are_masked(text, expected):
    assert redact(text) == expected


def test_registered_secrets_are_masked_everywhere_and_short_values_are_not_registered():
    register_secret("tok-" + SECRET)
    register_secret("abc")  # too short to mask safely: ordinary words would vanish
    assert redact(f"Bearer tok-{SECRET} for abc") == f"Bearer {MASK} for abc"
    assert redact_value({"cursor": [f"tok-{SECRET}"], "n": 1}) == {"cursor": [MASK], "n": 1}
    e = SourceError("s", f"cannot fetch https://u:{SECRET}@h/x.git", f"retry with tok-{SECRET}")
    assert SECRET not in str(e) and SECRET not in e.cause and SECRET not in e.fix


def test_log_records_are_redacted_at_every_level(caplog):
    install_log_redaction()
    install_log_redaction()  # idempotent
    register_secret("tok-" + SECRET)
    with caplog.at_level(logging.DEBUG, logger="guildbot.test"):  # whatever level Bolt gave "guildbot"
        logging.getLogger("guildbot.test").debug("cloning %s with %s", f"https://x:{SECRET}@h/r.git", f"tok-{SECRET}")
    assert caplog.records and SECRET not in caplog.text and MASK in caplog.text


def _rows(db) -> str:
    """Every text value of every table, as one string."""
    out = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in db.execute(f"SELECT * FROM [{table}]"):
            out.extend(str(v) for v in row if isinstance(v, str))
    return "\n".join(out)


def test_a_git_url_with_credentials_never_reaches_output_logs_or_the_database(tmp_path, make_repo, capsys, caplog,
                                                                              monkeypatch):
    repo = make_repo("secret-repo")
    repo.commit("Ada Lovelace", "ada@northwind.test", {"README.md": "# Secret repo\n\nDrift monitoring runbook.\n"})
    fake = FakeForge("github", "northwind", git_root=repo.path.parent)
    fake.git_password = SECRET
    port = dead_port()
    try:
        good = f"http://deploy:{SECRET}@127.0.0.1:{fake.server.server_port}/git/{repo.path.name}"
        config = write_config(tmp_path, [
            {"kind": "git", "name": "private", "team": "ML", "url": good},
            {"kind": "git", "name": "down", "team": "ML", "url": f"http://deploy:{SECRET}@127.0.0.1:{port}/x.git"},
        ], teams=["ML"])
        monkeypatch.setattr("sys.argv", ["guildbot", "--config", str(config), "crawl"])
        with caplog.at_level(logging.DEBUG):
            assert cli.main(["--config", str(config), "crawl", "--quiet"]) == 0
            assert cli.main(["--config", str(config), "crawl", "--json"]) == 0
            assert cli.main(["--config", str(config), "sources"]) == 0
            assert cli.main(["--config", str(config), "sources", "--json"]) == 0
            assert cli.main(["--config", str(config), "search", "drift monitoring", "--json"]) == 0
        out = capsys.readouterr()
        seen = out.out + out.err + caplog.text
        assert "private" in out.out and "down" in out.err and "127.0.0.1" in out.err  # the failure is named
        hits = json.loads(out.out[out.out.rindex("\n[") + 1:])
        assert hits and hits[0]["url"].startswith(f"http://deploy:{MASK}@127.0.0.1")
        assert any(r["status"] == 200 for r in fake.log if r["path"].startswith("/git/"))  # it really cloned
        assert SECRET not in seen
        import sqlite3

        db = sqlite3.connect(str(tmp_path / "data" / "guild.db"))
        text = _rows(db)
        db.close()
        assert "Drift monitoring runbook" in text and SECRET not in text
        assert SECRET not in (tmp_path / "data" / "crawl.lock").read_text()
    finally:
        fake.stop()


def test_environment_secrets_are_registered_by_name():
    from connectors.redact import register_env_secrets

    register_env_secrets({"SLACK_BOT_TOKEN": "xoxb-111-222-abcdef", "CONFLUENCE_PAT": "pat-value-123",
                          "SLACK_SIGNING_SECRET": "signsecret42", "HOME": "/home/ada-lovelace"})
    assert redact("tokens xoxb-111-222-abcdef pat-value-123 signsecret42 in /home/ada-lovelace") == \
        f"tokens {MASK} {MASK} {MASK} in /home/ada-lovelace"
