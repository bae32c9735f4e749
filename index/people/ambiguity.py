"""Identities guildbot could not place with confidence, for a person to review.

Six kinds, most serious first:
- refused_merge: two groups shared a key (a name, a handle, an email) but each holds a different
  directory person or a different side of a split rule, so they were kept apart;
- name_collision: an identity without a directory email whose name or handle matches several
  directory people: it was placed with one of them by rule order, not by evidence;
- inferred_join: an identity known only by a one-word name, joined to a person because it is the
  first name of the only full name of that kind among the people of the same sources ("viktor" ->
  Viktor Petrov). A handle that spells the parts of one name of the org ("mateoegan", "m.egan") is
  that person, and is not listed;
- ambiguous_handle: an identity known only by a handle that several full names of the org compact to
  ('jdoe': Jane Doe and John Doe; 'kenji': Kenji Tanaka and Kenji Meyer), so it joined none of them;
- one_word_name: an identity without an email joined to its person only by a one-word name or
  handle ("priya"), which many people may share;
- not_in_directory: a person with contributions whom no directory row matched and whose team is a
  guess: no team owns most of the documents they contributed to (someone who only ever worked in
  one team's repositories is placed with that team and not listed).
Identities named by a `[[people.aliases]]` merge rule are settled and never listed.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from index.people.resolve import (_keys, _matches, ambiguous_handles, full_name, identity_keys, name_from_handle, name_handles,
                                  norm_name, written_name)
from index.storage import people as people_store
from index.storage.sqlite.store import Store

KINDS = ("refused_merge", "name_collision", "inferred_join", "ambiguous_handle", "one_word_name", "not_in_directory")


@dataclass
class Ambiguity:
    kind: str
    identity: str  # "git: Mei Lin <mei@x.org>"
    person: str  # who it was placed with ("" when nobody)
    detail: str
    candidates: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return asdict(self)


def describe_identity(r: dict[str, Any]) -> str:
    parts = [r["name"] or r["username"] or ""]
    if r["email"]:
        parts.append(f"<{r['email']}>")
    if r["username"] and r["username"] != r["name"]:
        parts.append(f"@{r['username']}")
    return f"{r['kind']}: " + " ".join(p for p in parts if p)


def _key_label(key: str) -> str:
    kind, _, value = key.partition(":")
    return {"e": f"the email {value}", "u": f"the handle {value!r}", "n": f"the name {value!r}"}.get(kind, key)


def _one_word(value: str) -> bool:
    return len(norm_name(value).split()) == 1


def find_ambiguous(store: Store, aliases: Iterable[Any] = ()) -> list[Ambiguity]:
    """Every identity or person whose placement deserves a second look; see the module doc."""
    idents = {r["id"]: r for r in people_store.identities(store)}
    people = {r["id"]: r for r in people_store.people(store)}
    merged_by_rule = {i for rule in aliases if getattr(rule, "action", "") == "merge"
                      for i, r in idents.items() if any(_matches(s, r) for s in rule.identities)}

    def person_label(pid: str | None) -> str:
        p = people.get(pid or "")
        if not p:
            return ""
        emails = json.loads(p["emails"] or "[]")
        return f"{p['name']} ({p['team'] or 'no team'}" + (f", {emails[0]})" if emails else ")")

    out: list[Ambiguity] = []
    # 1. merges refused because both sides were anchored
    pairs: dict[tuple[str, str], tuple[str, set[str]]] = {}
    for a, b, reason in json.loads(store.get_meta("people_refused", "[]") or "[]"):
        if a in idents and b in idents:
            pa, pb = idents[a]["person_id"], idents[b]["person_id"]
            if pa and pb and pa != pb:  # one entry per pair of people, whichever side the refusal came from
                pairs.setdefault((pa, pb) if (pb, pa) not in pairs else (pb, pa), (b, set()))[1].add(reason)
    for (pa, pb), (ident, reasons) in sorted(pairs.items()):
        shared = ", ".join(dict.fromkeys(_key_label(r) for r in sorted(reasons)))
        out.append(Ambiguity("refused_merge", describe_identity(idents[ident]), person_label(pb),
                             f"shares {shared} with {person_label(pa)}, but the two are different directory people "
                             "or sides of a split rule; identities matching only by these may belong to either",
                             [person_label(pa), person_label(pb)]))

    # keys of every directory person, and of every person's identities
    directory_keys: dict[str, set[str]] = defaultdict(set)  # key -> directory person ids
    members: dict[str, list[str]] = defaultdict(list)
    ambiguous = ambiguous_handles(idents.values())
    keys = {i: {k for _, k in identity_keys(r, ambiguous)} for i, r in idents.items()}  # the keys resolution used
    for i, r in idents.items():
        if r["person_id"]:
            members[r["person_id"]].append(i)
        if r["kind"] == "directory" and r["person_id"]:
            for k in keys[i]:
                directory_keys[k].add(r["person_id"])
    directory_emails = {r["email"] for r in idents.values() if r["kind"] == "directory" and r["email"]}

    inferred: dict[str, str] = {}
    for ident, _target, reason in json.loads(store.get_meta("people_joins", "[]") or "[]"):
        r = idents.get(ident)
        if r and r["person_id"] and ident not in merged_by_rule and ident not in inferred:
            inferred[ident] = reason
            out.append(Ambiguity("inferred_join", describe_identity(r), person_label(r["person_id"]),
                                 f"joined by {reason}; add a [[people.aliases]] split rule if this is someone else"))
    spelled_by: dict[str, set[str]] = defaultdict(set)  # ambiguous handle -> the full names it compacts
    for r in idents.values():
        tokens = full_name(r).split()
        for h in [tokens[0]] + name_handles(tokens) if tokens else []:
            if h in ambiguous:
                spelled_by[h].add(r["name"] if written_name(r["name"]) else name_from_handle(r["name"]) or r["name"])
    named_people = {r["person_id"] for r in idents.values() if full_name(r)}
    first_names = {n.split()[0] for r in idents.values() if (n := full_name(r))}
    for i, r in sorted(idents.items()):
        if r["kind"] == "directory" or not r["person_id"] or i in merged_by_rule or i in inferred:
            continue
        label = describe_identity(r)
        # a handle several names of the org compact to: it joined none of them
        handles = {k[2:] for _, k in _keys(r) if k.startswith("u:")}
        hit = sorted(handles & ambiguous)
        if hit and handles <= ambiguous and r["person_id"] not in named_people:  # no handle of its own ('brunonilsen') either
            names = sorted(set().union(*(spelled_by[h] for h in hit)))
            out.append(Ambiguity("ambiguous_handle", label, person_label(r["person_id"]),
                                 f"the handle {hit[0]!r} could be any of {', '.join(names)}; kept apart. "
                                 "Add a [[people.aliases]] merge rule naming the right one", names))
            continue
        # 2. a name or handle that several directory people carry
        if r["email"] not in directory_emails:
            matches = set().union(*(directory_keys.get(k, set()) for k in keys[i] if not k.startswith("e:")))
            if len(matches) > 1:
                out.append(Ambiguity("name_collision", label, person_label(r["person_id"]),
                                     f"its name or handle matches {len(matches)} directory people; placed with one by rule order",
                                     sorted(person_label(p) for p in matches)))
                continue
        # 3. no email, linked only through a one-word name or handle
        if not r["email"]:
            others = set().union(*(keys[j] for j in members[r["person_id"]] if j != i)) if len(members[r["person_id"]]) > 1 else set()
            shared = keys[i] & others
            # a one-word name many could go by: a first name of the org ('priya'), not a handle ('boacosta')
            weak = {f"u:{w}" for v in (r["name"], r["username"]) if v and _one_word(v)
                    if (w := norm_name(v).replace(' ', '')) in first_names}
            if shared and shared <= weak:
                out.append(Ambiguity("one_word_name", label, person_label(r["person_id"]),
                                     f"no email; joined only by the one-word name {sorted(shared)[0][2:]!r}"))
    # 4. people the directory does not know (only meaningful when there is a directory)
    if directory_emails:
        teams: dict[str, Counter] = defaultdict(Counter)
        for identity, team, n in people_store.identity_team_totals(store):
            if idents.get(identity, {}).get("person_id"):
                teams[idents[identity]["person_id"]][team] += n
        for pid, p in sorted(people.items()):
            votes = teams.get(pid)
            if not p["in_directory"] and votes and 2 * votes.most_common(1)[0][1] <= sum(votes.values()):
                ids = ", ".join(describe_identity(idents[i]) for i in members[pid])
                split = ", ".join(f"{t or 'no team'} {n}" for t, n in votes.most_common(3))
                out.append(Ambiguity("not_in_directory", ids, person_label(pid),
                                     f"no directory row matches, and their contributions split between teams ({split}): "
                                     "the team is a guess; add them to the directory"))
    order = {k: n for n, k in enumerate(KINDS)}
    return sorted(out, key=lambda a: order[a.kind])
