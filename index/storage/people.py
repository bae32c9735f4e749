"""People, their identities and their contributions: the rows behind `who`, profiles and visibility.

An identity is one name as one kind of source knows it (a git author, a wiki user, a directory
row); `resolve` (index/people/resolve.py) groups identities into people and writes the `people`
table from scratch. Contributions tie identities to documents (written with the documents, by
the store's `put_document`). These functions return plain rows; the people and expert objects
are built by their callers. Reads with `sources` keep to the documents of those sources
(None: every source; index/storage/scope.py). Writes run inside the caller's transaction.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Collection, Iterable, TypedDict, cast

from index.storage.scope import Sources, source_clause
from index.storage.clauses import marks
from index.storage.sqlite.store import Store

BATCH = 500  # ids per IN (...) list

IDENTITY_COLUMNS = "id, kind, name, email, username, slack_id, team, tz, person_id"
PERSON_COLUMNS = "id, name, team, slack_id, tz, emails, aliases, in_directory"


class IdentityRow(TypedDict):
    id: str
    kind: str | None
    name: str | None
    email: str | None
    username: str | None
    slack_id: str | None
    team: str | None
    tz: str | None
    person_id: str | None


class PersonRow(TypedDict):
    id: str
    name: str | None
    team: str | None
    slack_id: str | None
    tz: str | None
    emails: str | None  # JSON list, the address to contact first
    aliases: str | None  # JSON list
    in_directory: int | None


class PersonContribution(TypedDict):
    doc_id: str
    role: str
    count: int | None
    first_at: str | None
    last_at: str | None
    person_id: str


class DocPersonTotal(TypedDict):
    doc_id: str
    person_id: str | None
    n: int | None


# -- identities ------------------------------------------------------------------------------------
def identities(store: Store) -> list[IdentityRow]:
    """Every identity, in the table's order."""
    return cast(list[IdentityRow], store.query(f"SELECT {IDENTITY_COLUMNS} FROM identities"))


def directory_identity_ids(store: Store) -> set[str]:
    return {r["id"] for r in store.query("SELECT id FROM identities WHERE kind = 'directory'")}


def delete_identity(store: Store, identity_id: str) -> None:
    store.conn.execute("DELETE FROM identities WHERE id = ?", (identity_id,))


def put_directory_identity(store: Store, identity_id: str, *, name: str, email: str, slack_id: str, team: str,
                           tz: str) -> None:
    """Write a directory row's identity whole: an existing one is replaced, its person link cleared
    (`resolve` links identities to people again)."""
    store.conn.execute(
        """INSERT INTO identities (id, kind, name, email, username, slack_id, team, tz, person_id)
           VALUES (?, 'directory', ?, ?, '', ?, ?, ?, NULL)
           ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, email = excluded.email,
           username = excluded.username, slack_id = excluded.slack_id, team = excluded.team, tz = excluded.tz,
           person_id = excluded.person_id""",
        (identity_id, name, email, slack_id, team, tz))


def delete_orphan_identities(store: Store) -> None:
    """Forget the identities (the directory's aside) that no longer contribute to any document."""
    store.conn.execute("DELETE FROM identities WHERE kind != 'directory' AND id NOT IN "
                       "(SELECT DISTINCT identity_id FROM contributions)")


def identity_sources(store: Store) -> dict[str, set[str]]:
    """identity id -> the sources of the documents it contributed to."""
    sources: dict[str, set[str]] = defaultdict(set)
    for r in store.query("""SELECT DISTINCT c.identity_id, d.source FROM contributions c
                            JOIN documents d ON d.id = c.doc_id"""):
        sources[r["identity_id"]].add(r["source"])
    return sources


def identity_totals(store: Store) -> dict[str, int]:
    """identity id -> its contributions counted over every document."""
    return {r["identity_id"]: r["n"] or 0
            for r in store.query("SELECT identity_id, sum(count) AS n FROM contributions GROUP BY identity_id")}


def identity_team_totals(store: Store) -> list[tuple[str, str | None, int]]:
    """(identity id, a team owning documents it contributed to, its contributions there), in query order."""
    return [(r["identity_id"], r["team"], r["n"] or 0)
            for r in store.query("""SELECT c.identity_id, d.team, sum(c.count) AS n FROM contributions c
                                    JOIN documents d ON d.id = c.doc_id GROUP BY c.identity_id, d.team""")]


# -- people ----------------------------------------------------------------------------------------
def people(store: Store) -> list[PersonRow]:
    """Every person, in the table's order."""
    return cast(list[PersonRow], store.query(f"SELECT {PERSON_COLUMNS} FROM people"))


