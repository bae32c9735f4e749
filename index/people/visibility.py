"""Who may see which source: a source's `visibility` rule applied to the person asking.

A source is `"public"` (everyone; the default), `"team"` (its own team only) or a list of team
names. A `Viewer` is the set of source names one person may see, worked out from their team in
the people directory; `None` in place of a Viewer means everything (the data_dir's owner, the
CLI's default). Index functions take `viewer=` and keep to `source IN (viewer's sources)` in SQL:
search hits, expert votes, projects, overlaps, profiles and similar people.

The rules come from guild.toml at the time of asking, not from the store: a changed rule or a
team move in the directory takes effect at once, without a crawl, and readers write nothing.
A person is visible to a viewer when they are in the directory (the company's own list of
people) or contributed to a visible document; anything else about them (identities, topics,
projects, recent work) is cut to what visible documents show.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from index.embedding.docvectors import doc_centroids, from_blob, mean_direction, to_blob
from index.people.resolve import identity_keys, norm_name
from index.storage import documents as documents_store, people as people_store
from index.storage.scope import source_clause
from index.storage.sqlite.store import Store

PUBLIC = "public"
TEAM = "team"
Visibility = str | Sequence[str]  # "public", "team" or team names


@dataclass(frozen=True)
class Viewer:
    """The sources one person may see. `who` (an email or Slack id) and `team` are for messages."""

    sources: frozenset[str]
    team: str = ""
    who: str = ""

    def sees(self, source: str) -> bool:
        return source in self.sources


def admits(visibility: Visibility, source_team: str, viewer_team: str) -> bool:
    """Whether a source with this rule (and this owning team) is open to someone in `viewer_team`."""
    if visibility == PUBLIC:
        return True
    team = (viewer_team or "").casefold()
    if not team:
        return False
    if visibility == TEAM:
        return team == (source_team or "").casefold()
    return team in {t.casefold() for t in visibility}


def make_viewer(rules: Mapping[str, tuple[str, Visibility]], team: str = "", who: str = "") -> Viewer:
    """A Viewer from source name -> (owning team, rule) and the viewer's team ("" = no team: public only)."""
    return Viewer(frozenset(name for name, (owner, rule) in rules.items() if admits(rule, owner, team)), team, who)


def directory_team(rows: Iterable[Mapping[str, str]], email: str = "", slack_id: str = "") -> str:
    """The team of the directory row with this email or Slack id; "" when there is none."""
    email, slack_id = (email or "").strip().casefold(), (slack_id or "").strip()
    for r in rows:
        if (email and (r.get("email") or "").strip().casefold() == email) or \
                (slack_id and (r.get("slack_id") or "").strip() == slack_id):
            return (r.get("team") or "").strip()
    return ""


def effective(store: Store, viewer: Viewer | None) -> Viewer | None:
    """None (nothing to filter) when the viewer may see every source the store holds documents of,
    so an org whose sources are all public answers everyone at the owner's speed."""
    if viewer is None:
        return None
    return None if documents_store.document_sources(store) <= viewer.sources else viewer


def sources_of(viewer: Viewer | None) -> frozenset[str] | None:
    """The sources a viewer may see, as the storage reads take them (None: every source)."""
    return None if viewer is None else viewer.sources


# -- SQL filters ----------------------------------------------------------------------------------
def source_filter(viewer: Viewer | None, column: str = "d.source") -> tuple[str, list[str]]:
    """(" AND column IN (...)", params) for a viewer; ("", []) for the owner (index/storage/scope.py),
    for the modules that still write their SQL outside index/storage."""
    return source_clause(sources_of(viewer), column)


def visible_doc_ids(store: Store, doc_ids: Iterable[str], viewer: Viewer | None) -> set[str]:
    """The documents among `doc_ids` the viewer may see."""
    ids = list(dict.fromkeys(doc_ids))
    if viewer is None:
        return set(ids)
    return documents_store.ids_in_sources(store, ids, viewer.sources)


def only_visible(store: Store, scores: Mapping[str, float], viewer: Viewer | None) -> dict[str, float]:
    """doc id -> score, without the documents the viewer may not see."""
    if viewer is None:
        return dict(scores)
    keep = visible_doc_ids(store, scores, viewer)
    return {d: s for d, s in scores.items() if d in keep}


