"""The weekly digest's content and rendering: ISO weeks in time zones, project changes, the demo
org's digest (planted overlap, new pages, gaps, crossings), team views, Slack limits, HTML."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from guildbot import blockkit as kit
from guildbot.cli.main import main
from guildbot.digest.service import digest_for, render_html, render_message, render_text, sections
from guildbot.syncs.service import syncs_for
from index.digest.weekly import DigestData, Week, classify_activity, last_week, notable_documents, week_bounds, week_of

from conftest import write_config
from support.digest import demo_week  # noqa: F401 - a fixture

UTC = timezone.utc


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- weeks --------------------------------------------------------------------------------------------
def test_a_week_with_a_dst_change_is_an_hour_shorter_or_longer():
    spring = week_bounds("2026-W13", "Europe/London")  # clocks go forward on Sunday 29 March 2026
    autumn = week_bounds("2026-W43", "Europe/London")  # and back on Sunday 25 October
    assert spring.end - spring.start == timedelta(hours=167)
    assert autumn.end - autumn.start == timedelta(hours=169)
    assert spring.start == utc(2026, 3, 23, 0) and spring.end == utc(2026, 3, 29, 23)  # Monday 00:00 BST
    # Sunday 29 March 23:30 BST is still W13; Monday 00:30 BST is W14
    assert spring.contains(utc(2026, 3, 29, 22, 30)) and not spring.contains(utc(2026, 3, 29, 23, 30))
    assert week_of(utc(2026, 3, 29, 23, 30), "Europe/London") == "2026-W14"


@pytest.mark.parametrize("tz, sunday_late, monday_early", [
    # Auckland is UTC+13 in December: local Sunday 23:30 is Sunday 10:30 UTC, Monday 00:30 is Sunday 11:30 UTC
    ("Pacific/Auckland", utc(2026, 11, 29, 10, 30), utc(2026, 11, 29, 11, 30)),
    # Honolulu is UTC-10: local Sunday 23:30 is Monday 09:30 UTC, Monday 00:30 is Monday 10:30 UTC
    ("Pacific/Honolulu", utc(2026, 11, 30, 9, 30), utc(2026, 11, 30, 10, 30)),
])
def test_zones_near_the_date_line_put_sunday_night_and_monday_morning_in_different_weeks(tz, sunday_late, monday_early):
    w48 = week_bounds("2026-W48", tz)
    assert w48.contains(sunday_late) and not w48.contains(monday_early)
    assert week_of(sunday_late, tz) == "2026-W48" and week_of(monday_early, tz) == "2026-W49"
    assert last_week(monday_early, tz) == "2026-W48"  # on Monday morning the digest is about the week just ended
    assert last_week(sunday_late, tz) == "2026-W47"   # on Sunday night the week has not ended yet


def test_bad_weeks_are_refused_with_the_right_form():
    with pytest.raises(ValueError, match="2026-W49"):
        week_bounds("2026-49")
    with pytest.raises(ValueError, match="no ISO week 53"):
        week_bounds("2025-W53")
    assert week_bounds("2020W53").label == "2020-W53"


def test_items_land_in_the_iso_week_of_the_configured_zone(tmp_path, make_repo):
    """A page committed at 23:30 local time on a Sunday belongs to that week in Auckland and in
    Honolulu, though in UTC the two commits fall in different weeks."""
    from guildbot import Guild

    repo = make_repo("notes")
    repo.commit("Ada", "ada@x.org", {"README.md": "# notes\n\nOld notes about ranking.\n"}, when=int(utc(2026, 10, 1).timestamp()))
    # Sunday 29 Nov 23:30 in Auckland (NZDT, +13) and the same local time in Honolulu (-10)
    repo.commit("Ada", "ada@x.org", {"auckland.md": "# Auckland page\n\nWritten late on Sunday in Auckland.\n"},
                when=int(utc(2026, 11, 29, 10, 30).timestamp()))
    repo.commit("Bo", "bo@x.org", {"honolulu.md": "# Honolulu page\n\nWritten late on Sunday in Honolulu.\n"},
                when=int(utc(2026, 11, 30, 9, 30).timestamp()))
    guild = Guild.from_config(write_config(tmp_path, [{"kind": "git", "name": "notes", "team": "T", "url": str(repo.path)}]))
    try:
        assert not guild.crawl().failed

        def titles(week: str, tz: str) -> set[str]:
            return {d["title"] for d in notable_documents(guild.store, week_bounds(week, tz))}

        assert titles("2026-W48", "Pacific/Auckland") == {"Auckland page"}
        assert titles("2026-W49", "Pacific/Auckland") == {"Honolulu page"}  # Monday 30 Nov 22:30 there
        assert titles("2026-W48", "Pacific/Honolulu") == {"Auckland page", "Honolulu page"}
        assert titles("2026-W48", "UTC") == {"Auckland page"} and titles("2026-W49", "UTC") == {"Honolulu page"}
    finally:
        guild.close()


# -- project changes ------------------------------------------------------------------------------------
def test_project_activity_is_classified_against_the_week():
    week = week_bounds("2026-W48", "UTC")  # 23 - 30 November 2026
    mid = utc(2026, 11, 25, 12)
    assert classify_activity([mid], week) == "new"
    assert classify_activity([utc(2026, 11, 1), mid], week) == "changed"
    assert classify_activity([utc(2025, 1, 1), mid], week) == "back"  # active again after more than 180 days
    assert classify_activity([mid - timedelta(days=181)], week) == "dormant"  # its 180 days ran out this week
    assert classify_activity([mid - timedelta(days=181), mid + timedelta(days=30)], week) == "dormant"  # seen from later
    assert classify_activity([mid - timedelta(days=200)], week) is None  # dormant already
    assert classify_activity([utc(2026, 11, 1)], week) is None  # quiet but active
    assert classify_activity([], week) is None


# -- the demo org ---------------------------------------------------------------------------------------
def _people(side: dict) -> set[str]:
    return {p["name"] for p in side["people"]}


def test_the_demo_digest_names_the_planted_overlap_with_people_on_both_sides(demo_guild, demo_week):
    data = digest_for(demo_guild).build(demo_week)
    assert data.week == demo_week and data.tz == "Europe/London"
    top = data.overlaps[0]
    assert {top["a"]["project"], top["b"]["project"]} == {"feed-ranker", "similar-items"}
    sides = {top["a"]["team"]: top["a"], top["b"]["team"]: top["b"]}
    assert "Priya Raman" in _people(sides["Home Feed"]) and "Omar Haddad" in _people(sides["Marketplace"])
    assert all(p["team"] == team for team, side in sides.items() for p in side["people"])  # each side's own people
    assert all(p["slack_id"] for side in sides.values() for p in side["people"])  # mentions, from the directory
    assert top["evidence"] and top["evidence"][0]["a"]["url"] and top["evidence"][0]["b"]["url"]


def test_the_demo_digest_has_something_in_every_section(demo_guild, demo_week):
    data = digest_for(demo_guild).build(demo_week)
    changes = {p["project"]: p["change"] for p in data.projects}
    assert changes["training-pipelines"] == "new" and changes["similar-items"] == "dormant"
    assert changes["drift-watch"] == "changed"
    earlier = {p["project"]: p["change"] for p in digest_for(demo_guild).build(week_of(
        datetime.fromisoformat(data.start) - timedelta(weeks=2), "Europe/London")).projects}
    assert earlier.get("drift-watch") == "back"  # came back two weeks before, after years of silence
    docs = {d["title"]: d for d in data.documents}
    assert docs["The model registry"]["change"] == "new"
    assert {a["name"] for a in docs["The model registry"]["authors"]} == {"Mei Lin", "Tomás Ortega"}
    assert docs["Home feed ranker experiments"]["change"] == "new"  # a wiki page dated last week
    assert docs["Alerting on drift"]["change"] == "edited"
    assert "Population stability index" not in docs  # not touched this week
    crossing = {(c["person"]["name"], c["project"]) for c in data.crossings}
    assert ("Mei Lin", "drift-watch") in crossing
    gaps = {g["question"]: g for g in data.gaps}
    assert gaps["how do I rotate the kafka certificates?"]["asked"] == 2
    assert gaps["who knows about the feature store?"]["not_helpful"] is True
    assert "Mei Lin" in {p["name"] for p in gaps["who knows about the feature store?"]["people"]}  # she wrote it
    assert gaps["how do I rotate the kafka certificates?"]["people"] == []  # nobody wrote about it: nobody named
    assert data.questions == 4
    without_people = json.dumps([{k: v for k, v in g.items() if k != "people"} for g in data.gaps])
    assert not any(x in without_people for x in ("U01PRIYA", "U06SAM", "U03LENA", "U04OMAR", "Sam", "Lena"))  # never who asked
    assert gaps["how do I rotate the kafka certificates?"]["teams"] == ["Marketplace", "Risk"]  # only their teams
    # the syncs section is the stored syncs starting after the week (other tests may have planned some)
    week = week_bounds(demo_week, demo_guild.config.digest.tz)
    assert [s["id"] for s in data.syncs] == [s["id"] for s in syncs_for(demo_guild).upcoming(week)]


def test_a_team_view_keeps_its_items_and_the_overlaps_that_involve_it(demo_guild, demo_week):
    market = digest_for(demo_guild).build(demo_week, team="marketplace")
    assert market.team == "Marketplace" and market.view == "team:Marketplace"
    assert all("Marketplace" in (o["a"]["team"], o["b"]["team"]) for o in market.overlaps)
    assert any({o["a"]["project"], o["b"]["project"]} == {"feed-ranker", "similar-items"} for o in market.overlaps)
    assert {p["team"] for p in market.projects} == {"Marketplace"}
    assert {d["team"] for d in market.documents} == {"Marketplace"}
    risk = digest_for(demo_guild).build(demo_week, team="Risk")
    assert not any("Marketplace" in (o["a"]["team"], o["b"]["team"]) and "Home Feed" in (o["a"]["team"], o["b"]["team"])
                   for o in risk.overlaps)
    assert {c["project"] for c in risk.crossings} == {"drift-watch"}  # Mei Lin joined Risk's project
    with pytest.raises(LookupError, match="no team named"):
        digest_for(demo_guild).build(demo_week, team="Nope")


def test_the_dry_run_prints_the_overlap_people_and_new_pages(demo_guild, demo_week, demo_dir, capsys):
    assert main(["--config", str(demo_dir / "guild.toml"), "digest", "--dry-run", "--channel", "#ml-guild"]) == 0
    out = capsys.readouterr().out
    assert f"digest {demo_week} for #ml-guild (dry run: not posted)" in out
    overlap = out[out.index("Possible duplicate effort"):out.index("Questions nobody")]
    first = overlap.split("look alike")[0]
    assert "feed-ranker" in first and "similar-items" in first and "(Home Feed)" in first and "(Marketplace)" in first
    assert "Priya Raman" in overlap and "Omar Haddad" in overlap
    pages = out[out.index("New and edited pages"):]
    assert "The model registry" in pages and "new" in pages


def test_json_prints_the_data_of_every_configured_channel(demo_guild, demo_week, demo_dir, capsys):
    assert main(["--config", str(demo_dir / "guild.toml"), "digest", "--json", "--week", demo_week]) == 0
    views = json.loads(capsys.readouterr().out)
    assert [v["channel"] for v in views] == ["#ml-guild", "#home-feed", "#marketplace", "#risk", "#ml-platform"]
    assert {v["week"] for v in views} == {demo_week}
    assert main(["--config", str(demo_dir / "guild.toml"), "digest", "--json", "--week", "2026-53"]) == 2


# -- rendering ------------------------------------------------------------------------------------------
def _person(n: int) -> dict:
    return {"name": f"Person <{n}> & co", "team": "T", "slack_id": f"U{n:05d}" if n % 2 else ""}


def _long_digest(n: int = 60) -> DigestData:
    week = week_bounds("2026-W48", "UTC")
    title = "A very long page title " * 8
    d = DigestData(week.label, week.start.isoformat(), week.end.isoformat(), "UTC")
    side = {"project": "p", "team": "A", "url": "https://x.example/p", "people": [_person(1), _person(2)]}
    d.overlaps = [{"a": side, "b": {**side, "team": "B"}, "score": 0.9 - i / 1000, "shared_topics": ["x"],
                   "evidence": [{"a": {"title": title, "url": "https://x.example/a"},
                                 "b": {"title": title, "url": "https://x.example/b"}}], "pair": f"p{i}"} for i in range(n)]
    d.documents = [{"title": f"{i} {title}", "url": f"https://x.example/{i}", "team": "A", "source": "s",
                    "change": "new", "size": 10, "authors": [_person(i)]} for i in range(n)]
    d.gaps = [{"question": f"question {i} " + "why " * 80, "asked": 1, "teams": [], "strength": 0.1,
               "not_helpful": False, "people": [_person(i)]} for i in range(n)]
    return d


@pytest.mark.parametrize("max_items", [5, 20])
def test_a_long_digest_stays_within_slack_limits_and_links_to_the_web_page(max_items):
    data = _long_digest()
    message = render_message(data, "Acme", "https://guild.example", max_items=max_items)
    kit.validate(message.blocks)
    assert len(message.blocks) <= kit.MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= kit.SECTION_TEXT for b in message.blocks if b["type"] == "section")
    text = json.dumps(message.blocks)
    assert "https://guild.example/digest/2026-W48" in text and "more in the" in text
    assert text.index("Possible duplicate effort") < text.index("Questions nobody") < text.index("New and edited")
    assert "0.900" not in text and "score 0.90" in text  # the most important overlap is kept
    assert "<@U00001>" in text and "Person &lt;2&gt; &amp; co" in text  # mentions where known, escaped names otherwise


def test_a_quiet_week_posts_nothing_or_one_line():
    week = week_bounds("2026-W48", "UTC")
    quiet = DigestData(week.label, week.start.isoformat(), week.end.isoformat(), "UTC")
    assert quiet.empty() and render_message(quiet, "Acme") is None
    assert "nothing to say" in render_text(None)
    line = render_message(quiet, "Acme", empty="line")
    assert len([b for b in line.blocks if b["type"] == "section"]) == 1 and "quiet week" in line.text


def test_the_html_page_shows_every_item_escaped():
    data = _long_digest(8)
    page = render_html(data, "Acme")
    assert page.count('<li>') == sum(s.total for s in sections(data)) == 24
    assert "Person &lt;2&gt; &amp; co" in page and "<2>" not in page
    assert '<a href="https://x.example/a">' in page


def test_the_week_must_hold_the_item_in_utc_bounds():
    w = Week("2026-W48", utc(2026, 11, 23), utc(2026, 11, 30), "UTC")
    assert w.contains("2026-11-23T00:00:00+00:00") and not w.contains("2026-11-30T00:00:00+00:00")
    assert w.contains("2026-11-30T00:30:00+01:00") and not w.contains(None) and not w.contains("garbage")


def test_the_archive_lists_the_ended_weeks_newest_first():
    from guildbot.digest.service import archive_weeks, render_archive_html
    weeks = archive_weeks(utc(2026, 12, 1, 12), "Europe/London", count=3)
    assert weeks == ["2026-W48", "2026-W47", "2026-W46"]
    page = render_archive_html(weeks, "Acme <Co>")
    assert '<a href="/digest/2026-W48">2026-W48</a>' in page and "Acme &lt;Co&gt;" in page


def test_a_digest_shows_only_what_its_channel_may_see(tmp_path, make_repo):
    """A team-only source stays out of the guild-wide digest and is in its own team's."""
    from guildbot import Guild

    when = int(utc(2026, 11, 25, 12).timestamp())
    open_repo, secret_repo = make_repo("ranker"), make_repo("fraud-rules")
    open_repo.commit("Ada", "ada@x.org", {"docs/ranking.md": "# Ranking notes\n\nHow we rank the feed.\n"}, when=when)
    secret_repo.commit("Bo", "bo@x.org", {"docs/rules.md": "# Fraud rules\n\nThresholds we keep to ourselves.\n"}, when=when)
    config = write_config(tmp_path, [
        {"kind": "git", "name": "ranker", "team": "Feed", "url": str(open_repo.path)},
        {"kind": "git", "name": "fraud-rules", "team": "Risk", "url": str(secret_repo.path), "visibility": "team"}],
        teams=["Feed", "Risk"])
    guild = Guild.from_config(config)
    try:
        assert not guild.crawl().failed
        everyone = {d["title"] for d in digest_for(guild).build("2026-W48").documents}
        risk = {d["title"] for d in digest_for(guild).build("2026-W48", team="Risk").documents}
        assert everyone == {"Ranking notes"} and risk == {"Fraud rules"}
        assert "fraud-rules" not in json.dumps(digest_for(guild).build("2026-W48").public())
    finally:
        guild.close()
