"""Read-only lookups of people and their identities, for finding the person a question names
(index/expertise/profiles.py) and resolving owners to people (index/catalog/build.py).

Rows as stored: `emails` and `aliases` are JSON text. The tables are the store's SCHEMA.
"""
from __future__ import annotations

from typing import Collection, TypedDict, cast

from index.storage.clauses import marks
from index.storage.sqlite.store import Store


class PersonRow(TypedDict):
    """A `people` row."""
    id: str
    name: str | None
    team: str | None
    slack_id: str | None
    tz: str | None
    emails: str | None
    aliases: str | None
    in_directory: int | None


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


class IdentityRow(TypedDict):
    """What identity keys are made of, for an identity resolved to a person."""
    kind: str | None
    name: str | None
    email: str | None
    username: str | None
    person_id: str


def people(store: Store) -> list[PersonRow]:
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


def resolved_identities(store: Store) -> list[IdentityRow]:
    """Every identity resolved to a person, with the fields its keys are made of."""
    return cast(list[IdentityRow], store.query(
        "SELECT kind, name, email, username, person_id FROM identities WHERE person_id IS NOT NULL"))