def visible_people(store: Store, viewer: Viewer | None) -> set[str] | None:
    """Person ids the viewer may know of: directory people and contributors to visible documents
    (None: everyone)."""
    if viewer is None:
        return None
    return people_store.visible_person_ids(store, viewer.sources)


def visible_identities(store: Store, person_id: str, viewer: Viewer | None) -> list[people_store.IdentityRow]:
    """A person's identities the viewer may know: the directory's, and those with visible contributions."""
    return people_store.person_identities(store, person_id, sources_of(viewer))


def named_visibly(store: Store, person: Mapping[str, Any], query: str, viewer: Viewer | None) -> bool:
    """Whether `query` names this person through what the viewer may know (their name, ids, or an
    identity with visible work), so a lookup by a hidden email or handle finds nobody."""
    if viewer is None or not hidden_work(store, [person["id"]], viewer):
        return True
    q = query.strip()
    if q in (person["id"], person["slack_id"] or "") or q.lstrip("@") == (person["slack_id"] or ""):
        return True
    want = norm_name(q)
    if want and set(want.split()) <= set(norm_name(person["name"] or "").split()):
        return True
    keys = {k for _, k in identity_keys({"email": q.casefold()} if "@" in q and not q.startswith("@")
                                        else {"username": q.lstrip("@"), "name": q})}
    for r in visible_identities(store, person["id"], viewer):
        if (r["email"] or "").casefold() == q.casefold() or want in (norm_name(r["name"] or ""), norm_name(r["username"] or "")) \
                or keys & {k for _, k in identity_keys(r)}:
            return True
    return False


def hidden_work(store: Store, person_ids: Iterable[str], viewer: Viewer | None) -> set[str]:
    """Those of `person_ids` who contributed to a document the viewer may not see."""
    ids = list(dict.fromkeys(person_ids))
    if viewer is None or not ids:
        return set()
    return people_store.people_with_work_outside(store, ids, viewer.sources)


def trim_identity_lists(store: Store, person_id: str, emails: list[str], aliases: list[str],
                        viewer: Viewer | None) -> tuple[list[str], list[str]]:
    """A person's emails and aliases cut to those of identities the viewer may know."""
    if viewer is None or not hidden_work(store, [person_id], viewer):
        return emails, aliases
    known = visible_identities(store, person_id, viewer)
    mails = {(r["email"] or "").casefold() for r in known}
    names = {n for r in known for n in (r["name"] or "", r["username"] or "") if n}
    return [e for e in emails if e.casefold() in mails], [a for a in aliases if a in names]


def visible_topics(store: Store, person_id: str, topics: list[str], viewer: Viewer | None) -> list[str]:
    """Topics (derived from all of a person's work) that visible documents of theirs also show."""
    if viewer is None or not topics or not hidden_work(store, [person_id], viewer):
        return topics
    return [t for t in topics if people_store.mentioned_in_work(store, person_id, t, viewer.sources)]


def visible_profiles(store: Store, rows: Mapping[str, dict[str, Any]], viewer: Viewer | None) -> dict[str, dict[str, Any]]:
    """person_profiles rows (person id -> row) as the viewer may see them: people they may not
    know are left out; for people with hidden work, the work direction is computed again from
    their visible documents only and the topics are cut to what those show."""
    if viewer is None:
        return dict(rows)
    known = visible_people(store, viewer) or set()
    out = {pid: r for pid, r in rows.items() if pid in known}
    redo = hidden_work(store, out, viewer)
    if not redo:
        return out
    totals: dict[str, float] = defaultdict(float)
    mine: dict[str, dict[str, float]] = defaultdict(dict)
    for r in people_store.doc_person_totals(store, sorted(redo), viewer.sources):
        totals[r["doc_id"]] += r["n"] or 0
        if r["person_id"] in redo:
            mine[r["person_id"]][r["doc_id"]] = r["n"] or 0
    centroids = doc_centroids(store, [d for docs in mine.values() for d in docs])
    for pid in redo:
        docs = {d: n / totals[d] for d, n in mine.get(pid, {}).items() if totals[d] and d in centroids}
        vec = mean_direction([centroids[d] for d in docs], list(docs.values())) if docs else None
        topics = visible_topics(store, pid, json.loads(out[pid]["topics"] or "[]"), viewer)
        out[pid] = {**out[pid], "vector": to_blob(vec), "topics": json.dumps(topics, ensure_ascii=False)}
    return {pid: r for pid, r in out.items() if from_blob(r["vector"]) is not None or pid not in redo}
