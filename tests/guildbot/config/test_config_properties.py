"""Property-based tests (hypothesis) for guild.toml: any file, any TOML, only Config or ConfigError."""
from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guildbot.config.loader import Config, ConfigError, load_config

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
KEYS = st.one_of(st.sampled_from(["name", "data_dir", "model", "directory", "aliases", "identities", "action",
                                  "kind", "team", "url", "path", "prefix", "org", "group", "api_url", "token_env",
                                  "include", "exclude", "archived", "max_pages", "max_depth", "spaces", "branch",
                                  "slack_channel", "visibility"]), TEXT)
SCALARS = st.one_of(TEXT, st.integers(-2**63, 2**63 - 1), st.booleans(),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(["git", "files", "web", "mediawiki", "confluence", "github", "gitlab", "ML",
                                     ".", "/", "merge", "split", "../x", "~/y"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)
SECTIONS = st.dictionaries(
    st.one_of(st.sampled_from(["guild", "people", "teams", "sources"]), TEXT),
    st.one_of(VALUES, st.dictionaries(KEYS, VALUES, max_size=6),
              st.lists(st.dictionaries(KEYS, VALUES, max_size=6), max_size=3)), max_size=5)


def toml(value) -> str:
    """A TOML value (inline tables and arrays) for any value the strategies make."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        assert math.isfinite(value)
        return repr(value) if "e" in repr(value) or "." in repr(value) else repr(value) + ".0"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{_string(k)} = {toml(v)}" for k, v in value.items()) + "}"


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes, but astral characters raw and DEL escaped, as TOML wants."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def document(sections: dict) -> str:
    return "\n".join(f"{_string(k)} = {toml(v)}" for k, v in sections.items()) + "\n"


def _load(tmp_path_factory, text: bytes):
    folder = tmp_path_factory.mktemp("cfg")
    path = folder / "guild.toml"
    path.write_bytes(text)
    try:
        return load_config(path)
    except ConfigError as e:
        assert str(path) in str(e) and "fix:" in str(e)
        return e


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(SECTIONS)
def test_any_toml_document_loads_or_is_a_config_error(tmp_path_factory, sections):
    result = _load(tmp_path_factory, document(sections).encode())
    assert isinstance(result, (Config, ConfigError))


VALID = {"guild": {"name": "Northwind", "data_dir": ".guildbot"},
         "people": {"aliases": [{"identities": ["ada@corp.com", "wiki:ada"], "action": "merge"}]},
         "teams": [{"name": "ML", "slack_channel": "#ml"}],
         "sources": [{"kind": "git", "name": "repo", "team": "ML", "url": "repo"},
                     {"kind": "web", "name": "docs", "team": "ML", "url": "http://docs.internal/", "max_pages": 5},
                     {"kind": "github", "name": "gh", "team": "ML", "org": "northwind"}]}
PATHS = [("guild", k) for k in ("name", "data_dir", "model")] + [("people", "aliases"), ("people", "directory"),
         ("teams",), ("sources",)] + [("teams", 0, k) for k in ("name", "slack_channel")] + \
        [("sources", i, k) for i in range(3) for k in ("kind", "name", "team", "url", "max_pages", "org", "include")] + \
        [("people", "aliases", 0, k) for k in ("identities", "action", "name")]


def _child(node, key):
    if isinstance(node, dict) and isinstance(key, str):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=3))
def test_a_valid_config_with_any_field_replaced_loads_or_is_a_config_error(tmp_path_factory, edits):
    data = json.loads(json.dumps(VALID))
    for where, value in edits:
        node = data
        for key in where[:-1]:  # an earlier edit may have replaced a table on the way: skip this edit then
            node = _child(node, key)
        last = where[-1]
        if isinstance(node, dict) and isinstance(last, str) or isinstance(node, list) and _child(node, last) is not None:
            node[last] = value
    assert isinstance(_load(tmp_path_factory, document(data).encode()), (Config, ConfigError))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200) | TEXT.map(str.encode))
def test_any_bytes_load_or_are_a_config_error(tmp_path_factory, raw):
    assert isinstance(_load(tmp_path_factory, raw), (Config, ConfigError))
