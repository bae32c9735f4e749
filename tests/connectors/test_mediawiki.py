"""The MediaWiki connector against a real MediaWiki (tests/support/mediawiki.py) and the real pipeline."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from conftest import write_config
from connectors.base import Checkpoint, Deleted, Document, SourceContext, SourceError, Unchanged
from connectors.mediawiki import MediaWikiConnector, wikitext_to_text
from guildbot import Guild
from support.mediawiki import free_port, mediawiki  # noqa: F401 (session fixture)

CANDIDATES = "Home Feed/Ranking/Candidate generation"
RANKER = "Home Feed/Ranking/Ranker"


def connector(tmp_path: Path, url: str, name: str = "wiki", **options) -> MediaWikiConnector:
    ctx = SourceContext(name=name, team="Home Feed", work_dir=tmp_path / "work", base_dir=tmp_path)
    return MediaWikiConnector({"url": url, **options}, ctx)


def crawl(conn: MediaWikiConnector, state=None) -> list:
    return list(conn.crawl(state))


def docs(items) -> dict[str, Document]:
    return {d.title: d for d in items if isinstance(d, Document)}


def titles(hits) -> list[str]:
    return [h.title for h in hits]


# -- wikitext to text ----------------------------------------------------------------------------
def test_the_outline_names_each_heading_as_its_line_in_the_text():
    from connectors.mediawiki.wikitext import wikitext_parts

    text, outline = wikitext_parts("Intro.\n== Setup ==\nSteps.\n=== On [[Linux distribution|Linux]] ===\nApt.\n"
                                   "== Usage ==\nCall it.")
    assert outline == [[2, "Setup"], [3, "On Linux"], [2, "Usage"]]
    assert all(h in text.splitlines() for _, h in outline)
    assert text == wikitext_to_text("Intro.\n== Setup ==\nSteps.\n=== On [[Linux distribution|Linux]] ===\nApt.\n"
                                    "== Usage ==\nCall it.")


def test_wikitext_reads_cleanly():
    text = wikitext_to_text("""== Results ==
