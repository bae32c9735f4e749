"""[guild] database and GUILDBOT_DATABASE: which index the guild uses, and passwords kept out of guild.toml."""
from __future__ import annotations

import pytest

from conftest import write_config
from guildbot.cli import main as cli
from guildbot.config.loader import ConfigError, load_config


def _config(tmp_path, line: str = ""):
    path = write_config(tmp_path, [], teams=["T"])
    if line:
        path.write_text(path.read_text().replace("[guild]\n", f"[guild]\n{line}\n", 1))
    return path


def test_the_default_is_the_embedded_index(tmp_path, monkeypatch):
    monkeypatch.delenv("GUILDBOT_DATABASE", raising=False)
    assert load_config(_config(tmp_path)).database == ""


def test_the_file_names_a_postgres_database(tmp_path, monkeypatch):
    monkeypatch.delenv("GUILDBOT_DATABASE", raising=False)
    cfg = load_config(_config(tmp_path, 'database = "postgresql://guild@db.internal:5432/guild"'))
    assert cfg.database == "postgresql://guild@db.internal:5432/guild"


def test_the_environment_overrides_the_file_and_may_carry_the_password(tmp_path, monkeypatch):
    monkeypatch.setenv("GUILDBOT_DATABASE", "postgresql://guild:s3cret@db2/guild")
    cfg = load_config(_config(tmp_path, 'database = "postgresql://guild@db.internal/guild"'))
    assert cfg.database == "postgresql://guild:s3cret@db2/guild"


@pytest.mark.parametrize("line, problem, fix", [
    ('database = "postgresql://guild:s3cret@db/guild"', "password is written in guild.toml", "PGPASSWORD"),
    ('database = "postgresql://guild@db/guild?password=s3cret"', "password is written in guild.toml", "PGPASSWORD"),
    ('database = "mysql://guild@db/guild"', "only Postgres is supported", "postgresql://"),
    ("database = 5", "must be a string", "postgresql://"),
])
def test_mistakes_name_the_entry_and_the_fix(tmp_path, monkeypatch, line, problem, fix):
    monkeypatch.delenv("GUILDBOT_DATABASE", raising=False)
    with pytest.raises(ConfigError) as e:
        load_config(_config(tmp_path, line))
    assert "[guild] database" in str(e.value) and problem in str(e.value) and fix in str(e.value)
    assert "s3cret" not in str(e.value)


def test_an_unreachable_database_is_a_clear_error_with_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GUILDBOT_DATABASE", "postgresql://guild@127.0.0.1:9/guild")  # nothing listens on port 9
    assert cli.main(["--config", str(_config(tmp_path)), "search", "drift"]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to the Postgres database" in err and "GUILDBOT_DATABASE" in err and "Traceback" not in err
