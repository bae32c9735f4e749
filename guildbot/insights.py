"""Insights (issue 26): what the guild asks and what it learns, week by week, and which teams never
learn from each other. A service beside the Guild like the digest and the syncs: `insights_for(guild)`
builds it with the store; it reads the query log (index/retrieval/querylog.py), the suggestions and
asks (index/storage/asks.py) and the syncs (index/storage/insights.py), and never writes.

- questions per ISO week by surface, and the share answered with a good match (the best answer's
  strength at least [query_log] weak_below, and something found: the digest's knowledge-gap rule inverted);
- the most asked questions with no good answer (the digest's gaps over the whole period);
- syncs proposed and held per week;
- the team-to-team map: who asked about whose work (the first person suggested to an asker of another
  team), who was introduced to whom ("Ask them" and syncs), and the pairs of teams with neither.

Charts are SVG made here (`bar_chart`), with a pattern per series and every number written on the
chart and in a table, so nothing depends on colour; the web page and `guildbot insights` share the data.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from html import escape
from typing import TYPE_CHECKING, Any, Sequence

from index.retrieval import querylog
from index.storage import asks as asks_store, insights as insights_store
from index.storage.factory import iso

if TYPE_CHECKING:
    from index.storage.factory import Store

    from guildbot.config.loader import Config
    from guildbot.guild import Guild

SURFACES = ("slack", "web", "cli", "api")
TOP_UNANSWERED = 10
PATTERNS = ("solid", "hatch", "dots", "cross", "grid")  # one per series, drawn in black on white


def week_of(stamp: str) -> str:
    """ISO week ("2026-W49") of an ISO time."""
    y, w, _ = datetime.fromisoformat(stamp.replace("Z", "+00:00")).isocalendar()
    return f"{y}-W{w:02d}"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class InsightsService:
    store: "Store"
    config: "Config"

    def build(self, weeks: int = 8, now: datetime | None = None) -> dict[str, Any]:
        """The last `weeks` ISO weeks up to now (this week included), as one JSON-ready dict."""
        if not 1 <= weeks <= 104:
            raise ValueError(f"{weeks} weeks: ask for 1 to 104 weeks")
        now = now or datetime.now(timezone.utc)
        first = datetime.combine(week_start(now.date()) - timedelta(weeks=weeks - 1), datetime.min.time(), timezone.utc)
        end = now + timedelta(seconds=1)  # the log keeps whole seconds
        labels = [week_of(iso(first + timedelta(weeks=i)) or "") for i in range(weeks)]
        start_s, end_s = iso(first) or "", iso(end) or ""
        weak = self.config.query_log.weak_below

        asked = querylog.questions(self.store, first, end)
        per_week: dict[str, Counter] = {w: Counter() for w in labels}
        good: Counter = Counter()
        for q in asked:
            w = week_of(q.at)
            if w in per_week:
                per_week[w][q.surface or "api"] += 1
                good[w] += int(answered_well(q, weak))
        surfaces = [s for s in SURFACES if any(c[s] for c in per_week.values())] + sorted(
            {s for c in per_week.values() for s in c} - set(SURFACES))
        weekly = []
        for w in labels:
            total = sum(per_week[w].values())
            weekly.append({"week": w, "by_surface": {s: per_week[w][s] for s in surfaces}, "questions": total,
                           "answered_well": good[w], "share_answered": round(good[w] / total, 3) if total else None})
        gaps = querylog.gaps(asked, weak)
        unanswered = sorted(gaps, key=lambda g: (-g.asked, g.question))[:TOP_UNANSWERED]

        syncs = insights_store.syncs_between(self.store, start_s, end_s)
        sync_weeks = {w: {"week": w, "proposed": 0, "held": 0} for w in labels}
        for s in syncs:
            w = week_of(s["created_at"])
            if w in sync_weeks:
                sync_weeks[w]["proposed"] += 1
                sync_weeks[w]["held"] += s["held"]

        return {"weeks": labels, "from": start_s, "to": iso(now), "surfaces": surfaces, "questions": weekly,
                "total_questions": sum(x["questions"] for x in weekly),
                "unanswered": [{"question": g.question, "asked": g.asked, "teams": g.teams,
                                "strength": None if g.strength is None else round(g.strength, 3)} for g in unanswered],
                "syncs": list(sync_weeks.values()),
                "teams": self.team_map(start_s, end_s, syncs)}

    def team_map(self, start: str, end: str, syncs: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Who asked about whose work and who was introduced to whom, team by team; the pairs with neither."""
        teams = [t.name for t in self.config.teams]
        asked_about = asks_store.team_pairs(self.store, start, end)
        introduced: Counter = Counter()
        for a in asks_store.asks_between(self.store, start, end):
            for p in a["people"]:
                if a["asker_team"] and p.get("team"):
                    introduced[(a["asker_team"], p["team"])] += 1
        for s in syncs:
            for x in s["teams"]:
                for y in s["teams"]:
                    if x != y:
                        introduced[(x, y)] += 1
        cells = defaultdict(dict)
        for a in teams:
            for b in teams:
                cells[a][b] = {"asked_about": asked_about.get((a, b), 0), "introduced": introduced.get((a, b), 0)}
        never = [[a, b] for i, a in enumerate(teams) for b in teams[i + 1:]
                 if not any(cells[x][y]["asked_about"] or cells[x][y]["introduced"] for x, y in ((a, b), (b, a)))]
        return {"names": teams, "cells": cells, "never": never}


