"""Identity resolution: merging rules, and the refusal to merge two directory people."""
import json

import pytest

from connectors.base import Contributor, Document
from index.people.resolve import identity_keys, norm_name, resolve
from index.storage.sqlite.store import Store


def add_doc(store, doc_id, *contributors, kind="git", team="T"):
    with store.transaction():
        store.put_document(Document(id=doc_id, source="s", team=team, kind="doc", title=doc_id, text="t",
                                    contributors=list(contributors)), "h", kind)


def person_groups(store):
    rows = store.query("SELECT person_id, name, email, username FROM identities WHERE person_id IS NOT NULL")
    groups = {}
    for r in rows:
        groups.setdefault(r["person_id"], set()).add(r["email"] or r["username"] or r["name"])
    return sorted(sorted(g) for g in groups.values())


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path)
    yield s
    s.close()


def test_norm_name():
    assert norm_name("  José  García-López ") == "jose garcia lopez"


def test_merge_by_email_case_insensitive(store):
    add_doc(store, "a", Contributor(name="Ada Lovelace", email="Ada@Acme.example"))
    add_doc(store, "b", Contributor(name="A. Lovelace", email="ada@acme.example"))
    resolve(store)
    assert store.count("people") == 1


def test_merge_by_normalised_name(store):
    add_doc(store, "a", Contributor(name="José García", email="jg@home.example"))
    add_doc(store, "b", Contributor(name="Jose  Garcia", email="jose@acme.example"))
    resolve(store)
    assert store.count("people") == 1


def test_merge_by_github_noreply_handle_and_wiki_username(store):
    add_doc(store, "a", Contributor(name="octo", email="12345+adalove@users.noreply.github.com"))
    add_doc(store, "b", Contributor(name="Ada Lovelace", email="adalove@gmail.com"))
    add_doc(store, "c", Contributor(username="adalove"), kind="mediawiki")
    resolve(store)
    assert person_groups(store) == [sorted(["12345+adalove@users.noreply.github.com", "adalove@gmail.com", "adalove"])]


def test_wiki_username_matches_email_local_part(store):
    add_doc(store, "a", Contributor(name="Grace Hopper", email="grace.hopper@acme.example"))
    add_doc(store, "b", Contributor(username="grace.hopper"), kind="mediawiki")
    resolve(store)
    assert store.count("people") == 1


def test_different_people_stay_apart(store):
    add_doc(store, "a", Contributor(name="Ada Lovelace", email="ada@acme.example"))
    add_doc(store, "b", Contributor(name="Grace Hopper", email="grace@acme.example"))
    add_doc(store, "c", Contributor(name="Alan Turing", email="info@turing.example"))
    add_doc(store, "d", Contributor(name="Joan Clarke", email="info@clarke.example"))  # generic local part
    resolve(store)
    assert store.count("people") == 4


def test_two_directory_people_are_never_merged(store):
    directory = [
        {"name": "Mei Lin", "email": "mei.lin@acme.example", "team": "Platform", "slack_id": "U1", "tz": ""},
        {"name": "Mei Lin", "email": "mei.lin2@acme.example", "team": "Market", "slack_id": "U2", "tz": ""},
    ]
    add_doc(store, "a", Contributor(name="Mei Lin", email="mei.lin@acme.example"))
    add_doc(store, "b", Contributor(name="Mei Lin", email="mei.lin2@acme.example"))
    add_doc(store, "c", Contributor(name="Mei Lin", email="mei@home.example"))  # same name as both: joins one only
    report = resolve(store, directory)
    people = store.query("SELECT name, team, slack_id, emails FROM people ORDER BY slack_id")
    assert [(p["name"], p["team"], p["slack_id"]) for p in people] == [("Mei Lin", "Platform", "U1"), ("Mei Lin", "Market", "U2")]
    assert json.loads(people[0]["emails"])[0] == "mei.lin@acme.example"
    assert json.loads(people[1]["emails"]) == ["mei.lin2@acme.example"] or "mei.lin2@acme.example" in people[1]["emails"]
    assert report.refused, "the name collision must be reported as refused"


def test_directory_gives_name_team_slack(store):
    add_doc(store, "a", Contributor(name="ada", email="ada.lovelace@acme.example"), team="Feed")
    resolve(store, [{"name": "Ada Lovelace", "email": "ada.lovelace@acme.example", "team": "Risk",
                     "slack_id": "UADA", "tz": "Europe/London"}])
    p = store.query("SELECT * FROM people")[0]
    assert (p["name"], p["team"], p["slack_id"], p["tz"]) == ("Ada Lovelace", "Risk", "UADA", "Europe/London")