def people_by_id(store: Store, ids: Iterable[str]) -> dict[str, PersonRow]:
    """person id -> row, for those of `ids` that are people."""
    ids = list(dict.fromkeys(ids))
    out: dict[str, PersonRow] = {}
    for i in range(0, len(ids), BATCH):
        part = ids[i:i + BATCH]
        for r in store.query(f"SELECT {PERSON_COLUMNS} FROM people WHERE id IN ({','.join('?' * len(part))})", part):
            out[r["id"]] = cast(PersonRow, r)
    return out


def clear_people(store: Store) -> None:
    """Empty the people table and unlink every identity, before `resolve` writes them again."""
    store.conn.execute("DELETE FROM people")
    store.conn.execute("UPDATE identities SET person_id = NULL")


def put_person(store: Store, person: PersonRow) -> None:
    """Write a person whole (an existing row with its id is replaced)."""
    store.conn.execute(
        """INSERT INTO people (id, name, team, slack_id, tz, emails, aliases, in_directory) VALUES (?,?,?,?,?,?,?,?)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, team = excluded.team, slack_id = excluded.slack_id,
           tz = excluded.tz, emails = excluded.emails, aliases = excluded.aliases, in_directory = excluded.in_directory""",
        (person["id"], person["name"], person["team"], person["slack_id"], person["tz"], person["emails"],
         person["aliases"], person["in_directory"]))


def assign_identities(store: Store, person_id: str, identity_ids: list[str]) -> None:
    """Link identities to their person."""
    marks = ",".join("?" * len(identity_ids))
    store.conn.execute(f"UPDATE identities SET person_id = ? WHERE id IN ({marks})", (person_id, *identity_ids))


def contributing_person_ids(store: Store) -> set[str | None]:
    """The people with at least one contribution (None among them when an identity has no person)."""
    return {r["person_id"] for r in store.query(
        "SELECT DISTINCT i.person_id FROM contributions c JOIN identities i ON i.id = c.identity_id")}


def team_of(store: Store, key: str) -> str:
    """The team of the first person with this Slack id, name (any case) or email; '' when none."""
    rows = store.query("SELECT team FROM people WHERE slack_id = ? OR lower(name) = lower(?) OR emails LIKE ? LIMIT 1",
                       [key, key, f'%"{key.casefold()}"%'])
    return (rows[0]["team"] or "") if rows else ""


# -- contributions ---------------------------------------------------------------------------------
def person_contributions(store: Store, doc_ids: Iterable[str]) -> list[PersonContribution]:
    """The contributions of people (identities linked to a person) to the given documents."""
    ids = list(doc_ids)
    rows: list[PersonContribution] = []
    for i in range(0, len(ids), BATCH):
        part = ids[i:i + BATCH]
        rows += cast(list[PersonContribution], store.query(
            f"""SELECT c.doc_id, c.role, c.count, c.first_at, c.last_at, i.person_id
                FROM contributions c JOIN identities i ON i.id = c.identity_id
                WHERE c.doc_id IN ({','.join('?' * len(part))}) AND i.person_id IS NOT NULL""", part))
    return rows


# -- what a viewer may know of people --------------------------------------------------------------
def visible_person_ids(store: Store, sources: Sources) -> set[str]:
    """Directory people and the people who contributed to a document of `sources`."""
    where, params = source_clause(sources)
    rows = store.query(
        f"""SELECT id FROM people WHERE in_directory = 1
            UNION SELECT i.person_id FROM contributions c JOIN identities i ON i.id = c.identity_id
            JOIN documents d ON d.id = c.doc_id WHERE i.person_id IS NOT NULL{where}""", params)
    return {r["id"] for r in rows}  # a UNION's column is named by its first SELECT


def person_identities(store: Store, person_id: str, sources: Sources) -> list[IdentityRow]:
    """A person's directory identities and those with contributions to documents of `sources`,
    by kind, name and email."""
    where, params = source_clause(sources)
    return cast(list[IdentityRow], store.query(
        f"""SELECT {IDENTITY_COLUMNS} FROM identities WHERE person_id = ? AND (kind = 'directory' OR id IN (
                SELECT c.identity_id FROM contributions c JOIN documents d ON d.id = c.doc_id WHERE 1 = 1{where}))
            ORDER BY kind, name, email""", [person_id, *params]))


def people_with_work_outside(store: Store, person_ids: Iterable[str], sources: Collection[str]) -> set[str]:
    """Those of `person_ids` who contributed to a document of a source not in `sources`."""
    ids = list(dict.fromkeys(person_ids))
    names = sorted(sources) or [""]
    out: set[str] = set()
    for i in range(0, len(ids), BATCH):
        part = ids[i:i + BATCH]
        out |= {r["person_id"] for r in store.query(
            f"""SELECT DISTINCT i.person_id FROM contributions c JOIN identities i ON i.id = c.identity_id
                JOIN documents d ON d.id = c.doc_id WHERE i.person_id IN ({','.join('?' * len(part))})
                AND d.source NOT IN ({','.join('?' * len(names))})""", [*part, *names])}
    return out


