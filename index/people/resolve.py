"""People: identities from git, wikis, the directory and Slack merged into persons.

Automatic rules, most certain first: same email; same handle (GitHub noreply handle, wiki
username, email local part, one-word name, or a full name written without spaces); same
normalised full name. Two directory people are never merged into one, and identities named in a
`split` rule stay apart. `merge` rules from guild.toml join identities unconditionally. Bots
never become people.
"""
from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from connectors.base import is_bot

from index.storage import people as people_store
from index.storage.sqlite.store import Store

DIRECTORY_COLUMNS = ("name", "email", "team", "slack_id", "tz", "hours")  # hours: "09:00-17:00", for syncs
GENERIC_LOCAL_PARTS = frozenset("""info admin administrator dev developer developers contact noreply no-reply hello mail
me git github gitlab user root support team office test ci build bot dev-team webmaster postmaster""".split())
WIKI_KINDS = frozenset({"mediawiki", "confluence", "files"})  # what "wiki:NAME" in an alias rule names
NOREPLY = re.compile(r"^(?:\d+\+)?([^@]+)@(?:[a-z0-9-]+\.)*noreply\.(?:github|gitlab)\.com$")  # GitHub's and GitLab's
# private commit addresses ('12+jdoe@users.noreply.github.com'), whatever the subdomain: the handle is the local part
SEPARATED = re.compile(r"^([a-z]{2,})[._-]([a-z]{2,})$")  # 'jane.doe', 'jane_doe': a handle that writes a name's two parts


class DirectoryError(Exception):
    pass


def load_directory(path: Path) -> list[dict[str, str]]:
    """Rows of the people directory CSV (name,email,team,slack_id,tz,hours; only name and email required)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            cols = [c.strip().lower() for c in (reader.fieldnames or [])]
            if "name" not in cols or "email" not in cols:
                raise DirectoryError(f"{path}: the header must name at least the columns name and email "
                                     f"(found: {', '.join(cols) or 'nothing'}); expected {','.join(DIRECTORY_COLUMNS)}")
            rows = []
            for n, raw in enumerate(reader, 2):
                row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
                if not row.get("email") or "@" not in row["email"]:
                    raise DirectoryError(f"{path}, line {n}: missing or invalid email {row.get('email', '')!r}; "
                                         "every directory row needs an email")
                rows.append({c: row.get(c, "") for c in DIRECTORY_COLUMNS})
            return rows
    except UnicodeDecodeError:
        raise DirectoryError(f"{path}: not UTF-8 text; save the directory as UTF-8 CSV")
    except OSError as e:
        raise DirectoryError(f"{path}: cannot read the people directory ({e.strerror})")


def norm_name(name: str) -> str:
    """'  José  García-López ' -> 'jose garcia lopez'."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _handle(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", norm_name(value).replace(" ", ""))


def full_name(ident: dict[str, Any]) -> str:
    """The normalised name when it has at least two words (a one-word name may be a handle)."""
    name = norm_name(ident.get("name") or "")
    return name if len(name.split()) >= 2 else ""


def ambiguous_handles(idents: Iterable[dict[str, Any]]) -> frozenset[str]:
    """Handles several different full names of the org stand for: a shared first name ('kenji' of
    Kenji Tanaka and Kenji Meyer) or a compaction of two names ('jdoe' of Jane Doe and John Doe).
    Such a handle could be anyone, so it never links identities (`people --ambiguous` lists it)."""
    by_handle: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for ident in idents:
        tokens = full_name(ident).split()
        if tokens:  # José Luis Ruiz and José Ruiz: one name (first and last word) written twice
            by_handle[tokens[0]].add((tokens[0], tokens[-1]))
            for h in name_handles(tokens):
                by_handle[h].add((tokens[0], tokens[-1]))
    return frozenset(h for h, names in by_handle.items() if len(names) > 1)


def names_compatible(a: set[str], b: set[str]) -> bool:
    """Could two groups be one person? Yes unless both carry full names and none of them agree, in
    either order (an initial agrees with any word it starts: 'ada l' ~ 'ada lovelace' ~ 'lovelace a')."""
    if not a or not b:
        return True

    def agree(xs: list[str], ys: list[str]) -> bool:
        return all(p == q or (len(p) == 1 and q.startswith(p)) or (len(q) == 1 and p.startswith(q))
                   for p, q in ((xs[0], ys[0]), (xs[-1], ys[-1])))
    # either order: 'doe jane' (a handle 'doe.jane' read as a name) is Jane Doe
    return any(agree(x.split(), y.split()) or agree(x.split()[::-1], y.split()) for x in a for y in b)


