"""The git connector through the real pipeline: incremental crawls, force-push, mailmap, co-authors, bots."""
import json

import pytest

from conftest import write_config
from connectors.common.housekeeping import is_housekeeping
from guildbot import Guild
from support.postgres import BACKENDS, backend_url

ADA = ("Ada Lovelace", "ada@acme.example")
BOB = ("Bob Stone", "bob@acme.example")


def files(ids):
    """The ids of file documents among `ids` (not commits, not folders)."""
    return sorted(i for i in ids if ":commit:" not in i and not i.endswith("/"))


def people_of(guild, path):
    rows = guild.store.query(
        """SELECT p.name, c.count FROM contributions c JOIN identities i ON i.id = c.identity_id
           JOIN people p ON p.id = i.person_id JOIN documents d ON d.id = c.doc_id WHERE d.path = ? AND d.kind != 'commit'""",
        [path])
    out: dict[str, int] = {}
    for r in rows:  # a person's commits, summed over their identities
        out[r["name"]] = out.get(r["name"], 0) + r["count"]
    return out


@pytest.fixture(params=BACKENDS)
def repo_and_guild(request, make_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("GUILDBOT_DATABASE", backend_url(request, request.param))  # "": the embedded default
    repo = make_repo("ranker")
    repo.commit(*ADA, {"README.md": "# Ranker\n\nA recommender for the home feed.\n",
                       "docs/intro.md": "# Intro\n\nCollaborative filtering on implicit feedback.\n",
                       "src/model.py": "x = 1\n"})
    repo.commit(*BOB, {"docs/old.md": "# Old\n\nAn obsolete page about gradient boosting.\n"})
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="ranker", team="Feed", url=str(repo.path))]))
    assert getattr(guild.store, "backend", "sqlite") == request.param
    yield repo, guild
    guild.close()


def test_first_crawl_indexes_prose_and_paths(repo_and_guild):
    repo, guild = repo_and_guild
    report = guild.crawl()
    s = report.sources[0]
    # four files, the docs/ folder (src/ holds one file only) and two commits
    assert s.ok and s.added == 7 and s.deleted == 0
    assert len(files(s.reprocessed)) == 4
    docs = {r["path"]: r for r in guild.store.query("SELECT path, kind, title, text FROM documents WHERE kind NOT IN ('commit')")}
    assert docs["docs/"]["kind"] == "folder" and "intro" in docs["docs/"]["text"]
    assert docs["README.md"]["kind"] == "readme"
    assert docs["docs/intro.md"]["kind"] == "doc" and "Collaborative filtering" in docs["docs/intro.md"]["text"]
    assert docs["src/model.py"]["kind"] == "code_path" and "model" in docs["src/model.py"]["text"]
    assert "x = 1" not in docs["src/model.py"]["text"]
    # the README carries repository-level contributors
    assert people_of(guild, "README.md") == {"Ada Lovelace": 1, "Bob Stone": 1}


def test_incremental_add_modify_delete(repo_and_guild):
    repo, guild = repo_and_guild
    guild.crawl()
    repo.commit(*BOB, {"docs/intro.md": "# Intro\n\nMatrix factorization with alternating least squares.\n",
                       "docs/new.md": "# New\n\nSession-based recommendations with transformers.\n",
                       "docs/old.md": None})
    s = guild.crawl().sources[0]
    # the three files, the docs/ folder they changed, and the new commit
    assert (s.added, s.changed, s.deleted) == (2, 2, 1)
    assert files(s.reprocessed) == ["ranker:docs/intro.md", "ranker:docs/new.md", "ranker:docs/old.md"]
    assert "ranker:docs/" in s.reprocessed and sum(":commit:" in i for i in s.reprocessed) == 1
    assert s.unchanged == 1  # the README, re-read for its repository-level contributors
    assert guild.search("alternating least squares", limit=1)[0].path == "docs/intro.md"
    assert guild.search("session-based transformers", limit=1)[0].path == "docs/new.md"
    assert all(h.path != "docs/old.md" for h in guild.search("obsolete gradient boosting", limit=10))
    assert people_of(guild, "docs/intro.md") == {"Ada Lovelace": 1, "Bob Stone": 1}