def answered_well(q: querylog.LoggedQuestion, weak_below: float) -> bool:
    """A good match: something found, the best answer at least `weak_below` strong, and no net "Not helpful"."""
    return q.results > 0 and q.strength is not None and q.strength >= weak_below and q.feedback >= 0


def insights_for(guild: "Guild") -> InsightsService:
    return InsightsService(guild.store, guild.config)


# -- SVG ---------------------------------------------------------------------------------------------------
def _patterns(prefix: str) -> str:
    """Black-on-white fills, told apart by shape, not colour."""
    p = prefix
    return (f'<defs>'
            f'<pattern id="{p}-solid" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#1f2937"/></pattern>'
            f'<pattern id="{p}-hatch" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#fff"/>'
            f'<path d="M0,6 L6,0 M-1,1 L1,-1 M5,7 L7,5" stroke="#1f2937" stroke-width="1.5"/></pattern>'
            f'<pattern id="{p}-dots" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#fff"/>'
            f'<circle cx="3" cy="3" r="1.6" fill="#1f2937"/></pattern>'
            f'<pattern id="{p}-cross" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#fff"/>'
            f'<path d="M0,0 L6,6 M6,0 L0,6" stroke="#1f2937" stroke-width="1"/></pattern>'
            f'<pattern id="{p}-grid" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#fff"/>'
            f'<path d="M3,0 L3,6 M0,3 L6,3" stroke="#1f2937" stroke-width="1"/></pattern>'
            f'</defs>')


def bar_chart(chart_id: str, title: str, categories: Sequence[str], series: dict[str, Sequence[float]],
              unit: str = "", stacked: bool = True, width: int = 720, height: int = 260) -> str:
    """A bar chart as SVG: one bar per category (stacked series, each with its own pattern), the total
    written above each bar, the series named in a legend, and a <title>/<desc> for screen readers (the page
    shows the same numbers in a table)."""
    names = list(series)
    left, right, top, bottom = 40, 10, 30, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(categories))
    totals = [sum(series[s][i] for s in names) if stacked else max((series[s][i] for s in names), default=0)
              for i in range(len(categories))]
    peak = max(totals, default=0) or 1
    slot = plot_w / n
    bar = max(4.0, slot * 0.6 / (1 if stacked else max(1, len(names))))
    desc = "; ".join(f"{c}: " + ", ".join(f"{s} {series[s][i]:g}{unit}" for s in names) for i, c in enumerate(categories))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" '
           f'aria-labelledby="{chart_id}-t {chart_id}-d">',
           f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
           _patterns(chart_id),
           f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#1f2937"/>']
    for i, c in enumerate(categories):
        x0 = left + i * slot + (slot - bar * (1 if stacked else len(names))) / 2
        y = top + plot_h
        for k, s in enumerate(names):
            v = series[s][i]
            h = plot_h * v / peak
            x = x0 if stacked else x0 + k * bar
            if h > 0:
                y_top = (y - h) if stacked else (top + plot_h - h)
                out.append(f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                           f'fill="url(#{chart_id}-{PATTERNS[k % len(PATTERNS)]})" stroke="#1f2937" stroke-width="1">'
                           f'<title>{escape(c)}, {escape(s)}: {v:g}{escape(unit)}</title></rect>')
                if stacked:
                    y -= h
        label_y = (y if stacked else top + plot_h - plot_h * totals[i] / peak) - 4
        out.append(f'<text x="{x0 + (bar if stacked else bar * len(names)) / 2:.1f}" y="{label_y:.1f}" text-anchor="middle" '
                   f'font-size="12" fill="#111827">{totals[i]:g}{escape(unit)}</text>')
        out.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                   f'font-size="11" fill="#111827">{escape(c)}</text>')
    lx = left
    for k, s in enumerate(names):
        out.append(f'<rect x="{lx}" y="{height - 20}" width="14" height="14" fill="url(#{chart_id}-{PATTERNS[k % len(PATTERNS)]})" '
                   f'stroke="#1f2937"/><text x="{lx + 18}" y="{height - 9}" font-size="12" fill="#111827">{escape(s)}</text>')
        lx += 30 + 8 * len(s)
    out.append("</svg>")
    return "".join(out)


def charts(data: dict[str, Any]) -> dict[str, str]:
    """The page's SVG charts from build()'s data."""
    weeks = [w["week"] for w in data["questions"]]
    short = [w.split("-")[1] for w in weeks]
    by_surface = {s: [w["by_surface"].get(s, 0) for w in data["questions"]] for s in data["surfaces"]} or {"questions": [0] * len(weeks)}
    share = {"answered well": [round(100 * (w["share_answered"] or 0)) for w in data["questions"]]}
    syncs = {"proposed": [w["proposed"] for w in data["syncs"]], "held": [w["held"] for w in data["syncs"]]}
    return {"questions": bar_chart("ch-q", "Questions per week, by surface", short, by_surface),
            "share": bar_chart("ch-s", "Share of questions answered with a good match, per week", short, share, unit="%"),
            "syncs": bar_chart("ch-y", "Syncs proposed and held, per week", short, syncs, stacked=False)}