def identity_keys(ident: dict[str, Any], ambiguous: frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """(certainty tier, key) pairs; identities sharing a key are the same person."""
    keys = _keys(ident)
    return [(t, k) for t, k in keys if not (k.startswith("u:") and k[2:] in ambiguous)]


def _keys(ident: dict[str, Any]) -> list[tuple[int, str]]:
    keys = []
    email = (ident.get("email") or "").casefold()
    name = norm_name(ident.get("name") or "")
    if email:
        keys.append((0, f"e:{email}"))
        m = NOREPLY.match(email)
        local = m.group(1) if m else email.split("@", 1)[0]
        if (m or len(local) >= 3) and local not in GENERIC_LOCAL_PARTS:
            keys.append((1, f"u:{_handle(local)}"))
    if ident.get("username"):
        keys.append((1, f"u:{_handle(ident['username'])}"))
    tokens = name.split()
    if len(tokens) == 1 and len(tokens[0]) >= 3 and tokens[0] not in GENERIC_LOCAL_PARTS:
        keys.append((1, f"u:{tokens[0]}"))
    elif len(tokens) >= 2:
        keys.append((2, f"n:{name}"))
        keys += [(2, f"u:{h}") for h in name_handles(tokens)]
    return keys


def name_handles(tokens: list[str]) -> list[str]:
    """Handles written from a full name's parts, in either order, separators dropped: 'mateoegan',
    'eganmateo' ('egan.mateo'), 'joseruiz' for José Luis Ruiz, and with one part cut to its initial:
    'megan' ('m.egan'), 'eganm' ('egan-m'). A name of initials only ('a b') gives none."""
    first, last = tokens[0], tokens[-1]
    if len(first) < 2 or len(last) < 2:
        return []
    forms = [f for f in ("".join(tokens), last + first, first + last) if len(f) >= 5]
    return list(dict.fromkeys(forms + [f for f in (first[0] + last, last + first[0]) if len(f) >= 4]))


class _Groups:
    """Union-find where a group holding an anchor (a directory person, a split rule) refuses another."""

    def __init__(self, ids: Iterable[str], names: dict[str, str] | None = None):
        self.parent = {i: i for i in ids}
        self.anchors: dict[str, set[str]] = defaultdict(set)
        self.names: dict[str, set[str]] = {i: {n} for i, n in (names or {}).items() if n}
        self.refused: list[tuple[str, str, str]] = []

    def find(self, i: str) -> str:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    @staticmethod
    def clash(a: set[str], b: set[str]) -> bool:
        """Two anchors of one kind (two directory people, two sides of one split rule) never join."""
        def kind(anchor: str) -> str:  # "directory:<email>" -> "directory", "split:<n>:<spec>" -> "split:<n>"
            return ":".join(anchor.split(":", 2)[:2]) if anchor.startswith("split:") else anchor.split(":", 1)[0]
        return any(x != y and kind(x) == kind(y) for x in a for y in b)

    def union(self, a: str, b: str, reason: str, force: bool = False, check_names: bool = False) -> bool:
        """Join two groups. check_names: refuse when they carry conflicting full names (for any
        evidence weaker than a shared email)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if not force and (self.clash(self.anchors[ra], self.anchors[rb]) or
                          (check_names and not names_compatible(self.names.get(ra, set()), self.names.get(rb, set())))):
            self.refused.append((a, b, reason))
            return False
        self.parent[rb] = ra
        self.anchors[ra] |= self.anchors.pop(rb, set())
        self.names.setdefault(ra, set()).update(self.names.pop(rb, set()))
        return True


def bare_words(ident: dict[str, Any]) -> set[str]:
    """The one-word names an identity goes by: a one-word name, a username, an email local part."""
    words = set()
    email = (ident.get("email") or "").casefold()
    m = NOREPLY.match(email)
    for v in (ident.get("name"), ident.get("username"), m.group(1) if m else email.split("@", 1)[0] if email else ""):
        tokens = norm_name(v or "").split()
        if len(tokens) == 1 and len(tokens[0]) >= 3 and tokens[0].isalpha() and tokens[0] not in GENERIC_LOCAL_PARTS:
            words.add(tokens[0])
    return words


def handles_of(ident: dict[str, Any]) -> set[str]:
    """An identity's handles as letters only: its email local part (a GitHub noreply handle) and username."""
    email = (ident.get("email") or "").casefold()
    m = NOREPLY.match(email)
    local = m.group(1) if m else email.split("@", 1)[0] if email else ""
    return {h for v in (local, ident.get("username") or "") if (h := re.sub(r"[^a-z]", "", _handle(v)))}


def handle_names_another(word: str, handles: Iterable[str], full: str, surnames: set[str]) -> bool:
    """Does a handle built on the first name `word` spell a surname of the org other than `full`'s
    ('gitaegan' for Gita Kaur, when someone is called Egan)? A bare 'gita', a handle not built on
    the word, or one whose rest is no known surname ('gitadev') or starts this one ('gitak') says
    nothing against the join."""
    rest = full.split()[1:]
    for h in handles:
        other = h[len(word):] if h.startswith(word) else h[:-len(word)] if h.endswith(word) else ""
        if other in surnames and not any(t.startswith(other) for t in rest):
            return True
    return False


def join_first_names(groups: "_Groups", idents: dict[str, dict[str, Any]], ids: list[str],
                     sources: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    """Join a person known only by a one-word name ('viktor') to the one full name starting with it among
    the people active in the same sources. Several full names with that first name: no join.
    Returns (identity, identity joined to, reason) for each join made."""
    members: dict[str, list[str]] = defaultdict(list)
    for i in ids:
        members[groups.find(i)].append(i)
    full = {root: {n for i in m if (n := full_name(idents[i]))} for root, m in members.items()}
    active = {root: set().union(*(sources.get(i, set()) for i in m)) for root, m in members.items()}
    by_first: dict[tuple[str, str], set[str]] = defaultdict(set)  # (first name, source) -> groups
    for root, names in full.items():
        for n in names:
            for src in active[root]:
                by_first[(n.split()[0], src)].add(root)
    surnames = {n.split()[-1] for names in full.values() for n in names}
    joins = []
    for root, m in members.items():
        if full[root] or not active[root]:
            continue
        for word in sorted(set().union(*(bare_words(idents[i]) for i in m))):
            found = set().union(*(by_first.get((word, src), set()) for src in active[root]))
            if len(found) != 1:
                continue
            target = next(iter(found))
            name = next(n for n in sorted(full[target]) if n.split()[0] == word)
            if handle_names_another(word, set().union(*(handles_of(idents[i]) for i in m)), name, surnames):
                continue  # 'gita <gitaegan@...>' is not the only Gita of the repository, Gita Kaur
            where = ", ".join(sorted(active[root] & active[target])) or ", ".join(sorted(active[root]))
            reason = f"first name {word!r}: the only full name starting with it among the people of {where} is {name!r}"
            if groups.union(members[target][0], m[0], reason, check_names=True):
                joins.append((m[0], members[target][0], reason))
                break
    return joins


def _handle_joins(key_members: dict[str, dict[str, int]], idents: dict[str, dict[str, Any]],
                  groups: "_Groups") -> list[tuple[str, str, str]]:
    """Joins made because a bare handle spells a full name's parts ('mateoegan' and Mateo Egan), not by email."""
    joins = []
    for key, members in sorted(key_members.items()):
        ids = sorted(members)
        if not key.startswith("u:"):
            continue
        named = [i for i in ids if (n := full_name(idents[i])) and key[2:] in name_handles(n.split())]
        for i in ids:
            if full_name(idents[i]) or not named:
                continue
            target = next((j for j in named if groups.find(i) == groups.find(j)), None)
            email = (idents[i]["email"] or "").casefold()
            if target and not (email and any(email == (idents[j]["email"] or "").casefold() for j in named)):
                joins.append((i, target, f"the handle {key[2:]!r}, made of the parts of the name {idents[target]['name']!r}"))
    return list(dict.fromkeys(joins))


def written_name(value: str) -> bool:
    """'Jane Doe' is a name as a person writes it; 'jane.doe' and 'janedoe' are handles."""
    return len(value.split()) >= 2 and len(norm_name(value).split()) >= 2


def name_from_handle(value: str) -> str:
    """'jane.doe', 'Jane_Doe' or the local part of 'jane.doe@x.org' -> 'Jane Doe': a handle that keeps
    the two parts of a name apart, written as a name. '' for anything else ('janedoe', 'j.doe', 'dev.team')."""
    v = value.casefold().strip()
    m = None if NOREPLY.match(v) else SEPARATED.match(v.split("@", 1)[0])
    if not m or any(w in GENERIC_LOCAL_PARTS for w in m.groups()):
        return ""
    return " ".join(w.capitalize() for w in m.groups())


def split_handle(handle: str, firsts: frozenset[str], lasts: frozenset[str]) -> str:
    """'ilyaiqbal' -> 'Ilya Iqbal' when it splits in exactly one way into a first name and a surname
    that people of the org carry; '' otherwise (a name is never guessed from one part alone)."""
    h = re.sub(r"[^a-z]", "", norm_name(handle))
    splits = [(h[:i], h[i:]) for i in range(2, len(h) - 1) if h[:i] in firsts and h[i:] in lasts]
    return " ".join(w.capitalize() for w in splits[0]) if len(splits) == 1 else ""


def display_name(rows: list[dict[str, Any]], names: Counter, weight: Counter,
                 firsts: frozenset[str] = frozenset(), lasts: frozenset[str] = frozenset()) -> str:
    """The name a person is shown by: the busiest name written as a name ('Jane Doe'); else one a
    separated handle spells ('jane.doe' as a wiki username or an email's local part: 'Jane Doe');
    else one a glued handle spells from a first name and a surname of the org ('ilyaiqbal');
    else the busiest handle. Never a bare handle when the person's name is known."""
    written = [n for n in names if written_name(n)]
    if written:
        return max(written, key=lambda n: (names[n], n))
    spelled: Counter = Counter()
    for r in rows:
        for v in (r["username"], r["name"], r["email"]):
            if v and (n := name_from_handle(v)):
                spelled[n] += weight[r["id"]] + 1
    if not spelled:
        for r in rows:
            for v in (r["username"], r["name"], handles_of(r) and sorted(handles_of(r))[0]):
                if v and len(norm_name(v).split()) == 1 and (n := split_handle(v, firsts, lasts)):
                    spelled[n] += weight[r["id"]] + 1
    if spelled:
        return max(spelled, key=lambda n: (spelled[n], n))
    return max(names, key=lambda n: (names[n], n)) if names else ""


@dataclass
class ResolveReport:
    identities: int = 0
    people: int = 0
    bots: int = 0
    refused: list[tuple[str, str, str]] = field(default_factory=list)
    joins: list[tuple[str, str, str]] = field(default_factory=list)  # (identity, joined to, reason) by inference


def _matches(spec: str, ident: dict[str, Any]) -> bool:
    """An alias rule names an identity by email, by `kind:username`, by `kind:name` or by name."""
    s = spec.strip().casefold()
    kind, _, rest = s.partition(":")
    ident_kind = (ident["kind"] or "").casefold()
    if rest and (kind == ident_kind or (kind == "wiki" and ident_kind in WIKI_KINDS)):
        return rest in {(ident["username"] or "").casefold(), (ident["name"] or "").casefold(), (ident["email"] or "")}
    return s in {(ident["email"] or ""), (ident["username"] or "").casefold(), (ident["name"] or "").casefold()}


def sync_directory(store: Store, rows: list[dict[str, str]]) -> None:
    """Make the directory identities mirror the CSV."""
    wanted = {f"directory:{r['email'].casefold()}": r for r in rows}
    existing = people_store.directory_identity_ids(store)
    for gone in existing - wanted.keys():
        people_store.delete_identity(store, gone)
    for iid, r in wanted.items():
        people_store.put_directory_identity(store, iid, name=r["name"], email=r["email"].casefold(),
                                            slack_id=r["slack_id"], team=r["team"], tz=r["tz"])


def resolve(store: Store, directory: list[dict[str, str]] | None = None, aliases: Iterable[Any] = ()) -> ResolveReport:
    """Rebuild the people table from all identities. `aliases` are guild.toml AliasRule objects."""
    report = ResolveReport()
    with store.transaction():
        if directory is not None:
            sync_directory(store, directory)
        people_store.delete_orphan_identities(store)
        idents = {r["id"]: r for r in people_store.identities(store)}
        bots = {i for i, r in idents.items() if is_bot(r["name"] or "", r["email"] or "", r["username"] or "")}
        report.bots = len(bots)
        people_ids = [i for i in idents if i not in bots]
        groups = _Groups(people_ids, {i: full_name(idents[i]) for i in people_ids})
        for i in people_ids:
            if idents[i]["kind"] == "directory":
                groups.anchors[i].add(i)
        aliases = list(aliases)
        for n, rule in enumerate(aliases):
            if rule.action == "split":
                for spec in rule.identities:
                    for i in people_ids:
                        if _matches(spec, idents[i]):
                            groups.anchors[groups.find(i)].add(f"split:{n}:{spec}")
        for rule in aliases:
            if rule.action == "merge":
                matched = [i for i in people_ids if any(_matches(s, idents[i]) for s in rule.identities)]
                for other in matched[1:]:
                    groups.union(matched[0], other, "alias rule", force=True)
        by_key: dict[tuple[int, str], list[str]] = defaultdict(list)
        ambiguous = ambiguous_handles(idents[i] for i in people_ids)
        for i in people_ids:
            for key in identity_keys(idents[i], ambiguous):
                by_key[key].append(i)
        # a key links identities at the weaker of their two tiers: a handle ('felixberg', tier 1) meets the
        # same handle written from a full name ('Felix Berg', tier 2) at tier 2
        key_members: dict[str, dict[str, int]] = defaultdict(dict)
        for (t, key), ids in by_key.items():
            for i in ids:
                key_members[key][i] = min(t, key_members[key].get(i, t))
        links = []
        for key, tiers in key_members.items():
            ids = sorted(tiers, key=lambda i: (tiers[i], i))
            links += [(max(tiers[ids[0]], tiers[other]), key, ids[0], other) for other in ids[1:]]
        for t, key, a, b in sorted(links):
            groups.union(a, b, key, check_names=t > 0)
        # a handle that compacts one name of the org is that person (the keys left out every handle that
        # compacts several); a lone first name is a guess, kept for `people --ambiguous` to list
        spelled = _handle_joins(key_members, idents, groups)
        guessed = join_first_names(groups, idents, people_ids, people_store.identity_sources(store))
        joins = spelled + guessed
        report.refused = groups.refused
        report.joins = joins
        store.set_meta("people_refused", json.dumps(sorted(set(groups.refused)), ensure_ascii=False))
        store.set_meta("people_joins", json.dumps(sorted(set(guessed)), ensure_ascii=False))

        weight = Counter(people_store.identity_totals(store))
        team_votes: dict[str, Counter] = defaultdict(Counter)
        for identity, doc_team, n in people_store.identity_team_totals(store):
            team_votes[identity][doc_team] += n
        members: dict[str, list[str]] = defaultdict(list)
        for i in people_ids:
            members[groups.find(i)].append(i)

        people_store.clear_people(store)
        alias_names = {rule.name for rule in aliases if rule.action == "merge" and rule.name}
        used: set[str] = set()
        written = [n.split() for i in people_ids if (n := full_name(idents[i]))]
        firsts, lasts = frozenset(t[0] for t in written), frozenset(t[-1] for t in written)
        # directory people first, so they keep "p:<directory email>" when a split leaves a namesake with that email
        in_directory = {root: any(idents[i]["kind"] == "directory" for i in ids) for root, ids in members.items()}
        for root, ids in sorted(members.items(), key=lambda kv: (not in_directory[kv[0]], kv[0])):
            rows = [idents[i] for i in ids]
            directory_row = next((r for r in rows if r["kind"] == "directory"), None)
            emails = sorted({r["email"] for r in rows if r["email"]})
            if directory_row and directory_row["email"] in emails:  # the address to contact comes first
                emails.remove(directory_row["email"])
                emails.insert(0, directory_row["email"])
            names = Counter()
            for r in rows:
                for v in (r["name"], r["username"]):
                    if v:
                        names[v] += weight[r["id"]] + 1
            forced = next((rule.name for rule in aliases if rule.action == "merge" and rule.name and
                           any(_matches(s, r) for s in rule.identities for r in rows)), "")
            display = forced or (directory_row["name"] if directory_row else "") or display_name(rows, names, weight, firsts, lasts) or \
                (emails[0] if emails else root)
            teams = Counter()
            for i in ids:
                teams.update(team_votes.get(i, {}))
            team = (directory_row["team"] if directory_row and directory_row["team"] else "") or \
                (teams.most_common(1)[0][0] if teams else "")
            pid = "p:" + (directory_row["email"] if directory_row else (emails[0] if emails else root))
            if pid in used:  # a group kept apart (split rule, refused merge) that shares an email with another
                pid = "p:" + root
            used.add(pid)
            aliases_of = sorted({n for n in names if n != display} - alias_names)
            people_store.put_person(store, {
                "id": pid, "name": display, "team": team, "slack_id": directory_row["slack_id"] if directory_row else "",
                "tz": directory_row["tz"] if directory_row else "", "emails": json.dumps(emails),
                "aliases": json.dumps(aliases_of), "in_directory": 1 if directory_row else 0})
            people_store.assign_identities(store, pid, ids)
        report.identities = len(idents)
        report.people = len(members)
    return report
