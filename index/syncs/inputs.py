"""The planner's inputs from the index: people as planner Persons, each project's key phrases.

Kept out of storage so the storage layer never imports the catalog or the planner's types.
"""
from __future__ import annotations

import json
from collections import Counter

from connectors.base import is_bot
from index.catalog.build import list_projects
from index.storage.sqlite.store import Store
from index.storage.syncs import people_rows
from index.syncs.plan import Person


def sync_people(store: Store, hours: dict[str, str] | None = None) -> dict[str, Person]:
    """Everyone as a planner Person; `hours` maps a directory email to its own working hours."""
    hours = hours or {}
    out = {}
    for r in people_rows(store):
        emails = json.loads(r["emails"] or "[]")
        email = emails[0] if emails else ""
        out[r["id"]] = Person(r["id"], r["name"] or email, email, r["team"] or "", r["tz"] or "UTC", r["slack_id"] or "",
                              hours.get(email.casefold(), ""), bool(r["in_directory"]),
                              is_bot(r["name"] or "", email))
    return out


def project_terms(store: Store) -> tuple[dict[str, Counter], Counter]:
    """Each project's key phrases (the catalog's topics, index/catalog/keywords.py) weighted by rank, and
    their written forms: a sync's title is made of phrases that projects of two teams share."""
    surface: Counter = Counter()
    out: dict[str, Counter] = {}
    for p in list_projects(store):
        counts: Counter = Counter()
        for rank, phrase in enumerate(p.topics):
            key = phrase.casefold()
            counts[key] += len(p.topics) - rank
            surface[(key, phrase)] += 1
        out[p.id] = counts
    return out, surface
