"""People surfaces: person profiles, similar people, ambiguous identities, and alias rules."""
import json

import pytest

from connectors.base import Contributor, Document
from guildbot.cli.main import main
from guildbot.config.loader import AliasRule
from index.people.ambiguity import find_ambiguous
from index.people.resolve import norm_name, resolve
from index.expertise.profiles import AmbiguousPerson, find_person
from index.storage.sqlite.store import Store

BOTS = ("dependabot", "github-actions", "[bot]")


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path)
    yield s
    s.close()


def add_doc(store, doc_id, *contributors, kind="git", team="T"):
    with store.transaction():
        store.put_document(Document(id=doc_id, source="s", team=team, kind="doc", title=doc_id, text="t",
                                    contributors=list(contributors)), "h", kind)


def person_of(store, **where):
    (key, value), = where.items()
    rows = store.query(f"SELECT DISTINCT person_id FROM identities WHERE {key} = ?", [value])
    assert len(rows) == 1, rows
    return rows[0]["person_id"]


MEI = [{"name": "Mei Lin", "email": "mei.lin@acme.example", "team": "Platform", "slack_id": "U1", "tz": ""},
       {"name": "Mei Lin", "email": "mei.lin2@acme.example", "team": "Market", "slack_id": "U2", "tz": ""}]


# -- alias rules ---------------------------------------------------------------------------------------
def test_merge_rule_joins_identities_no_automatic_rule_would(store):
    add_doc(store, "a", Contributor(name="Priya Raman", email="priya.raman@acme.example"))
    add_doc(store, "b", Contributor(name="pr", email="x7@home.example"))  # nothing in common with Priya
    add_doc(store, "c", Contributor(username="Prr"), kind="mediawiki")
    resolve(store)
    assert store.count("people") == 3
    rule = AliasRule(["priya.raman@acme.example", "x7@home.example", "mediawiki:prr"], "merge", "Priya R.")
    resolve(store, aliases=[rule])
    people = store.query("SELECT name, emails, aliases FROM people")
    assert len(people) == 1
    assert people[0]["name"] == "Priya R."
    assert set(json.loads(people[0]["emails"])) == {"priya.raman@acme.example", "x7@home.example"}
    assert "Priya R." not in json.loads(people[0]["aliases"])


def test_split_rule_keeps_apart_identities_the_rules_would_join(store):
    add_doc(store, "a", Contributor(name="Tomás Ortega", email="tomas@acme.example"))
    add_doc(store, "b", Contributor(name="Tomás Ortega", email="tomas@acme.example"), kind="files")
    directory = [{"name": "Tomás Ortega", "email": "tomas@acme.example", "team": "Feed", "slack_id": "U9", "tz": ""}]
    resolve(store, directory)
    assert store.count("people") == 1  # same email: one person without the rule
    report = resolve(store, directory, [AliasRule(["git:tomás ortega", "files:tomás ortega"], "split")])
    git_person = person_of(store, id="git:tomás ortega|tomas@acme.example|")
    files_person = person_of(store, id="files:tomás ortega|tomas@acme.example|")
    assert git_person != files_person
    assert store.count("people") == 2  # both people rows exist: a split never collapses on a shared email
    # the directory person keeps one of them: a split anchor does not clash with a directory anchor
    directory_person = person_of(store, id="directory:tomas@acme.example")
    assert directory_person in (git_person, files_person)
    assert store.query("SELECT slack_id FROM people WHERE id = ?", [directory_person])[0]["slack_id"] == "U9"
    assert report.refused


def test_wiki_prefix_in_an_alias_rule_names_wiki_identities(store):
    add_doc(store, "a", Contributor(name="Ada Lovelace", email="ada@acme.example"))
    add_doc(store, "b", Contributor(username="countess"), kind="mediawiki")
    resolve(store, aliases=[AliasRule(["ada@acme.example", "wiki:countess"], "merge")])
    assert store.count("people") == 1


# -- ambiguous identities ---------------------------------------------------------------------------
def test_refused_merge_and_name_collision_are_listed(store):
    add_doc(store, "a", Contributor(name="Mei Lin", email="mei.lin@acme.example"))
    add_doc(store, "b", Contributor(name="Mei Lin"), kind="mediawiki")  # no email: which Mei Lin?
    resolve(store, MEI)
    found = find_ambiguous(store)
    kinds = [a.kind for a in found]
    assert "refused_merge" in kinds
    collision = next(a for a in found if a.kind == "name_collision")
    assert collision.identity == "mediawiki: Mei Lin"
    assert len(collision.candidates) == 2
    # the git identity has the directory email: placed with confidence, never listed
    assert not any("mei.lin@acme.example>" in a.identity and a.kind != "refused_merge" for a in found)


def test_one_word_name_without_email_is_listed(store):
    add_doc(store, "a", Contributor(name="Priya Raman", email="priya@acme.example"))
    add_doc(store, "b", Contributor(name="priya"), kind="files")
    resolve(store)
    assert store.count("people") == 1  # joined through the handle 'priya'
    found = find_ambiguous(store)
    assert [(a.kind, a.identity) for a in found] == [("one_word_name", "files: priya")]


