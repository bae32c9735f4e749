"""A small org with restricted sources, crawled with the real model: the fixture of the permission
tests (test_visibility.py, test_slack_visibility.py).

Teams Feed (public repository `feed`), Vault (repository `vault`, visibility "team") and Audit
(folder wiki `audit-wiki`, visible to Audit and Vault). Ada (Feed) also committed to the vault under
a private email; Zed, a contractor outside the directory, is known only through the vault.
"""
from __future__ import annotations

import pytest

from support.guilds import open_guild, shared_embedder  # noqa: F401

SECRET = "quasar"  # a word only the restricted repository uses

DIRECTORY = """name,email,team,slack_id,tz
Ada Lind,ada@corp.example,Feed,U0ADA,Europe/Oslo
Bo Berg,bo@corp.example,Feed,U0BO,Europe/Oslo
Cy Moss,cy@corp.example,Vault,U0CY,Europe/Oslo
Di Park,di@corp.example,Audit,U0DI,Europe/Oslo
"""


@pytest.fixture(scope="module")
def org(tmp_path_factory, shared_embedder):  # noqa: F811
    from conftest import ScriptedRepo, write_config

    root = tmp_path_factory.mktemp("vis")
    feed = ScriptedRepo(root / "repos" / "feed")
    feed.commit("Ada Lind", "ada@corp.example", {"README.md": "# Feed ranker\n\nThe feed ranker orders the home feed "
                                                 "with gradient boosted trees and learns from clicks.\n"})
    feed.commit("Bo Berg", "bo@corp.example", {"docs/ranking.md": "# Ranking features\n\nClick through rate, dwell "
                                               "time and freshness are the ranking features of the home feed.\n"})
    vault = ScriptedRepo(root / "repos" / "vault")
    vault.commit("Cy Moss", "cy@corp.example", {"README.md": f"# Vault\n\nThe {SECRET} ledger keeps payment risk "
                                                f"scores; {SECRET} replication runs nightly.\n"})
    vault.commit("Ada Lind", "ada.private@home.example", {"docs/ledger.md": f"# Ledger notes\n\nHow the {SECRET} "
                                                          f"ledger reconciles payment risk scores every night.\n"})
    vault.commit("Zed Quill", "zed@contractor.example", {"docs/ops.md": f"# Operations\n\nOn call for the {SECRET} "
                                                         f"ledger: restart the {SECRET} replica, check risk scores.\n"})
    wiki = root / "wiki"
    wiki.mkdir()
    (wiki / "audit.md").write_text("# Audit trail\n\nThe audit trail of payment risk scores is kept for seven years.\n")
    (root / "directory.csv").write_text(DIRECTORY)
    config = write_config(root, [
        {"kind": "git", "name": "feed", "team": "Feed", "url": str(feed.path)},
        {"kind": "git", "name": "vault", "team": "Vault", "url": str(vault.path), "visibility": "team"},
        {"kind": "files", "name": "audit-wiki", "team": "Audit", "path": str(wiki), "visibility": ["Audit", "Vault"]},
    ], teams=["Feed", "Vault", "Audit"], directory="directory.csv")
    guild = open_guild(config, shared_embedder)
    report = guild.crawl()
    assert not report.failed, [s.error for s in report.failed]
    yield guild
    guild.close()


def vault_urls(guild, answers_only: bool = False) -> set[str]:
    """The restricted repository's documents, from the index itself; `answers_only` leaves out its
    commits and folders, which are evidence for `who`, never search hits."""
    kinds = " AND kind NOT IN ('commit', 'folder')" if answers_only else ""
    return {r["url"] for r in guild.store.query(f"SELECT url FROM documents WHERE source = 'vault'{kinds}")}