def test_unchanged_recrawl_embeds_nothing(repo_and_guild):
    repo, guild = repo_and_guild
    guild.crawl()
    encoded = []
    real = guild.embedder.encode
    guild.embedder.encode = lambda texts, **kw: (encoded.extend(texts), real(texts, **kw))[1]
    s = guild.crawl().sources[0]
    assert encoded == [] and s.chunks_embedded == 0 and (s.added, s.changed, s.deleted) == (0, 0, 0)
    # a new commit that touches nothing prose-worthy re-embeds nothing either
    repo.commit(*ADA, {}, message="empty")
    s = guild.crawl().sources[0]
    assert encoded == [] and s.chunks_embedded == 0


def test_force_push_is_detected_and_reread(repo_and_guild):
    repo, guild = repo_and_guild
    guild.crawl()
    first = repo.git("rev-list", "--max-parents=0", "HEAD").strip()
    repo.git("reset", "-q", "--hard", first)
    repo.commit(*BOB, {"docs/rewrite.md": "# Rewrite\n\nHistory was rewritten with a new page on bandits.\n"})
    s = guild.crawl().sources[0]
    assert s.ok
    paths = {r["path"] for r in guild.store.query("SELECT path FROM documents WHERE kind NOT IN ('commit', 'folder')")}
    assert paths == {"README.md", "docs/intro.md", "src/model.py", "docs/rewrite.md"}
    # docs/old.md and Bob's first commit are gone; docs/rewrite.md and the new commit are new
    assert s.deleted == 2 and s.added == 2
    commits = {r["id"].rsplit(":", 1)[1] for r in guild.store.query("SELECT id FROM documents WHERE kind = 'commit'")}
    assert commits == set(repo.git("rev-list", "HEAD").split())
    assert guild.search("bandits", limit=1)[0].path == "docs/rewrite.md"


def test_mailmap_coauthors_and_bots(make_repo, tmp_path):
    repo = make_repo("mapped")
    repo.commit("Ada L", "ada.personal@gmail.com", {"README.md": "# M\n\nDrift monitoring.\n"})
    repo.commit(*BOB, {"docs/a.md": "# A\n\nKS tests.\n"}, co_authors=[("Ada L", "ada.personal@gmail.com"),
                                                                     ("dependabot[bot]", "bot@github.com")])
    repo.commit("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", {"requirements.txt": "x\n"})
    repo.commit("pre-commit-ci[bot]", "66853113+pre-commit-ci[bot]@users.noreply.github.com", {"docs/a.md": "# A\n\nKS tests!\n"})
    repo.commit("Renovate Bot", "bot@renovateapp.com", {"requirements.txt": "y\n"})
    repo.commit(*ADA, {".mailmap": "Ada Lovelace <ada@acme.example> Ada L <ada.personal@gmail.com>\n"})
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="mapped", team="Risk", url=str(repo.path))]))
    try:
        guild.crawl()
        # the co-author is credited, mapped through .mailmap, and merged with her work identity
        assert people_of(guild, "docs/a.md") == {"Bob Stone": 1, "Ada Lovelace": 1}
        # ... and her commit of the .mailmap itself is housekeeping, no commit to the repository
        assert people_of(guild, "README.md") == {"Ada Lovelace": 2, "Bob Stone": 1}
        names = {r["name"] for r in guild.store.query("SELECT name FROM people")}
        assert names == {"Ada Lovelace", "Bob Stone"}
        idents = " ".join(r["name"] + r["email"] for r in guild.store.query("SELECT name, email FROM identities"))
        assert "bot" not in idents.lower()
    finally:
        guild.close()


def test_an_author_named_again_as_a_co_author_counts_once(make_repo, tmp_path):
    """The same address under another spelling in a Co-authored-by trailer is the same person's one commit."""
    repo = make_repo("twice")
    repo.commit(*BOB, {"src/x.py": "x = 1\n"}, co_authors=[("bob", BOB[1].upper()), ("Ada Lovelace", ADA[1])])
    # two trailers for one co-author, a handle and a full name at one address: one commit of hers
    repo.commit(*BOB, {"src/y.py": "y = 1\n"}, co_authors=[("ada", ADA[1]), ("Ada Lovelace", ADA[1])])
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="twice", team="Risk", url=str(repo.path))]))
    try:
        guild.crawl()
        assert people_of(guild, "src/x.py") == {"Bob Stone": 1, "Ada Lovelace": 1}
        assert people_of(guild, "src/y.py") == {"Bob Stone": 1, "Ada Lovelace": 1}
    finally:
        guild.close()