'''Bold''' claim with a [[Target page|piped label]], a [[Plain target]] and [https://x.example external text].<ref>Hidden ref</ref>
{{Note|Template body text|kind=warning}} {{DISPLAYTITLE:odd}} {{#if:x|parser|function}}
[[File:Chart.png|thumb|Chart caption]] [[Category:Secret category]] [[:Category:Visible category]]
{| class="wikitable"
|+ Caption line
! Model !! Score
|-
| Alpha || 0.9
|-
| Beta
| 0.7
|}
* first item
* second item
<!-- invisible comment -->
__NOTOC__
<syntaxhighlight lang="python">fit(x)</syntaxhighlight> &amp; <nowiki>[[literal]]</nowiki>
<references />""")
    lines = text.splitlines()
    assert lines[0] == "Results"
    assert "Bold claim with a piped label, a Plain target and external text." in text
    assert "Template body text kind: warning" in text
    assert "Model | Score" in lines and "Alpha | 0.9" in lines and "Beta | 0.7" in lines
    assert "Caption line" in lines
    assert "first item\nsecond item" in text
    assert "Visible category" in text
    assert "fit(x)" in lines and "& [[literal]]" in lines
    for hidden in ("Hidden ref", "Chart caption", "thumb", "Secret category", "invisible", "NOTOC", "odd",
                   "parser", "'''", "{{", "[[Target", "wikitable"):
        assert hidden not in text, hidden


# -- crawling a real wiki ------------------------------------------------------------------------
def test_prefix_selects_pages_under_it(mediawiki, tmp_path):
    got = docs(crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/")))
    assert {CANDIDATES, RANKER} <= set(got)
    assert "Home Feeding rota" not in got  # same words, no slash
    assert "Home Feed/Ranking/Old ranker notes" not in got  # a redirect
    assert not any(t.startswith(("Risk/", "Template:", "Team Wiki:")) or t == "Main Page" for t in got)
    # the wiki's own title rules: underscores are spaces, the first letter is capital
    assert set(docs(crawl(connector(tmp_path, mediawiki.api, prefix="home_Feed/Ranking/")))) == {CANDIDATES, RANKER}
    both = docs(crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/Ranking/", namespaces=[0, 4])))
    assert set(both) == {CANDIDATES, RANKER}
    project = docs(crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/", namespaces=[4])))
    assert set(project) == {"Team Wiki:Home Feed/Style guide"}
    assert "sentence case" in project["Team Wiki:Home Feed/Style guide"].text


def test_categories_select_direct_members(mediawiki, tmp_path):
    assert set(docs(crawl(connector(tmp_path, mediawiki.api, categories=["Ranking"])))) == {CANDIDATES}
    got = docs(crawl(connector(tmp_path, mediawiki.api, categories=["Category:Models"], prefix="Risk/")))
    assert set(got) == {"Risk/Fraud/Chargeback model"}


def test_document_fields_and_text(mediawiki, tmp_path):
    items = crawl(connector(tmp_path, mediawiki.api, name="wiki-hf", prefix="Home Feed/Ranking/"))
    doc = docs(items)[CANDIDATES]
    pageid = mediawiki.pageid(CANDIDATES)
    assert doc.id == f"wiki-hf:page:{pageid}"
    assert (doc.kind, doc.title, doc.path, doc.team, doc.source) == ("wiki_page", CANDIDATES, CANDIDATES, "Home Feed", "wiki-hf")
    assert doc.url == f"http://127.0.0.1:{mediawiki.port}/index.php/Home_Feed/Ranking/Candidate_generation"
    assert doc.updated_at == datetime(2026, 2, 2, 10, 0, tzinfo=timezone.utc)
    assert "Retrieval uses the two-tower model retrained nightly on impressions." in doc.text
    assert "Two-tower embeddings | 0.62 | Ada" in doc.text.splitlines()
    assert "before the ranker scores them." in doc.text
    assert "Ranking" in doc.metadata["categories"]
    for hidden in ("Measured on the March holdout", "pipeline diagram", "[[", "{{", "Category"):
        assert hidden not in doc.text, hidden
    assert isinstance(items[-1], Checkpoint) and items[-1].full_sweep


def test_contributors_from_revision_history(mediawiki, tmp_path):
    got = docs(crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/Ranking/")))

    def people(title):
        return [(c.username, c.name, c.role, c.count, c.first_at.date().isoformat(), c.last_at.date().isoformat())
                for c in got[title].contributors]

    # Tidy Helper is in the bot group; an IP and "Link bot" (a bot by name) are skipped too
    assert people(CANDIDATES) == [("Ada.lovelace", "Ada.lovelace", "author", 2, "2026-01-05", "2026-02-02"),
                                  ("Grace.hopper", "Grace.hopper", "editor", 1, "2026-01-12", "2026-01-12")]
    assert people(RANKER) == [("Grace.hopper", "Grace.hopper", "author", 2, "2026-01-06", "2026-03-01"),
                              ("Alan.turing", "Alan.turing", "editor", 1, "2026-01-20", "2026-01-20")]


def test_small_batches_follow_continuation(mediawiki, tmp_path):
    """batch_size=1 makes every list, content and history query continue; the result must not change."""
    whole = docs(crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/Ranking/")))
    small = connector(tmp_path, mediawiki.api, prefix="Home Feed/Ranking/", batch_size=1)
    urls: list[str] = []
    small.http.session.hooks["response"].append(lambda r, *a, **k: urls.append(r.url))
    paged = docs(crawl(small))
    assert any("gapcontinue" in u for u in urls) and any("rvcontinue" in u for u in urls)
    assert set(paged) == set(whole) == {CANDIDATES, RANKER}
    for title, doc in whole.items():
        assert paged[title].text == doc.text
        assert paged[title].contributors == doc.contributors


def test_crawl_edit_add_delete_recrawl(mediawiki, tmp_path):
    """The required scenario: exactly the edited, added and deleted pages are processed again."""
    config = write_config(tmp_path, [{"kind": "mediawiki", "name": "wiki-home-feed", "team": "Home Feed",
                                      "url": mediawiki.api, "prefix": "Home Feed/"}])
    guild = Guild.from_config(config)
    try:
        first = guild.crawl()
        assert not first.failed, first.failed[0].error
        assert first.sources[0].added == 4
        assert "Home Feed/Experiments/Holdout policy" in titles(guild.search("quokka long-term holdout"))[:1]
        assert "zebra" not in " ".join(h.snippet for h in guild.search("zebra dashboard runbook"))

        edited, deleted = "Home Feed/Onboarding", "Home Feed/Experiments/Holdout policy"
        added = "Home Feed/Experiments/Interleaving"
        edited_id, deleted_id = mediawiki.pageid(edited), mediawiki.pageid(deleted)
        mediawiki.edit(edited, "New engineers start with the feed replay notebook, pair on one on-call shift "
                               "and read the zebra dashboard runbook.", user="Grace.hopper")
        mediawiki.edit(added, "Interleaving compares two rankers on the same traffic by mixing their results "
                              "into one list; the team-draft variant needs far fewer users than an A/B test.",
                       user="Alan.turing")
        mediawiki.delete(deleted)
        added_id = mediawiki.pageid(added)

        second = guild.crawl()
        report = second.sources[0]
        assert report.ok, report.error
        assert (report.added, report.changed, report.deleted) == (1, 1, 1)
        assert report.unchanged == 0  # read from recent changes, not by listing every page again
        assert sorted(report.reprocessed) == sorted(f"wiki-home-feed:page:{i}" for i in (edited_id, added_id, deleted_id))

        assert titles(guild.search("interleaving team-draft rankers"))[0] == added
        hits = guild.search("zebra dashboard runbook")
        assert hits[0].title == edited and "zebra" in hits[0].snippet
        assert deleted not in titles(guild.search("quokka long-term holdout"))
        onboarding = guild.store.query("SELECT i.username, c.role, c.count FROM contributions c JOIN identities i "
                                       "ON i.id = c.identity_id WHERE c.doc_id = ?", [f"wiki-home-feed:page:{edited_id}"])
        assert {(r["username"], r["role"], r["count"]) for r in onboarding} == {
            ("Ada.lovelace", "author", 1), ("Barbara.liskov", "editor", 1), ("Grace.hopper", "editor", 1)}

        third = guild.crawl()  # nothing changed since
        assert third.sources[0].reprocessed == [] and third.sources[0].ok
    finally:
        guild.close()


def test_moves_keep_the_page_id_and_leave_the_prefix(mediawiki, tmp_path):
    conn = connector(tmp_path, mediawiki.api, name="wiki-risk", prefix="Risk/")
    first = crawl(conn)
    before = docs(first)
    inside, outside = "Risk/Runbooks/Alert triage", "Risk/Drift monitoring"
    assert {inside, outside} <= set(before)
    mediawiki.move(inside, "Risk/Runbooks/Pager triage")
    mediawiki.move(outside, "Platform/Drift monitoring", redirect=False)
    mediawiki.move("Drafts/Model cards", "Risk/Model cards")

    items = crawl(connector(tmp_path, mediawiki.api, name="wiki-risk", prefix="Risk/"), first[-1].state)
    after = docs(items)
    assert set(after) == {"Risk/Runbooks/Pager triage", "Risk/Model cards"}  # redirects left behind are not pages
    assert after["Risk/Model cards"].id == f"wiki-risk:page:{mediawiki.pageid('Risk/Model cards')}"
    assert after["Risk/Runbooks/Pager triage"].id == before[inside].id
    assert [c.username for c in after["Risk/Runbooks/Pager triage"].contributors] == ["Barbara.liskov"]  # not the mover
    assert [i.id for i in items if isinstance(i, Deleted)] == [before[outside].id]
    assert isinstance(items[-1], Checkpoint) and not items[-1].full_sweep
    assert str(mediawiki.pageid("Risk/Runbooks/Pager triage")) in items[-1].state["pages"]


def test_interrupted_crawl_resumes_from_its_last_checkpoint(mediawiki, tmp_path):
    """A crawl that fails half-way keeps what was checkpointed; the next one fetches only the rest."""
    with FlakyProxy(mediawiki.api) as proxy:
        config = write_config(tmp_path, [{"kind": "mediawiki", "name": "wiki-ranking", "team": "Home Feed",
                                          "url": proxy.api, "prefix": "Home Feed/Ranking/", "batch_size": 1,
                                          "checkpoint_every": 1}])
        guild = Guild.from_config(config)
        try:
            ranker = mediawiki.pageid(RANKER)
            proxy.fail_when = lambda query: "rvprop=content" in query and f"pageids={ranker}&" in query + "&"
            broken = guild.crawl().sources[0]
            assert "wiki-ranking" in broken.error and "HTTP 500" in broken.error
            kept = [r["title"] for r in guild.store.query("SELECT title FROM documents")]
            assert kept == [CANDIDATES]
            proxy.fail_when, proxy.seen = None, []
            healed = guild.crawl().sources[0]
            assert healed.ok, healed.error
            assert (healed.unchanged, healed.added) == (1, 1)
            fetched = [q for q in proxy.seen if "rvprop=content" in q]
            assert len(fetched) == 1 and f"pageids={ranker}" in fetched[0]  # the first page was not fetched again
            assert healed.reprocessed == [f"wiki-ranking:page:{mediawiki.pageid(RANKER)}"]
        finally:
            guild.close()


def test_expired_or_rescoped_cursor_lists_everything_again(mediawiki, tmp_path):
    """Recent changes expire and a new scope is a new question: both mean one full pass, fetching only what changed."""
    first = crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/Ranking/"))
    state = first[-1].state

    stale = crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/Ranking/"), {**state, "rc_timestamp": "2020-01-01T00:00:00Z"})
    assert sorted(type(i).__name__ for i in stale) == ["Checkpoint", "Unchanged", "Unchanged"]
    assert stale[-1].full_sweep and stale[-1].state["rc_timestamp"] > "2026"

    fresh = crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/Ranking/"), state)
    assert [type(i).__name__ for i in fresh] == ["Checkpoint"] and not fresh[-1].full_sweep

    wider = crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/"), state)
    assert {i.id for i in wider if isinstance(i, Unchanged)} == {d.id for d in docs(first).values()}
    assert "Home Feed/Onboarding" in docs(wider) and wider[-1].full_sweep


def test_private_wiki_needs_a_bot_password(mediawiki, tmp_path, monkeypatch):
    user, password = mediawiki.bot_password()
    monkeypatch.delenv("GUILDBOT_MEDIAWIKI_USER", raising=False)
    monkeypatch.delenv("GUILDBOT_MEDIAWIKI_PASSWORD", raising=False)
    mediawiki.set_private(True)
    try:
        with pytest.raises(SourceError) as denied:
            crawl(connector(tmp_path, mediawiki.api, name="private-wiki", prefix="Home Feed/Ranking/"))
        assert "private-wiki" in str(denied.value) and "readapidenied" in str(denied.value)
        assert "GUILDBOT_MEDIAWIKI_USER" in str(denied.value)

        monkeypatch.setenv("GUILDBOT_MEDIAWIKI_USER", user)
        monkeypatch.setenv("GUILDBOT_MEDIAWIKI_PASSWORD", password)
        assert set(docs(crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/Ranking/")))) == {CANDIDATES, RANKER}

        monkeypatch.setenv("GUILDBOT_MEDIAWIKI_PASSWORD", "wrong-password-0123456789abcdef")
        with pytest.raises(SourceError, match="login as 'Admin@guildbot' failed"):
            crawl(connector(tmp_path, mediawiki.api, prefix="Home Feed/Ranking/"))

        with pytest.raises(SourceError, match="WIKI_BOT_PASSWORD is not set"):
            crawl(connector(tmp_path, mediawiki.api, password_env="WIKI_BOT_PASSWORD"))
    finally:
        mediawiki.set_private(False)


# -- errors --------------------------------------------------------------------------------------
def test_unreachable_wiki_is_a_clear_source_error(tmp_path):
    conn = connector(tmp_path, f"http://127.0.0.1:{free_port()}/api.php", name="wiki-dead")
    conn.http.sleep = lambda s: None
    with pytest.raises(SourceError) as e:
        crawl(conn)
    assert "wiki-dead" in str(e.value) and "connection refused" in str(e.value)


def test_bad_options_fail_that_source_only(mediawiki, tmp_path):
    for options, words in (({"namespaces": ["main"]}, "namespaces"), ({"batch_size": 500}, "batch_size"),
                           ({"categories": [""]}, "categories")):
        with pytest.raises(SourceError, match=words):
            crawl(connector(tmp_path, mediawiki.api, **options))
    with pytest.raises(SourceError, match="not an http"):
        crawl(connector(tmp_path, "wiki.example/api.php"))


RESPONSES = {
    "/garbage/api.php": (200, "application/json", b'{"batchcomplete": tru'),
    "/latin1/api.php": (200, "application/json", '{"curtimestamp": "caf\xe9"}'.encode("latin-1")),
    "/html/api.php": (200, "text/html", b"<!DOCTYPE html><html><body>Main Page</body></html>"),
    "/apierror/api.php": (200, "application/json",
                          b'{"error": {"code": "internal_api_error_DBQueryError", "info": "[abc] Database query error."}}'),
    "/busy/api.php": (429, "text/plain", b"slow down"),
    "/forbidden/api.php": (403, "text/plain", b"no"),
    "/slow/api.php": (200, "application/json", b"{}"),  # answers after SLOW_SECONDS
}
SLOW_SECONDS = 1.0


@pytest.fixture(scope="module")
def broken_server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            status, ctype, body = RESPONSES.get(path, (404, "text/plain", b"no such path"))
            if path.startswith("/slow/"):
                time.sleep(SLOW_SECONDS)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path, words", [
    ("/garbage/api.php", "malformed JSON"),
    ("/latin1/api.php", "not valid UTF-8"),
    ("/html/api.php", "answered with HTML"),
    ("/apierror/api.php", "API error internal_api_error_DBQueryError"),
    ("/busy/api.php", "HTTP 429"),
    ("/forbidden/api.php", "HTTP 403"),
    ("/slow/api.php", "timed out"),
])
def test_broken_responses_are_clear_source_errors(broken_server, tmp_path, path, words):
    conn = connector(tmp_path, broken_server + path, name="wiki-broken", timeout=SLOW_SECONDS / 4)
    conn.http.sleep = lambda s: None
    with pytest.raises(SourceError) as e:
        crawl(conn)
    assert str(e.value).startswith("source 'wiki-broken': ") and words in str(e.value)
    assert e.value.fix


def test_failing_source_keeps_its_documents(mediawiki, tmp_path):
    entry = {"kind": "mediawiki", "name": "wiki-risk", "team": "Risk", "url": mediawiki.api, "prefix": "Risk/Fraud/"}
    guild = Guild.from_config(write_config(tmp_path, [entry]))
    try:
        assert guild.crawl().sources[0].added == 1
    finally:
        guild.close()
    dead = {**entry, "url": f"http://127.0.0.1:{free_port()}/api.php", "timeout": 1}
    guild = Guild.from_config(write_config(tmp_path, [dead]))
    try:
        report = guild.crawl().sources[0]
        assert "wiki-risk" in report.error and "cannot connect" in report.error
        assert titles(guild.search("isolation forest chargeback")) == ["Risk/Fraud/Chargeback model"]
    finally:
        guild.close()


class FlakyProxy:
    """A loopback proxy in front of the real wiki that answers HTTP 500 to requests `fail_when` picks."""

    def __init__(self, upstream: str):
        self.upstream, self.fail_when, self.seen = upstream, None, []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self, method: str) -> None:
                query = self.path.split("?", 1)[1] if "?" in self.path else ""
                proxy.seen.append(query)
                if proxy.fail_when and proxy.fail_when(query):
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
                r = requests.request(method, proxy.upstream + ("?" + query if query else ""), data=body, timeout=30,
                                     headers={k: v for k, v in self.headers.items() if k.lower() in ("content-type", "cookie")})
                self.send_response(r.status_code)
                self.send_header("Content-Type", r.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def do_GET(self):
                self._relay("GET")

            def do_POST(self):
                self._relay("POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api = f"http://127.0.0.1:{self.server.server_address[1]}/api.php"

    def __enter__(self) -> "FlakyProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
