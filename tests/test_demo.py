"""Search and who on the crawled demo org, with the real embedding model."""
import json
import subprocess
import sys


def test_who_built_a_recommender_names_both_teams(demo_guild):
    experts = demo_guild.experts("who has built a recommender?", limit=5)
    top = {e.name: e for e in experts[:4]}
    assert "Priya Raman" in top and "Omar Haddad" in top
    assert top["Priya Raman"].team == "Home Feed" and top["Omar Haddad"].team == "Marketplace"
    assert all(e.evidence for e in experts)
    assert any("feed-ranker" in ev.url for ev in top["Priya Raman"].evidence)


def test_person_with_two_emails_appears_once_and_bots_never(demo_guild):
    names = [e.name for e in demo_guild.experts("recommender ranking cold start", limit=20)]
    assert names.count("Priya Raman") == 1
    priya = next(e for e in demo_guild.experts("home feed ranker", limit=20) if e.name == "Priya Raman")
    assert {"priya.raman@acme.example", "priya.r.dev@gmail.com"} <= set(priya.emails)
    everyone = " ".join(r["name"] + r["emails"] for r in demo_guild.store.query("SELECT name, emails FROM people"))
    assert "bot" not in everyone.lower() and "github-actions" not in everyone


def test_drift_question_finds_risk_people(demo_guild):
    experts = demo_guild.experts("anyone who knows drift monitoring?", limit=3)
    assert {e.team for e in experts[:2]} == {"Risk"}


def test_search_finds_documents_with_snippets(demo_guild):
    hits = demo_guild.search("population stability index threshold", limit=3)
    assert hits[0].path == "docs/psi.rst" and hits[0].source == "drift-watch"
    assert "0.2" in hits[0].snippet or "drift" in hits[0].snippet.lower()
    wiki = demo_guild.search("what to do when a drift incident opens", limit=3)
    assert wiki[0].title == "Drift incident runbook"
    assert "trackPageView" not in demo_guild.store.query("SELECT text FROM documents WHERE title = 'Drift incident runbook'")[0]["text"]


def test_cli_json_contract(demo_guild, demo_dir):
    config = str(demo_dir / "guild.toml")
    out = subprocess.run([sys.executable, "-m", "guildbot", "--config", config, "who", "who has built a recommender?",
                          "--json", "--limit", "3"], capture_output=True, text=True, check=True)
    experts = json.loads(out.stdout)
    assert set(experts[0]) >= {"name", "emails", "aliases", "team", "score", "evidence"}
    assert set(experts[0]["evidence"][0]) >= {"title", "url"}
    out = subprocess.run([sys.executable, "-m", "guildbot", "--config", config, "search", "cold start", "--json"],
                         capture_output=True, text=True, check=True)
    hits = json.loads(out.stdout)
    assert set(hits[0]) == {"title", "url", "source", "team", "path", "snippet", "score"}
    assert len(hits) <= 10 and hits == sorted(hits, key=lambda h: -h["score"])


def test_sources_command_reports_every_source(demo_guild, demo_dir):
    out = subprocess.run([sys.executable, "-m", "guildbot", "--config", str(demo_dir / "guild.toml"), "sources", "--json"],
                         capture_output=True, text=True, check=True)
    rows = json.loads(out.stdout)
    assert {r["name"] for r in rows} == {s.name for s in demo_guild.config.sources}
    assert all(r["documents"] > 0 and r["last_crawl_at"] and r["last_error"] is None for r in rows)
