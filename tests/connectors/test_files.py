"""The files connector: a folder of Markdown, reStructuredText and HTML pages."""
import os

from conftest import write_config
from guildbot import Guild


def test_folder_pages_authors_and_incremental(tmp_path):
    wiki = tmp_path / "wiki"
    (wiki / "sub").mkdir(parents=True)
    (wiki / "feature-store.md").write_text("---\ntitle: Feature store\nauthor: Mei Lin <mei@acme.example>\n---\n# FS\n\nOnline features.\n")
    (wiki / "sub" / "runbook.html").write_text(
        "<html><head><title>Runbook</title><meta name='author' content='Sam Okafor <sam@acme.example>'></head>"
        "<body><nav>Home</nav><p>Freeze automated decisions when drift is high.</p><script>x()</script></body></html>")
    (wiki / "psi.rst").write_text("PSI\n===\n\nPopulation stability index.\n")
    (wiki / ".hidden.md").write_text("# secret\n")
    (wiki / "image.png").write_bytes(b"\x89PNG")
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="files", name="wiki", team="Risk", path="wiki")]))
    try:
        s = guild.crawl().sources[0]
        assert (s.added, s.ok) == (3, True)
        docs = {r["path"]: r for r in guild.store.query("SELECT path, title, text FROM documents")}
        assert set(docs) == {"feature-store.md", "sub/runbook.html", "psi.rst"}
        assert docs["sub/runbook.html"]["title"] == "Runbook" and "x()" not in docs["sub/runbook.html"]["text"]
        assert docs["psi.rst"]["title"] == "PSI"
        people = {r["name"]: r["emails"] for r in guild.store.query("SELECT name, emails FROM people")}
        assert set(people) == {"Mei Lin", "Sam Okafor"}

        (wiki / "psi.rst").write_text("PSI\n===\n\nPopulation stability index, ten quantile bins.\n")
        os.utime(wiki / "psi.rst", (1, 2_000_000_000))
        (wiki / "new.md").write_text("# Bandits\n\nContextual bandits for ranking.\n")
        (wiki / "feature-store.md").unlink()
        s = guild.crawl().sources[0]
        assert (s.added, s.changed, s.deleted, s.unchanged) == (1, 1, 1, 1)
        assert sorted(s.reprocessed) == ["wiki:feature-store.md", "wiki:new.md", "wiki:psi.rst"]
        assert guild.search("contextual bandits", limit=1)[0].path == "new.md"
        assert "quantile" in guild.search("population stability index bins", limit=1)[0].snippet
        assert all(h.path != "feature-store.md" for h in guild.search("online features", limit=5))
    finally:
        guild.close()


def test_missing_folder_is_a_clear_error(tmp_path):
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="files", name="wiki", team="Risk", path="nowhere")]))
    try:
        s = guild.crawl().sources[0]
        assert "does not exist" in s.error and "fix `path`" in s.error
    finally:
        guild.close()