def test_team_from_contributions_without_directory(store):
    add_doc(store, "a", Contributor(name="Bob Stone", email="bob@x.example", count=9), team="Feed")
    add_doc(store, "b", Contributor(name="Bob Stone", email="bob@x.example", count=1), team="Risk")
    resolve(store)
    assert store.query("SELECT team FROM people")[0]["team"] == "Feed"


def test_bots_never_become_people(store):
    add_doc(store, "a", Contributor(name="dependabot[bot]", email="49699333+dependabot[bot]@users.noreply.github.com"),
            Contributor(name="Ada Lovelace", email="ada@acme.example"))
    add_doc(store, "b", Contributor(username="MaintenanceBot"), kind="mediawiki")
    report = resolve(store)
    assert [p["name"] for p in store.query("SELECT name FROM people")] == ["Ada Lovelace"]
    assert report.bots == 2


def test_keys_are_tiered_by_certainty():
    keys = dict((k, t) for t, k in identity_keys({"name": "Ada Lovelace", "email": "ada.l@acme.example", "username": ""}))
    assert keys["e:ada.l@acme.example"] == 0 and keys["u:adal"] == 1 and keys["n:ada lovelace"] == 2


def test_a_shared_first_name_is_not_a_handle(store):
    # 'kenji' is the one-word git name of two different people: it must link neither to the other
    add_doc(store, "a", Contributor(name="Kenji Tanaka", email="kenji.tanaka@corp.example"))
    add_doc(store, "b", Contributor(name="kenji", email="kenji.tanaka@corp.example"))
    add_doc(store, "c", Contributor(name="Kenji Meyer", email="kmeyer@corp.example"))
    add_doc(store, "d", Contributor(name="kenji", email="kenji@home.example"))
    add_doc(store, "e", Contributor(name="Kenji Meyer", email="kenji@home.example"))
    resolve(store)
    assert person_groups(store) == [["kenji.tanaka@corp.example"], ["kenji@home.example", "kmeyer@corp.example"]]


def test_conflicting_full_names_are_not_merged_by_a_handle(store):
    add_doc(store, "a", Contributor(name="Ana Silva", email="asilva@one.example"))
    add_doc(store, "b", Contributor(name="Andre Silva", email="asilva@two.example"))  # same local part
    add_doc(store, "c", Contributor(name="Ada L", email="ada.l@x.example"))
    add_doc(store, "d", Contributor(name="Ada Lovelace", email="ada.l@y.example"))  # initial agrees: same person
    report = resolve(store)
    assert person_groups(store) == [["ada.l@x.example", "ada.l@y.example"], ["asilva@one.example"], ["asilva@two.example"]]
    assert not any("u:asilva" == reason for _, _, reason in report.refused)  # 'asilva' compacts both names: no key at all


def test_directory_email_is_listed_first(store):
    add_doc(store, "a", Contributor(name="Ada Lovelace", email="aaa.personal@gmail.com"))
    add_doc(store, "b", Contributor(name="Ada Lovelace", email="ada.lovelace@acme.example"))
    resolve(store, [{"name": "Ada Lovelace", "email": "ada.lovelace@acme.example", "team": "R", "slack_id": "", "tz": ""}])
    assert json.loads(store.query("SELECT emails FROM people")[0]["emails"]) == ["ada.lovelace@acme.example",
                                                                                 "aaa.personal@gmail.com"]


def add_to(store, source, doc_id, *contributors):
    with store.transaction():
        store.put_document(Document(id=f"{source}:{doc_id}", source=source, team="T", kind="doc", title=doc_id,
                                    text="t", contributors=list(contributors)), "h", "git")


def names(store):
    return sorted(r["name"] for r in store.query("SELECT name FROM people"))


def test_a_first_name_joins_the_one_full_name_of_its_repositories(store):
    from index.people.ambiguity import find_ambiguous

    add_to(store, "optim", "a", Contributor(name="Viktor Petrov", email="vp@corp.example"))
    add_to(store, "optim", "b", Contributor(name="viktor", email="viktor.dev@gmail.com", count=30))
    add_to(store, "other", "c", Contributor(name="Viktor Lund", email="vl@corp.example"))  # another repository
    report = resolve(store)
    assert names(store) == ["Viktor Lund", "Viktor Petrov"]
    assert len(report.joins) == 1
    joined = [a for a in find_ambiguous(store) if a.kind == "inferred_join"]
    assert len(joined) == 1 and "viktor.dev@gmail.com" in joined[0].identity
    assert "Viktor Petrov" in joined[0].person and "first name 'viktor'" in joined[0].detail and "optim" in joined[0].detail