def mentioned_in_work(store: Store, person_id: str, text: str, sources: Sources) -> bool:
    """Whether a document of `sources` the person contributed to has `text` (any case) in its title or text."""
    where, params = source_clause(sources)
    return bool(store.query(
        f"""SELECT 1 FROM contributions c JOIN identities i ON i.id = c.identity_id JOIN documents d ON d.id = c.doc_id
            WHERE i.person_id = ?{where} AND (instr(lower(d.title), lower(?)) > 0 OR instr(lower(d.text), lower(?)) > 0)
            LIMIT 1""", [person_id, *params, text, text]))


def doc_person_totals(store: Store, person_ids: Iterable[str], sources: Sources) -> list[DocPersonTotal]:
    """(document, person, contributions) for every contributor to the documents of `sources` any of
    `person_ids` contributed to, in query order."""
    ids = list(person_ids)
    where, params = source_clause(sources)
    marks = ",".join("?" * len(ids))
    return cast(list[DocPersonTotal], store.query(
        f"""SELECT c.doc_id, i.person_id, sum(c.count) AS n FROM contributions c
            JOIN identities i ON i.id = c.identity_id JOIN documents d ON d.id = c.doc_id
            WHERE c.doc_id IN (SELECT c2.doc_id FROM contributions c2 JOIN identities i2
                               ON i2.id = c2.identity_id WHERE i2.person_id IN ({marks})){where}
            GROUP BY c.doc_id, i.person_id""", [*ids, *params]))


# -- lookups: finding the person a question names, owners as people (profiles, catalog) ----------------
class PersonName(TypedDict):
    id: str
    name: str | None


class PersonTeam(TypedDict):
    id: str
    name: str | None
    team: str | None


class PersonEmails(TypedDict):
    id: str
    emails: str | None


class PersonAliases(TypedDict):
    id: str
    name: str | None
    aliases: str | None


class ResolvedIdentity(TypedDict):
    """What identity keys are made of, for an identity resolved to a person."""
    kind: str | None
    name: str | None
    email: str | None
    username: str | None
    person_id: str


def people_by_team(store: Store) -> list[PersonRow]:
    """Everyone, by team, name and id."""
    return cast(list[PersonRow], store.query("SELECT * FROM people ORDER BY team, name, id"))


def people_with_ids(store: Store, ids: Collection[str]) -> list[PersonRow]:
    """The people of `ids` (give at least one), by name and id."""
    return cast(list[PersonRow], store.query(
        f"SELECT * FROM people WHERE id IN ({marks(len(ids))}) ORDER BY name, id", sorted(ids)))


def people_by_id_or_slack(store: Store, person_id: str, slack_id: str) -> list[PersonRow]:
    """The people with this id or this Slack id (case-insensitive)."""
    return cast(list[PersonRow], store.query("SELECT * FROM people WHERE id = ? OR lower(slack_id) = lower(?)",
                                             [person_id, slack_id]))


def people_names(store: Store) -> list[PersonName]:
    return cast(list[PersonName], store.query("SELECT id, name FROM people"))


def people_teams(store: Store) -> list[PersonTeam]:
    return cast(list[PersonTeam], store.query("SELECT id, name, team FROM people"))


def people_teams_of(store: Store, ids: Collection[str]) -> dict[str, PersonTeam]:
    """person id -> name and team, for those of `ids` (give at least one) that exist."""
    return {r["id"]: cast(PersonTeam, r) for r in store.query(
        f"SELECT id, name, team FROM people WHERE id IN ({marks(len(ids))})", list(ids))}


def people_emails(store: Store) -> list[PersonEmails]:
    return cast(list[PersonEmails], store.query("SELECT id, emails FROM people"))


def people_aliases(store: Store) -> list[PersonAliases]:
    return cast(list[PersonAliases], store.query("SELECT id, name, aliases FROM people"))


def people_with_identity_email(store: Store, email: str) -> set[str]:
    """Ids of the people an identity with this (lower-cased) email resolves to."""
    return {r["person_id"] for r in store.query(
        "SELECT person_id FROM identities WHERE email = ? AND person_id IS NOT NULL", [email])}


def resolved_identities(store: Store) -> list[ResolvedIdentity]:
    """Every identity resolved to a person, with the fields its keys are made of."""
    return cast(list[ResolvedIdentity], store.query(
        "SELECT kind, name, email, username, person_id FROM identities WHERE person_id IS NOT NULL"))
