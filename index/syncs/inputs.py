"""The planner's inputs from the index: people as planner Persons, each project's key phrases.

Kept out of storage so the storage layer never imports the catalog or the planner's types.
"""
from __future__ import annotations

import json
from collections import Counter

from connectors.base import is_bot
from index.catalog import content
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


def project_phrases(store: Store) -> dict[str, list[str]]:
    """Each project's candidate phrases (the most frequent in its characteristic passages,
    index/catalog/content.py) and its key phrases: the background a sync's title must stand out
    from, so a phrase most projects of the org use never names a sync."""
    out: dict[str, list[str]] = {}
    for pid, c in content.load_all(store).items():
        out[pid] = [form for form, *_ in c.candidates.values()] + list(c.key_phrases)
    for p in list_projects(store):
        out.setdefault(p.id, []).extend(p.topics)
    return out