def test_a_first_name_shared_in_its_repositories_never_joins(store):
    add_to(store, "optim", "a", Contributor(name="Viktor Petrov", email="vp@corp.example"))
    add_to(store, "optim", "b", Contributor(name="Viktor Lund", email="vl@corp.example"))
    add_to(store, "optim", "c", Contributor(name="viktor", email="viktor.dev@gmail.com"))
    report = resolve(store)
    assert names(store) == ["Viktor Lund", "Viktor Petrov", "viktor"] and report.joins == []


def test_first_names_never_merge_two_directory_people(store):
    directory = [{"name": n, "email": e, "team": "T", "slack_id": "", "tz": ""}
                 for n, e in (("Ines Duarte", "ines.duarte@acme.example"), ("Ines Moreau", "ines.moreau@acme.example"))]
    add_to(store, "r", "a", Contributor(name="Ines Duarte", email="ines.duarte@acme.example"))
    add_to(store, "r", "b", Contributor(name="Ines Moreau", email="ines.moreau@acme.example"))
    add_to(store, "r", "c", Contributor(name="ines", email="ines@home.example"))
    resolve(store, directory)
    assert names(store) == ["Ines Duarte", "Ines Moreau", "ines"]


@pytest.mark.parametrize("name, email", [("mateoegan", "12+mateoegan@users.noreply.github.com"),
                                         ("eganmateo", "12+em@users.noreply.github.com"), ("MateoEgan", "")])
def test_a_handle_made_of_name_parts_joins_and_is_not_listed(store, name, email):
    from index.people.ambiguity import find_ambiguous

    add_to(store, "r", "a", Contributor(name="Mateo Egan", email="m.egan@acme.example"))
    add_to(store, "r", "b", Contributor(name=name, email=email, count=50))
    report = resolve(store, [{"name": "Mateo Egan", "email": "m.egan@acme.example", "team": "T", "slack_id": "", "tz": ""}])
    assert names(store) == ["Mateo Egan"]
    assert any("parts of the name 'Mateo Egan'" in reason for _, _, reason in report.joins)
    assert not [a for a in find_ambiguous(store) if a.kind in ("inferred_join", "ambiguous_handle")]


def test_a_person_is_shown_by_a_real_name_not_a_busier_handle(store):
    add_to(store, "r", "a", Contributor(name="felixberg", email="felix@berg.example", count=500))
    add_to(store, "r", "b", Contributor(name="Felix Berg", email="felix@berg.example", count=2))
    resolve(store)
    assert names(store) == ["Felix Berg"]
    aliases = json.loads(store.query("SELECT aliases FROM people")[0]["aliases"])
    assert aliases == ["felixberg"]


@pytest.mark.parametrize("email, joins", [("12+gitaegan@users.noreply.github.com", False), ("gita.egan@home.example", False),
                                          ("gita@home.example", True), ("gitak@home.example", True),
                                          ("12+kaurgita@users.noreply.github.com", True)])
def test_a_first_name_whose_handle_spells_another_surname_does_not_join(store, email, joins):
    add_to(store, "econ", "a", Contributor(name="Gita Kaur", email="gk@corp.example", count=300))
    add_to(store, "econ", "b", Contributor(name="gita", email=email))
    add_to(store, "other", "c", Contributor(name="Aiko Egan", email="ae@corp.example"))  # Egan: a surname of the org
    report = resolve(store)
    # the handle spells a first name and a surname of the org: shown as that name, but joined to nobody
    shown = "Gita Egan" if email.startswith(("gita.egan@", "12+gitaegan@")) else "gita"
    assert names(store) == (["Aiko Egan", "Gita Kaur"] if joins else sorted(["Aiko Egan", "Gita Kaur", shown]))
    assert len(report.joins) == (1 if joins else 0)