def test_failure_keeps_previous_documents_and_resumes(repo_and_guild, monkeypatch):
    repo, guild = repo_and_guild
    guild.crawl()
    before = guild.store.count("documents"), guild.store.count("chunks"), guild.vectors.size
    repo.commit(*BOB, {"docs/intro.md": "# Intro\n\nRewritten text about reinforcement learning.\n",
                       "docs/more.md": "# More\n\nContextual bandits.\n"})
    import connectors.git as git

    real = git.GitConnector._document
    calls = {"n": 0}

    def flaky(self, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk went away")
        return real(self, *args)

    monkeypatch.setattr(git.GitConnector, "_document", flaky)
    s = guild.crawl().sources[0]
    assert not s.ok and "disk went away" in s.error and "ranker" in s.error
    assert (guild.store.count("documents"), guild.store.count("chunks"), guild.vectors.size) == before
    assert "Collaborative filtering" in guild.store.query("SELECT text FROM documents WHERE path='docs/intro.md'")[0]["text"]
    assert guild.sources()[0]["last_error"] == s.error
    monkeypatch.setattr(git.GitConnector, "_document", real)
    s = guild.crawl().sources[0]
    assert s.ok and (s.added, s.changed) == (2, 2)  # two files, the new commit, the docs/ folder
    assert guild.sources()[0]["last_error"] is None


def test_unreachable_repository_is_a_clear_error(tmp_path):
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="gone", team="T", url="http://127.0.0.1:9/nope.git")]))
    try:
        s = guild.crawl().sources[0]
        assert not s.ok and "'gone'" in s.error and "cannot fetch" in s.error and "check the URL" in s.error
    finally:
        guild.close()


def test_index_upgrade_reembeds_stored_documents_once(repo_and_guild, monkeypatch):
    repo, guild = repo_and_guild
    guild.crawl()
    chunks_before = guild.store.count("chunks")
    import index.storage.sqlite.store

    monkeypatch.setattr(index.storage.sqlite.store, "INDEX_VERSION", index.storage.sqlite.store.INDEX_VERSION + 1)
    report = guild.crawl()
    assert report.refreshed == guild.store.count("documents") == 7 and report.sources[0].chunks_embedded == 0
    assert guild.store.count("chunks") == chunks_before == guild.vectors.size
    assert guild.crawl().refreshed == 0
    assert guild.search("alternating least squares collaborative filtering", limit=1)[0].path == "docs/intro.md"


def test_repository_url_is_cloned_then_fetched(make_repo, tmp_path):
    repo = make_repo("remote")
    repo.commit(*ADA, {"README.md": "# Remote\n\nA forecasting service.\n"})
    url = "file://" + str(repo.path)
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="remote", team="T", url=url)]))
    try:
        assert guild.crawl().sources[0].added == 2  # the README and its commit
        mirror = tmp_path / "data" / "sources" / "remote" / "repo.git"
        assert (mirror / "HEAD").exists()
        repo.commit(*BOB, {"docs/holidays.md": "# Holidays\n\nHoliday effects in forecasts.\n"})
        s = guild.crawl().sources[0]
        assert (s.added, s.changed, s.deleted) == (2, 0, 0)
        assert guild.search("holiday effects", limit=1)[0].path == "docs/holidays.md"
        assert guild.search("holiday effects", limit=1)[0].url.startswith(url)
    finally:
        guild.close()


def test_people_and_catalog_are_rebuilt_only_when_something_changed(repo_and_guild, monkeypatch, tmp_path):
    repo, guild = repo_and_guild
    guild.crawl()
    import guildbot.guild as g

    calls = []
    real = g.resolve
    monkeypatch.setattr(g, "resolve", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    report = guild.crawl()
    assert calls == [] and report.people.people == 2  # nothing changed: nothing rebuilt, counts still reported
    repo.commit(*BOB, {"docs/more.md": "# More\n\nText.\n"})
    guild.crawl()
    assert calls == [1]
    # a write committed by a crawl that died before the rebuild is caught by the next crawl
    guild.store.set_meta("derived_stale", "1")
    guild.crawl()
    assert calls == [1, 1]
    # a new directory is a reason too
    directory = tmp_path / "people.csv"
    directory.write_text("name,email,team\nAda Lovelace,ada@acme.example,Feed\n")
    guild.config.directory = directory
    guild.crawl()
    assert calls == [1, 1, 1]
    assert guild.store.query("SELECT team FROM people WHERE name = 'Ada Lovelace'")[0]["team"] == "Feed"


def test_huge_and_binary_files_are_indexed_by_path_only(make_repo, tmp_path):
    repo = make_repo("big")
    repo.commit(*ADA, {"README.md": "# Big\n\nSmall readme.\n", "docs/huge.md": "# Huge\n\n" + "word " * 1_300_000,
                       "docs/blob.txt": "\x00\x01binary"})
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="big", team="T", url=str(repo.path))]))
    try:
        s = guild.crawl().sources[0]
        assert s.ok and len(files(s.reprocessed)) == 3
        rows = {r["path"]: r for r in guild.store.query("SELECT path, text, metadata FROM documents")}
        assert "larger than 5 MB" in rows["docs/huge.md"]["metadata"] and len(rows["docs/huge.md"]["text"]) < 200
        assert "\x00" not in rows["docs/blob.txt"]["text"]
    finally:
        guild.close()


