"""guild.toml validation: each mistake gets one message naming the file, the entry and the fix, exit 2."""
import subprocess
import sys

import pytest

from guildbot.config.loader import ConfigError, load_config

GOOD = """
[guild]
name = "Acme"
[[teams]]
name = "Home Feed"
[[sources]]
kind = "git"
name = "ranker"
team = "Home Feed"
url = "/srv/ranker"
"""


def write(tmp_path, text):
    p = tmp_path / "guild.toml"
    p.write_text(text)
    return p


def test_valid_config_loads_with_defaults(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.name == "Acme"
    assert cfg.data_dir == tmp_path / ".guildbot"
    assert [(s.kind, s.name, s.team, s.options["url"]) for s in cfg.sources] == [("git", "ranker", "Home Feed", "/srv/ranker")]
    assert (cfg.backend, cfg.vector_index, cfg.exact_limit) == ("bf16", "auto", 100_000)


def test_the_environment_chooses_the_embedding_backend_over_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD.replace('name = "Acme"', 'name = "Acme"\nbackend = "onnx"'))
    monkeypatch.setenv("GUILDBOT_BACKEND", "torch")
    assert load_config(path).backend == "torch"
    monkeypatch.setenv("GUILDBOT_BACKEND", "tpu")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "GUILDBOT_BACKEND" in str(err.value) and "unknown embedding backend 'tpu'" in str(err.value)


@pytest.mark.parametrize("text, entry, problem, fix", [
    (GOOD.replace('kind = "git"', 'kind = "svn"'), "[[sources]] #1 (name = 'ranker')", "unknown source kind 'svn'", "use one of: git"),
    (GOOD.replace('url = "/srv/ranker"', ""), "[[sources]] #1", "missing required field `url`", "set `url`"),
    (GOOD + GOOD.split("[[sources]]")[1].join(["[[sources]]", ""]), "[[sources]] #2", "duplicate source name 'ranker'", "its own name"),
    (GOOD.replace('team = "Home Feed"', 'team = "Search"'), "[[sources]] #1", "team 'Search' is not declared", 'add [[teams]] name = "Search"'),
    (GOOD + '\n[people]\ndirectory = "nope.csv"\n', "[people] directory", "cannot read the people directory", "fix the path"),
    (GOOD.replace('name = "ranker"', 'name = "ranker"\nbranch = 3'), "[[sources]] #1", "`branch` must be a str", "set `branch`"),
    (GOOD.replace('url = "/srv/ranker"', 'url = "/srv/ranker"\ncolour = "blue"'), "[[sources]] #1", "unknown field `colour`", "git sources accept"),
    (GOOD.replace("[[sources]]", "[[source]]", 1), "[source]", "unknown section", "use only"),
    ("[guild\nname=1", "", "not valid TOML", "fix the syntax"),
    (GOOD.replace('name = "Acme"', 'name = "Acme"\nbackend = "gpu"'), "[guild] backend", "unknown embedding backend 'gpu'",
     "onnx, onnx-int8, torch"),
    (GOOD.replace('name = "Acme"', 'name = "Acme"\nvector_index = "annoy"'), "[guild] vector_index",
     "unknown vector index 'annoy'", "auto, flat, ivf-sq8, hnsw"),
    (GOOD.replace('name = "Acme"', 'name = "Acme"\nexact_limit = 0'), "[guild] exact_limit", "must be a positive number",
     "exact_limit = 100000"),
    (GOOD.replace('name = "Acme"', 'name = "Acme"\nexact_limit = "lots"'), "[guild]", "`exact_limit` must be a int",
     "exact_limit = 100000"),
])
def test_each_mistake_names_file_entry_and_fix(tmp_path, text, entry, problem, fix):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert entry in message
    assert problem in message
    assert fix in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml")


def test_unreadable_file(tmp_path):
    path = write(tmp_path, GOOD)
    path.chmod(0)
    try:
        if path.read_bytes():  # running as root: permissions do not apply, use a folder instead
            path = tmp_path / "folder.toml"
            path.mkdir()
    except PermissionError:
        pass
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(path)


@pytest.mark.parametrize("mutation", [
    lambda t: t.replace('kind = "git"', 'kind = "svn"'),
    lambda t: t.replace('team = "Home Feed"', 'team = "Nobody"'),
])
def test_cli_exits_2_without_traceback(tmp_path, mutation):
    path = write(tmp_path, mutation(GOOD))
    out = subprocess.run([sys.executable, "-m", "guildbot", "--config", str(path), "sources"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "configuration error" in out.stderr and str(path) in out.stderr and "fix:" in out.stderr


def test_unloadable_model_is_a_clear_error(tmp_path):
    path = write(tmp_path, GOOD.replace('name = "Acme"', 'name = "Acme"\nmodel = "/nowhere/model"'))
    out = subprocess.run([sys.executable, "-m", "guildbot", "--config", str(path), "search", "x"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "cannot load the embedding model '/nowhere/model'" in out.stderr and "Set [guild] model" in out.stderr


def test_knowledge_gaps_default_to_searchs_relevance_floor():
    """The digest's gaps and search's "nothing matched well" are one number unless guild.toml says otherwise."""
    from guildbot.config.sections import QueryLogConfig
    from index.retrieval.floor import RELEVANCE_FLOOR

    assert QueryLogConfig().weak_below == RELEVANCE_FLOOR