@pytest.mark.parametrize("contributor", [
    Contributor(name="janedoe", email="jd1984@home.example"),
    Contributor(name="jane.doe", email="jd1984@home.example"),
    Contributor(name="doejane", email="jd1984@home.example"),
    Contributor(name="Jane", email="doe-j@home.example"),
    Contributor(name="jdoe", email="jd1984@home.example"),
    Contributor(name="jd", email="7+jane-doe@users.noreply.github.com"),
    Contributor(name="jd", email="7+doejane@corp.noreply.github.com"),  # any noreply subdomain
    Contributor(name="jd", email="9+jdoe@users.noreply.gitlab.com"),
])
def test_a_handle_compacting_a_name_in_any_order_joins_it(store, contributor):
    add_to(store, "r", "a", Contributor(name="Jane Doe", email="jane@corp.example", count=5))
    add_to(store, "r", "b", Contributor(name="Pat Roe", email="pat@corp.example"))
    add_to(store, "r", "c", contributor)
    resolve(store)
    assert names(store) == ["Jane Doe", "Pat Roe"]


def test_a_handle_compacting_two_names_of_the_org_joins_neither_and_is_listed(store):
    from index.people.ambiguity import find_ambiguous

    add_to(store, "r", "a", Contributor(name="Jane Doe", email="jane@corp.example"))
    add_to(store, "s", "b", Contributor(name="John Doe", email="john@corp.example"))
    add_to(store, "r", "c", Contributor(name="jdoe", email="jdoe@home.example", count=40))
    add_to(store, "r", "d", Contributor(name="doejane", email="dj@home.example"))  # only Jane Doe compacts to this
    resolve(store)
    assert person_groups(store) == [["dj@home.example", "jane@corp.example"], ["jdoe@home.example"], ["john@corp.example"]]
    listed = [a for a in find_ambiguous(store) if a.kind == "ambiguous_handle"]
    assert len(listed) == 1 and "jdoe@home.example" in listed[0].identity
    assert listed[0].candidates == ["Jane Doe", "John Doe"] and "'jdoe'" in listed[0].detail


def test_the_same_email_local_part_joins_a_name_to_its_handle(store):
    add_to(store, "r", "a", Contributor(name="Tomas Larsen", email="tomas.larsen@corp.example"))
    add_to(store, "r", "b", Contributor(name="tomas", email="tomas.larsen@gmail.example", count=30))
    resolve(store)
    assert names(store) == ["Tomas Larsen"]


def test_a_person_known_by_handles_is_shown_by_the_name_they_spell(store):
    # no identity writes the name with a space; 'tomas' is busier, but the local part spells the name
    add_to(store, "r", "a", Contributor(name="tomas", email="tomas.larsen@corp.example", count=40))
    add_to(store, "r", "b", Contributor(name="tomaslarsen", email="tomas.larsen@corp.example", count=2))
    add_to(store, "w", "c", Contributor(username="Aiko.kowalski", count=90))
    add_to(store, "r", "d", Contributor(name="aikokowalski", email="aiko.kowalski@gmail.example"))
    add_to(store, "r", "e", Contributor(name="devteam", email="dev.team@corp.example"))  # a generic address spells no name
    resolve(store)
    assert names(store) == ["Aiko Kowalski", "Tomas Larsen", "devteam"]
    aliases = json.loads(store.query("SELECT aliases FROM people WHERE name = 'Tomas Larsen'")[0]["aliases"])
    assert aliases == ["tomas", "tomaslarsen"]  # the handles stay searchable


def test_a_written_name_beats_a_busier_dotted_username(store):
    add_to(store, "w", "a", Contributor(username="Tomas.berg", count=300))
    add_to(store, "r", "b", Contributor(name="Tomas Berg", email="tomas.berg@gmail.example", count=3))
    resolve(store)
    assert names(store) == ["Tomas Berg"]


def test_a_glued_handle_is_shown_as_the_first_name_and_surname_of_the_org_it_spells(store):
    add_to(store, "r", "a", Contributor(name="Ilya Costa", email="ilya@corp.example"))
    add_to(store, "r", "b", Contributor(name="Nadia Iqbal", email="nadia@corp.example"))
    add_to(store, "r", "c", Contributor(name="ilyaiqbal", email="66+ilyaiqbal@users.noreply.github.com", count=9))
    add_to(store, "r", "d", Contributor(name="quokka", email="77+quokkafan@users.noreply.github.com"))  # spells no name
    resolve(store)
    assert names(store) == ["Ilya Costa", "Ilya Iqbal", "Nadia Iqbal", "quokka"]  # shown by name, not merged