CY = ("Cy Ito", "cy@acme.example")


def test_folders_count_each_commit_once_and_say_what_they_hold(make_repo, tmp_path):
    repo = make_repo("monitor")
    repo.commit(*ADA, {"README.md": "# Monitor\n\nModel monitoring.\n",
                       "monitor/drift/__init__.py": '"""Drift detectors: PSI and KS tests on feature windows."""\n',
                       "monitor/drift/psi.py": "x = 1\n", "monitor/drift/ks.py": "x = 1\n",
                       "monitor/alerts/pager.py": "x = 1\n", "monitor/alerts/slack.py": "x = 1\n"},
                message="[ENH] Start the monitor (#1)")
    repo.commit(*BOB, {"monitor/drift/psi.py": "x = 2\n"}, message="Quantile bins for the population stability index")
    repo.commit(*BOB, {"monitor/drift/ks.py": "x = 2\n", "monitor/drift/psi.py": "x = 3\n"},
                message="Two-sample KS test per feature\n\nUses the training window as reference.\n\n"
                        "Signed-off-by: Bob Stone <bob@acme.example>", co_authors=[CY])
    repo.commit("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", {"monitor/drift/ks.py": "x = 4\n"},
                message="Bump scipy")
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="monitor", team="Risk", url=str(repo.path))]))
    try:
        guild.crawl()
        # one commit that changed two files of the folder counts once
        assert people_of(guild, "monitor/drift/") == {"Ada Lovelace": 1, "Bob Stone": 2, "Cy Ito": 1}
        assert people_of(guild, "monitor/drift/psi.py") == {"Ada Lovelace": 1, "Bob Stone": 2, "Cy Ito": 1}
        folder = guild.store.query("SELECT * FROM documents WHERE path = 'monitor/drift/' AND kind = 'folder'")[0]
        assert folder["kind"] == "folder" and folder["title"] == "monitor/drift/"
        text = folder["text"]
        assert "Drift detectors: PSI and KS tests" in text and "psi py" in text and "ks py" in text
        assert "Quantile bins for the population stability index" in text and "Two-sample KS test per feature" in text
        assert "Bump scipy" not in text and "pager" not in text
        # commits: subject and body without trailers; bots skipped; attached to the paths they changed
        commits = {r["title"]: r for r in guild.store.query("SELECT * FROM documents WHERE kind = 'commit'")}
        assert set(commits) == {"Start the monitor", "Quantile bins for the population stability index",
                                "Two-sample KS test per feature"}
        ks = commits["Two-sample KS test per feature"]
        assert "training window as reference" in ks["text"] and "Signed-off-by" not in ks["text"]
        assert ks["path"] == "monitor/drift/" and "monitor/drift/ks.py" in ks["metadata"]
        # commits and folders are evidence for `who`, not answers of `search`
        assert all(h.doc_id.count(":commit:") == 0 and not h.path.endswith("/")
                   for h in guild.search("population stability index quantile bins", limit=10))
    finally:
        guild.close()