def test_people_unknown_to_the_directory_are_listed_and_merge_rules_settle_identities(store):
    add_doc(store, "a", Contributor(name="Mei Lin", email="mei.lin@acme.example"))
    add_doc(store, "b", Contributor(name="Mei Lin"), kind="mediawiki")
    add_doc(store, "c", Contributor(name="Zed Outsider", email="zed@elsewhere.example"), team="Feed")
    add_doc(store, "d", Contributor(name="Zed Outsider", email="zed@elsewhere.example"), team="Risk")
    add_doc(store, "e", Contributor(name="Yan Insider", email="yan@elsewhere.example", count=5), team="Feed")
    rule = AliasRule(["mediawiki:mei lin", "mei.lin2@acme.example"], "merge")
    resolve(store, MEI, [rule])
    found = find_ambiguous(store, [rule])
    assert not any(a.kind == "name_collision" for a in found)  # the rule placed the wiki identity
    outsider = [a for a in found if a.kind == "not_in_directory"]
    # Zed's work splits between two teams: their team is a guess; Yan only ever worked in Feed's documents
    assert [a.identity for a in outsider] == ["git: Zed Outsider <zed@elsewhere.example>"]
    assert "Feed 1" in outsider[0].detail and "Risk 1" in outsider[0].detail


def test_find_person_by_name_email_handle_and_first_name(store):
    add_doc(store, "a", Contributor(name="Omar Haddad", email="omar.haddad@acme.example"))
    add_doc(store, "b", Contributor(name="Mei Lin", email="mei.lin2@acme.example"))
    add_doc(store, "c", Contributor(name="Mei Lin", email="mei.lin@acme.example"))
    resolve(store, MEI)
    pid = person_of(store, email="omar.haddad@acme.example")
    for q in ("Omar Haddad", "omar.haddad@acme.example", "OMAR.HADDAD@acme.example", "@omar-haddad", "omar"):
        assert find_person(store, q)["id"] == pid, q
    assert find_person(store, "nobody at all") is None
    with pytest.raises(AmbiguousPerson) as e:
        find_person(store, "Mei Lin")
    assert len(e.value.candidates) == 2
    assert find_person(store, "mei.lin2@acme.example")["team"] == "Market"


# -- the demo org -------------------------------------------------------------------------------------
def test_a_person_with_several_identities_appears_once(demo_guild, demo_dir, capsys):
    assert main(["--config", str(demo_dir / "guild.toml"), "people", "--json"]) == 0
    people = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in people].count("Priya Raman") == 1
    priya = demo_guild.person("priya.raman@acme.example")
    assert priya.name == "Priya Raman" and priya.team == "Home Feed"
    # every identity that carries her name, in any source, is hers
    idents = demo_guild.store.query("SELECT kind, name, email, person_id FROM identities")
    hers = [i for i in idents if norm_name(i["name"] or "") == "priya raman"]
    assert {i["person_id"] for i in hers} == {priya.person_id}
    assert {i["kind"] for i in priya.identities} >= {"git", "files", "directory"}
    assert {i["email"] for i in hers if i["email"]} <= set(priya.emails)
    assert "priya.raman" in priya.aliases  # the wiki author name
    for q in ("Priya Raman", "priya", "U01PRIYA", "@priya-raman"):
        assert demo_guild.person(q).person_id == priya.person_id, q


def test_bots_never_appear(demo_guild, demo_dir, capsys):
    config = str(demo_dir / "guild.toml")
    outputs = []
    for args in (["people", "--json"], ["people", "--ambiguous", "--json"], ["projects", "--json"],
                 ["similar", "Priya Raman", "--json"], ["overlaps", "--json"]):
        assert main(["--config", config, *args]) == 0
        outputs.append(capsys.readouterr().out)
    assert not any(b in out for out in outputs for b in BOTS)


def test_person_profile(demo_guild, demo_dir, capsys):
    p = demo_guild.person("Priya Raman")
    assert p.projects[0]["name"] == "feed-ranker"  # most of her work
    assert {"feed-ranker", "drift-watch", "wiki-home-feed"} <= {x["name"] for x in p.projects}
    assert p.topics
    dates = [r["last_at"] for r in p.recent]
    assert dates == sorted(dates, reverse=True)
    assert main(["--config", str(demo_dir / "guild.toml"), "person", "Mei Lin"]) == 2  # two directory people
    assert "matches 2 people" in capsys.readouterr().err
    assert main(["--config", str(demo_dir / "guild.toml"), "person", "mei.lin@acme.example", "--json"]) == 0
    mei = json.loads(capsys.readouterr().out)
    assert mei["team"] == "ML Platform"


def test_similar_people_are_in_other_teams_and_the_recommender_builders_meet(demo_guild):
    similar = demo_guild.similar("Priya Raman", limit=5)
    assert similar and all(s.team != "Home Feed" for s in similar)
    assert similar[0].team == "Marketplace"  # the other recommender team
    assert [s.score for s in similar] == sorted((s.score for s in similar), reverse=True)
    assert similar[0].evidence
    with pytest.raises(LookupError):
        demo_guild.similar("Nobody Here")


def test_ambiguous_on_the_demo_lists_the_two_mei_lins(demo_guild, demo_dir, capsys):
    found = demo_guild.ambiguous()
    refused = [a for a in found if a.kind == "refused_merge"]
    assert len(refused) == 1 and all("Mei Lin" in c for c in refused[0].candidates)
    assert main(["--config", str(demo_dir / "guild.toml"), "people", "--ambiguous"]) == 0
    assert "refused_merge" in capsys.readouterr().out
