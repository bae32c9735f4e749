"""Teams as the catalog sees them: their projects, people, sources and cross-team overlaps.

Pure composition of what the catalog, the people and the overlaps already answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from index.catalog.build import Project
from index.catalog.overlaps import Overlap


@dataclass
class Team:
    name: str
    slack_channel: str = ""
    sources: list[str] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)  # list_people rows
    overlaps: list[Overlap] = field(default_factory=list)  # pairs with this team on one side

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "slack_channel": self.slack_channel, "sources": self.sources,
                "projects": [p.name for p in self.projects], "people": [p["name"] for p in self.people],
                "overlaps": [o.public() for o in self.overlaps]}


def _same(a: str, b: str) -> bool:
    return (a or "").casefold() == (b or "").casefold()


def compose_team(name: str, slack_channel: str, sources: list[str], projects: list[Project],
                 people: list[dict[str, Any]], overlaps: list[Overlap]) -> Team:
    """One team's slice of the catalog, people and overlaps (each given for the whole org)."""
    return Team(name, slack_channel, sources, [p for p in projects if _same(p.team, name)],
                [p for p in people if _same(p.get("team", ""), name)],
                [o for o in overlaps if _same(o.a.team, name) or _same(o.b.team, name)])
