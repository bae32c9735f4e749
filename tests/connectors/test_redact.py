"""Secrets never leave: URL credentials and tokens are masked in messages, logs, reports and rows."""
from __future__ import annotations

import base64
import io
import json
import logging
import subprocess

import pytest

from connectors.base import SourceError
from connectors.git import split_credentials
from connectors.common.redact import MASK, install_log_redaction, redact, redact_value, register_secret
from support.fake_forge import FakeForge, dead_port
from guildbot import Guild
from guildbot.cli import main as cli

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


def test_a_logged_traceback_is_redacted_too():
    """A formatted traceback repeats the exception's message, and that may hold a URL with its password."""
    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger("guildbot.test.traceback")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        try:
            raise OSError(f"connection reset by http://deploy:{SECRET}@git.corp/x.git")
        except OSError as cause:
            raise RuntimeError(f"cannot fetch https://deploy:{SECRET}@git.corp/x.git") from cause
    except RuntimeError as e:
        log.exception("the crawl of %s failed", "vault")
        log.error("again", exc_info=e)
        log.warning("and once more", exc_info=True, stack_info=True)
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert out.count("Traceback (most recent call last)") == 6  # three records, each with the cause and the error
    assert "RuntimeError: cannot fetch https://deploy:" in out and "OSError: connection reset" in out
    assert SECRET not in out and MASK in out


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


@pytest.mark.parametrize("url, clean, config", [
    ("https://deploy:p%40ss@git.corp:8443/x.git", "https://git.corp:8443/x.git",
     [("http.https://git.corp:8443/.extraheader", "Authorization: Basic " + base64.b64encode(b"deploy:p@ss").decode())]),
    ("https://ghp_abcdef123456@github.com/o/r", "https://github.com/o/r",
     [("credential.https://github.com.username", "ghp_abcdef123456")]),
    ("ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git", []),
    ("ssh://git:pw@host/o/r.git", "ssh://git@host/o/r.git", []),
    ("git@github.com:o/r.git", "git@github.com:o/r.git", []),
    ("https://github.com/o/r.git", "https://github.com/o/r.git", []),
    ("/srv/git/r.git", "/srv/git/r.git", []),
])
def test_a_clone_url_is_split_into_what_may_be_stored_and_what_authenticates(url, clean, config):
    assert split_credentials(url) == (clean, config)


def _holding(root, secret: str) -> list[str]:
    """The files under `root` whose bytes hold `secret`, as written or inside HTTP basic auth."""
    needles = [secret.encode(), base64.b64encode(f"deploy:{secret}".encode())]
    return sorted(str(f.relative_to(root)) for f in root.rglob("*")
                  if f.is_file() and any(n in f.read_bytes() for n in needles))


def _origin(mirror) -> str:
    return subprocess.run(["git", "-C", str(mirror), "config", "--get", "remote.origin.url"],
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def private_remote(make_repo):
    """A real smart-HTTP remote (git http-backend) that demands SECRET as the basic-auth password."""
    repo = make_repo("vault")
    repo.commit("Ada Lovelace", "ada@northwind.test", {"README.md": "# Vault\n\nKey rotation runbook.\n"})
    fake = FakeForge("github", "northwind", git_root=repo.path.parent)
    fake.git_password = SECRET
    yield repo, fake
    fake.stop()


def test_a_git_mirror_keeps_no_credential_at_rest_and_still_fetches(tmp_path, private_remote):
    repo, fake = private_remote
    clean = fake.git_url("vault")
    url = clean.replace("http://", f"http://deploy:{SECRET}@")
    config = write_config(tmp_path, [{"kind": "git", "name": "vault", "team": "ML", "url": url}], teams=["ML"])
    guild = Guild.from_config(config)
    try:
        assert guild.crawl().sources[0].ok
        repo.commit("Bob Stone", "bob@northwind.test", {"docs/rotation.md": "# Rotation\n\nRotate the HSM keys yearly.\n"})
        s = guild.crawl().sources[0]
        assert s.ok and s.added == 2  # fetched again with the same credentials: the new page and its commit
    finally:
        guild.close()
    assert [r["status"] for r in fake.log if r["path"].startswith("/git/")].count(200) >= 4  # it really cloned and fetched
    data = tmp_path / "data"
    assert _origin(data / "sources" / "vault" / "repo.git") == clean  # incremental fetches need no credential on disk
    assert _holding(data, SECRET) == []


def test_a_mirror_cloned_with_credentials_in_its_config_loses_them_on_the_next_fetch(tmp_path, private_remote):
    repo, fake = private_remote
    clean = fake.git_url("vault")
    url = clean.replace("http://", f"http://deploy:{SECRET}@")
    mirror = tmp_path / "data" / "sources" / "vault" / "repo.git"
    subprocess.run(["git", "clone", "--mirror", "--quiet", url, str(mirror)], check=True, capture_output=True)
    assert _holding(tmp_path / "data", SECRET) == ["sources/vault/repo.git/config"]  # as the mirrors used to be
    config = write_config(tmp_path, [{"kind": "git", "name": "vault", "team": "ML", "url": url}], teams=["ML"])
    guild = Guild.from_config(config)
    try:
        repo.commit("Bob Stone", "bob@northwind.test", {"docs/rotation.md": "# Rotation\n\nRotate the HSM keys yearly.\n"})
        assert guild.crawl().sources[0].ok
        assert guild.store.query("SELECT 1 FROM documents WHERE path = 'docs/rotation.md'")
    finally:
        guild.close()
    assert _origin(mirror) == clean and _holding(tmp_path / "data", SECRET) == []


def test_environment_secrets_are_registered_by_name():
    from connectors.common.redact import register_env_secrets

    register_env_secrets({"SLACK_BOT_TOKEN": "xoxb-111-222-abcdef", "CONFLUENCE_PAT": "pat-value-123",
                          "SLACK_SIGNING_SECRET": "signsecret42", "HOME": "/home/ada-lovelace"})
    assert redact("tokens xoxb-111-222-abcdef pat-value-123 signsecret42 in /home/ada-lovelace") == \
        f"tokens {MASK} {MASK} {MASK} in /home/ada-lovelace"