def test_merge_commits_are_skipped_and_folders_follow_the_tree(make_repo, tmp_path):
    repo = make_repo("flow")
    repo.commit(*ADA, {"README.md": "# Flow\n", "flow/a.py": "x\n", "flow/b.py": "x\n", "old/c.py": "x\n", "old/d.py": "x\n"},
                message="Start")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(*BOB, {"flow/b.py": "y\n"}, message="Faster flow solver")
    repo.git("checkout", "-q", "main")
    repo.commit(*ADA, {"README.md": "# Flow\n\nSolvers.\n"}, message="Describe the solvers")
    env = {"GIT_AUTHOR_NAME": ADA[0], "GIT_AUTHOR_EMAIL": ADA[1], "GIT_COMMITTER_NAME": ADA[0], "GIT_COMMITTER_EMAIL": ADA[1]}
    repo.git("-c", "commit.gpgsign=false", "merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature", env=env)
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="flow", team="T", url=str(repo.path))]))
    try:
        guild.crawl()
        titles = {r["title"] for r in guild.store.query("SELECT title FROM documents WHERE kind = 'commit'")}
        assert titles == {"Start", "Faster flow solver", "Describe the solvers"}
        assert {r["path"] for r in guild.store.query("SELECT path FROM documents WHERE kind = 'folder'")} == {"flow/", "old/"}
        repo.commit(*CY, {"old/c.py": None, "old/d.py": None, "flow/c.py": "z\n"}, message="Drop the old solver")
        s = guild.crawl().sources[0]
        assert s.ok and "flow:old/" not in guild.store.doc_ids("flow") and "flow:flow/" in s.reprocessed
        assert people_of(guild, "flow/") == {"Ada Lovelace": 1, "Bob Stone": 1, "Cy Ito": 1}
        assert "Drop the old solver" in {r["title"] for r in guild.store.query("SELECT title FROM documents WHERE kind = 'commit'")}
    finally:
        guild.close()


def test_history_can_be_turned_off_and_on(make_repo, tmp_path):
    repo = make_repo("plain")
    repo.commit(*ADA, {"README.md": "# Plain\n", "pkg/a.py": "x\n", "pkg/b.py": "x\n"}, message="Start")
    source = dict(kind="git", name="plain", team="T", url=str(repo.path), history=False)
    guild = Guild.from_config(write_config(tmp_path, [source]))
    try:
        guild.crawl()
        assert {r["kind"] for r in guild.store.query("SELECT kind FROM documents")} == {"readme", "code_path"}
    finally:
        guild.close()
    source["history"] = True  # toggling the option reads the repository again
    guild = Guild.from_config(write_config(tmp_path, [source]))
    try:
        guild.crawl()
        assert {r["kind"] for r in guild.store.query("SELECT kind FROM documents")} == {"readme", "code_path", "folder", "commit"}
    finally:
        guild.close()


def test_a_moved_file_keeps_its_people(make_repo, tmp_path):
    repo = make_repo("shapes")
    body = "".join(f"line {i} of the shapelet model\n" for i in range(40))
    repo.commit(*ADA, {"README.md": "# Shapes\n", "src/shapelets.py": body})
    repo.commit(*ADA, {"src/shapelets.py": body + "one more\n"})
    repo.commit(*ADA, {"src/shapelets.py": body + "one more\ntwo more\n"})
    repo.commit(*BOB, {"src/shapelets.py": None, "src/shapelets/model.py": body + "one more\ntwo more\n"})  # moved
    repo.commit(*BOB, {"src/shapelets/model.py": body + "changed\n"})
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="shapes", team="T", url=str(repo.path))]))
    guild.crawl()
    assert people_of(guild, "src/shapelets/model.py") == {"Ada Lovelace": 3, "Bob Stone": 2}
    # her commits, made before the move, changed the file that is src/shapelets/model.py today
    paths = [json.loads(r["metadata"])["paths"] for r in guild.store.query(
        "SELECT metadata FROM documents WHERE kind = 'commit' ORDER BY updated_at")]
    assert paths[1:] == [["src/shapelets/model.py"]] * 4 and "src/shapelets/model.py" in paths[0]
    # a move made later, by an incremental crawl, renames the earlier commits' paths as well
    repo.commit(*BOB, {"src/shapelets/model.py": None, "src/shapelets/learned.py": body + "changed\n"})
    guild.crawl()
    paths = [json.loads(r["metadata"])["paths"] for r in guild.store.query(
        "SELECT metadata FROM documents WHERE kind = 'commit' ORDER BY updated_at")]
    assert paths[1:] == [["src/shapelets/learned.py"]] * 5
    guild.close()


def test_glued_file_names_and_class_names_in_commits_read_as_words(make_repo, tmp_path):
    repo = make_repo("split")
    repo.commit(*ADA, {"README.md": "# Split\n", "split/cutoff.py": "x\n"})
    repo.commit(*BOB, {"split/expandingcutoff.py": "x\n"}, message="Add ExpandingCutoffSplitter for backtests")
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="split", team="T", url=str(repo.path))]))
    guild.crawl()
    text = {r["path"]: r["text"] for r in guild.store.query("SELECT path, text FROM documents WHERE kind != 'commit'")}
    assert "expanding cutoff" in text["split/expandingcutoff.py"]
    commit = guild.store.query("SELECT text FROM documents WHERE kind = 'commit' AND title LIKE 'Add%'")[0]["text"]
    assert "expanding cutoff splitter" in commit
    assert [h.path for h in guild.search("expanding cutoff", limit=1)] == ["split/expandingcutoff.py"]
    guild.close()


