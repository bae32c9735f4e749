"""Numbers on the command line are validated where they enter: below 1 or not a number is exit 2."""
from __future__ import annotations

import pytest

from guildbot.cli import main as cli

BAD = [["search", "q", "--limit", "-1"], ["search", "q", "--limit", "0"], ["who", "q", "--limit", "-1"],
       ["who", "q", "--limit", "ten"], ["overlaps", "--limit", "0"], ["similar", "ada", "--limit", "-3"],
       ["serve", "--port", "0"], ["serve", "--port", "70000"], ["slack-console", "--timeout", "-1"],
       ["slack-console", "--timeout", "nan"]]


@pytest.mark.parametrize("argv", BAD, ids=" ".join)
def test_bad_numbers_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--config", "/nonexistent/guild.toml", *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {argv[-2]}" in err and "Traceback" not in err  # the number, not something else


def test_a_good_limit_reaches_the_command(tmp_path, capsys):
    from conftest import write_config

    config = write_config(tmp_path, [], teams=["T"])
    assert cli.main(["--config", str(config), "overlaps", "--limit", "3", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