@pytest.mark.parametrize("path, housekeeping", [
    (".mailmap", True), ("web/yarn.lock", True), ("poetry.lock", True), ("package-lock.json", True), ("uv.lock", True),
    (".github/workflows/ci.yml", True), (".circleci/config.yml", True), (".gitlab-ci.yml", True), (".travis.yml", True),
    ("azure-pipelines.yml", True), ("pkg/.gitignore", True), (".pre-commit-config.yaml", True), ("VERSION", True),
    ("pkg/_version.py", True), ("requirements.txt", False), ("recommender/model.py", False),
    (".github/CODEOWNERS", False), ("docs/workflows/ci.md", False), ("pkg/version_range.py", False),
])
def test_housekeeping_files_are_named_by_one_predicate(path, housekeeping):
    assert is_housekeeping(path) is housekeeping


DEE = ("Dee Park", "dee@acme.example")
EVE = ("Eve Moss", "eve@acme.example")


def test_housekeeping_files_are_never_evidence(make_repo, tmp_path):
    """'1 commit to .mailmap' was shown under a recommender's author: a commit that also touched .mailmap
    spread its weight to that file, which, changed once, looked like the person's own module."""
    repo = make_repo("feed")
    repo.commit(*ADA, {"README.md": "# Feed\n\nThe home feed recommender.\n", ".mailmap": "Ada Lovelace <ada@acme.example>\n",
                       "poetry.lock": "# lock\n", "recommender/model.py": "x\n", "recommender/features.py": "x\n"},
                message="Start the recommender")
    repo.commit(*ADA, {"recommender/model.py": "y\n"}, message="Faster recommender model")
    repo.commit(*ADA, {"recommender/features.py": "y\n"}, message="Recommender features from clicks")
    # each of these people's only commit mentions the recommender but changes housekeeping only
    repo.commit(*BOB, {".mailmap": "Ada Lovelace <ada@acme.example>\nBob Stone <bob@acme.example>\n"},
                message="Add the recommender team to .mailmap")
    repo.commit(*CY, {"poetry.lock": "# lock 2\n"}, message="Lock the recommender dependencies")
    repo.commit(*DEE, {".github/workflows/recommender.yml": "on: push\n", ".github/workflows/lint.yml": "on: push\n"},
                message="Recommender CI")
    repo.commit(*EVE, {"recommender/_version.py": "__version__ = '1.1'\n"}, message="Release the recommender 1.1")
    guild = Guild.from_config(write_config(tmp_path, [dict(kind="git", name="feed", team="T", url=str(repo.path))]))
    try:
        guild.crawl()
        # the symptom: each of them was listed, with '1 commit to .mailmap' (or the lock file...) as evidence
        experts = guild.experts("who built the recommender?")
        assert [e.name for e in experts] == ["Ada Lovelace"]
        shown = " ".join(f"{e.title} {e.url} {e.what}" for x in experts for e in x.evidence)
        assert not any(name in shown for name in (".mailmap", "poetry.lock", "workflows", "_version"))
        # the cause: those files were documents, and their commits counted towards folders and the repository
        paths = [r["path"] for r in guild.store.query("SELECT path FROM documents WHERE kind != 'commit'")]
        assert "recommender/model.py" in paths and not [p for p in paths if is_housekeeping(p) or p.startswith(".github/")]
        commits = guild.store.query("SELECT title, metadata FROM documents WHERE kind = 'commit'")
        assert {r["title"] for r in commits} == {"Start the recommender", "Faster recommender model",
                                                 "Recommender features from clicks"}
        assert not [r for r in commits if ".mailmap" in r["metadata"] or "poetry.lock" in r["metadata"]]
        # the README's repository-level contributors count no housekeeping-only commit
        assert people_of(guild, "README.md") == {"Ada Lovelace": 3}
        # an incremental crawl reads housekeeping changes the same way
        repo.commit(*BOB, {".gitignore": "cache/\n", "recommender/.gitignore": "*.pkl\n"}, message="Ignore the recommender cache")
        s = guild.crawl().sources[0]
        assert s.ok and (s.added, s.changed, s.deleted) == (0, 0, 0)
        assert [e.name for e in guild.experts("who built the recommender?")] == ["Ada Lovelace"]
    finally:
        guild.close()
