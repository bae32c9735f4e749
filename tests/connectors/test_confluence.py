"""The Confluence connector against a stateful fake speaking the REST API v1 JSON (tests/support/fake_confluence.py)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import connectors.confluence as confluence
from conftest import write_config
from connectors.base import Checkpoint, Deleted, Document, SourceContext, SourceError, Unchanged
from connectors.confluence import ENV_EMAIL, ENV_PAT, ENV_TOKEN, ConfluenceConnector, storage_to_text
from support.fake_confluence import EMAIL, PAT, TOKEN, ConfluenceServer, FakeConfluence, User
from support.guilds import hit_urls, open_guild, shared_embedder  # noqa: F401 - shared_embedder is a fixture

ADA = User("5b10a2844c20165700ede21g", "Ada Lovelace", "ada@northwind.test")
GRACE = User("5b10ac8d82e05b22cc7d4ef5", "Grace Hopper")
ROBOT = User("557058:automation", "Automation for Confluence", app=True)
DC_ADA, DC_GRACE = User("ada", "Ada Lovelace"), User("ghopper", "Grace Hopper")
DC_ROBOT = User("svc-confluence-bot", "Confluence Bot")  # Data Center has no accountType: known by its name

DRIFT_BODY = """<p>We detect drift with Kolmogorov-Smirnov tests, see <ac:link><ri:page ri:content-title="Feature Store"/>
</ac:link> and <ac:link><ri:page ri:content-title="Dashboards"/><ac:plain-text-link-body><![CDATA[the drift dashboard]]>
</ac:plain-text-link-body></ac:link>.</p>
<ac:structured-macro ac:name="code" ac:schema-version="1"><ac:parameter ac:name="title">PARAMNOISE</ac:parameter>
<ac:parameter ac:name="language">python</ac:parameter><ac:plain-text-body><![CDATA[if ks_2samp(ref, live).pvalue < 0.01:
    page_owner()]]></ac:plain-text-body></ac:structured-macro>
<table><tbody><tr><th>Window</th><th>Threshold</th></tr><tr><td>hourly</td><td>0.01</td></tr></tbody></table>
<ac:structured-macro ac:name="info"><ac:parameter ac:name="icon">true</ac:parameter><ac:rich-text-body>
<p>Alerts go to the owning team.</p></ac:rich-text-body></ac:structured-macro><ac:image><ri:attachment ri:filename="drift.png"/></ac:image>"""


def populate(fake: FakeConfluence, ada: User = ADA, grace: User = GRACE, robot: User = ROBOT) -> dict[str, str]:
    fake.add_space("ML", "Machine Learning")
    fake.add_space("DATA", "Data Platform")
    ids = {"root": fake.add_page("ML", "ML Guild", "<p>The ML guild shares models, features and monitoring "
                                 "practice across product teams.</p>", ada)}
    ids["drift"] = fake.add_page("ML", "Drift monitoring", DRIFT_BODY, ada, parent=ids["root"])
    for who in (grace, grace, robot):
        fake.edit_page(ids["drift"], who, when=fake.tick())
    ids["features"] = fake.add_page("ML", "Feature Store", "<p>Online features are served from Redis; offline "
                                    "snapshots are written to Parquet for point-in-time training sets.</p>", grace,
                                    parent=ids["root"])
    ids["retrieval"] = fake.add_page("ML", "Embedding retrieval", "<p>Two-tower models with approximate nearest "
                                     "neighbour search rank candidates for the home feed.</p>", grace,
                                     parent=ids["features"])
    ids["onboarding"] = fake.add_page("ML", "Onboarding", "<p>New joiners request GPU quota and set up the conda "
                                      "environment on their laptop.</p>", ada, parent=ids["root"])
    ids["catalogue"] = fake.add_page("DATA", "Data catalogue", "<p>Every table has an owner.</p>", ada)
    return ids


ML_PAGES = ("root", "drift", "features", "retrieval", "onboarding")


@pytest.fixture
def creds(monkeypatch):
    monkeypatch.setenv(ENV_EMAIL, EMAIL)
    monkeypatch.setenv(ENV_TOKEN, TOKEN)
    monkeypatch.setenv(ENV_PAT, PAT)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(ConfluenceConnector, "sleep", staticmethod(waits.append))
    return waits


@pytest.fixture
def fake() -> FakeConfluence:
    return FakeConfluence("cloud", max_limit=2)


@pytest.fixture
def server(fake, creds, sleeps):
    with ConfluenceServer(fake) as srv:
        yield srv


def connector(url: str, tmp_path: Path, **options) -> ConfluenceConnector:
    opts = {"url": url, "spaces": ["ML"], "deployment": "cloud", "page_size": 2, **options}
    return ConfluenceConnector(opts, SourceContext("conf", "ML", tmp_path / "work", tmp_path))


def crawl(conn: ConfluenceConnector, state: dict | None = None) -> tuple[list, Checkpoint]:
    items = list(conn.crawl(state))
    assert isinstance(items[-1], Checkpoint)
    return items, items[-1]


def docs(items: list) -> dict[str, Document]:
    return {i.metadata["page_id"]: i for i in items if isinstance(i, Document)}


def pid(page_id: str) -> str:
    return f"conf:page:{page_id}"


# -- full crawl ---------------------------------------------------------------------------------
def test_full_crawl_follows_pagination_and_reads_only_configured_spaces(server, fake, tmp_path):
    ids = populate(fake)
    items, cp = crawl(connector(server.url, tmp_path))
    assert set(docs(items)) == {ids[k] for k in ML_PAGES}
    assert cp.full_sweep and cp.state["pages"][ids["drift"]] == [4, "ML Guild / Drift monitoring"]
    listings = fake.calls("/wiki/rest/api/content")
    assert [q.get("start", ["0"])[0] for q in listings] == ["0", "2", "4"]  # _links.next followed to the end
    assert all(q["spaceKey"] == ["ML"] and "body.storage" in q["expand"][0] for q in listings)


def test_storage_format_becomes_text(server, fake, tmp_path):
    ids = populate(fake)
    text = docs(crawl(connector(server.url, tmp_path))[0])[ids["drift"]].text
    assert "We detect drift with Kolmogorov-Smirnov tests, see Feature Store and the drift dashboard." in text
    assert "if ks_2samp(ref, live).pvalue < 0.01:\n page_owner()" in text  # code kept (runs of spaces squeezed)
    assert "Window Threshold" in text and "hourly 0.01" in text
    assert "Alerts go to the owning team." in text
    assert "PARAMNOISE" not in text and "python" not in text and "drift.png" not in text and "true" not in text


def test_title_path_url_kind_and_dates(server, fake, tmp_path):
    ids = populate(fake)
    doc = docs(crawl(connector(server.url, tmp_path))[0])[ids["retrieval"]]
    assert doc.id == pid(ids["retrieval"]) and doc.kind == "wiki_page"
    assert doc.title == "Embedding retrieval" and doc.path == "ML Guild / Feature Store / Embedding retrieval"
    assert doc.url == f"{server.url}/spaces/ML/pages/{ids['retrieval']}/Embedding+retrieval"
    assert doc.metadata["space"] == "ML" and doc.updated_at == fake.pages[ids["retrieval"]].versions[-1].when


def test_contributors_come_from_the_version_history(server, fake, tmp_path):
    ids = populate(fake)
    drift = docs(crawl(connector(server.url, tmp_path))[0])[ids["drift"]]
    ada, grace = drift.contributors
    assert (ada.name, ada.email, ada.username, ada.role, ada.count) == (
        "Ada Lovelace", "ada@northwind.test", ADA.key, "author", 1)
    assert (grace.name, grace.email, grace.username, grace.role, grace.count) == (
        "Grace Hopper", "", GRACE.key, "editor", 2)
    versions = fake.pages[ids["drift"]].versions
    assert (grace.first_at, grace.last_at) == (versions[1].when, versions[2].when)
    assert len(fake.calls(f"/content/{ids['drift']}/version")) == 2  # 4 versions, 2 per response
    assert fake.calls(f"/content/{ids['root']}/version") == []  # version 1: the creator is all there is


def test_data_center_flavour_uses_a_bearer_token_and_usernames(creds, sleeps, tmp_path):
    fake = FakeConfluence("datacenter", max_limit=2)
    ids = populate(fake, DC_ADA, DC_GRACE, DC_ROBOT)
    with ConfluenceServer(fake) as srv:
        conn = ConfluenceConnector({"url": srv.url, "spaces": ["ML"]}, SourceContext("conf", "ML", tmp_path, tmp_path))
        assert conn.deployment == "datacenter"
        drift = docs(crawl(conn)[0])[ids["drift"]]
    assert drift.url == f"{srv.url}/display/ML/Drift+monitoring"
    assert [(c.name, c.username, c.role) for c in drift.contributors] == [
        ("Ada Lovelace", "ada", "author"), ("Grace Hopper", "ghopper", "editor")]


@pytest.mark.parametrize("version_api, expected", [
    ("experimental", [("Grace Hopper", "author", 1), ("Ada Lovelace", "editor", 2)]),  # the whole history
    ("none", [("Grace Hopper", "author", 1), ("Ada Lovelace", "editor", 1)]),  # creator and last editor only
])
def test_older_data_center_version_history_paths(creds, sleeps, tmp_path, version_api, expected):
    fake = FakeConfluence("datacenter", version_api=version_api)
    ids = populate(fake, DC_ADA, DC_GRACE, DC_ROBOT)
    fake.edit_page(ids["features"], DC_ADA, when=fake.tick())
    fake.edit_page(ids["features"], DC_ADA, when=fake.tick())
    with ConfluenceServer(fake) as srv:
        conn = ConfluenceConnector({"url": srv.url, "spaces": ["ML"]}, SourceContext("conf", "ML", tmp_path, tmp_path))
        features = docs(crawl(conn)[0])[ids["features"]]
    assert [(c.name, c.role, c.count) for c in features.contributors] == expected
    if version_api == "experimental":  # found once, then asked first
        assert conn.version_paths[0].startswith("/rest/experimental/")


def test_cloud_is_the_default_for_atlassian_net(tmp_path):
    ctx = SourceContext("conf", "ML", tmp_path, tmp_path)
    assert ConfluenceConnector({"url": "https://northwind.atlassian.net/wiki", "spaces": ["ML"]}, ctx).deployment == "cloud"
    assert ConfluenceConnector({"url": "https://wiki.corp", "spaces": ["ML"]}, ctx).deployment == "datacenter"


# -- incremental crawls and sweeps --------------------------------------------------------------
def test_incremental_crawl_asks_cql_for_pages_modified_since_the_last_crawl(server, fake, tmp_path):
    ids = populate(fake)
    conn = connector(server.url, tmp_path)
    _, cp = crawl(conn)
    fake.edit_page(ids["features"], ADA, body="<p>Features now also stream from Kafka.</p>")
    new = fake.add_page("ML", "Model cards", "<p>Every model ships a model card.</p>", ADA, parent=ids["root"],
                        when=datetime.now(timezone.utc))
    fake.requests.clear()
    items, cp2 = crawl(conn, cp.state)

    assert set(docs(items)) == {ids["features"], new}
    assert not cp2.full_sweep and cp2.state["since_sweep"] == 1
    assert fake.calls("/wiki/rest/api/content") == []  # no listing of the whole space
    (search,) = fake.calls("/content/search")
    cql = search["cql"][0]
    assert cql.startswith('space in ("ML") and type = page and lastmodified >= "')
    since = datetime.strptime(re.search(r'>= "([^"]+)"', cql).group(1), "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
    started = datetime.fromisoformat(cp.state["started"])
    assert timedelta(0) <= started - timedelta(days=1) - since < timedelta(minutes=1)


def test_pages_returned_again_with_the_same_version_are_not_fetched_again(server, fake, tmp_path):
    ids = populate(fake)
    conn = connector(server.url, tmp_path)
    _, cp = crawl(conn)
    fake.edit_page(ids["features"], ADA, body="<p>Features now also stream from Kafka.</p>")
    _, cp = crawl(conn, cp.state)
    fake.requests.clear()
    items, _ = crawl(conn, cp.state)  # the edit is still inside the CQL overlap window
    assert [type(i) for i in items] == [Unchanged, Checkpoint] and items[0].id == pid(ids["features"])
    assert fake.calls("/version") == []


def test_every_nth_crawl_sweeps_ids_and_deletes_missing_pages(server, fake, tmp_path):
    ids = populate(fake)
    conn = connector(server.url, tmp_path, sweep_every=3)
    _, cp = crawl(conn)
    fake.delete_page(ids["onboarding"])
    for _ in range(2):  # incremental crawls cannot see deletions
        items, cp = crawl(conn, cp.state)
        assert not any(isinstance(i, Deleted) for i in items) and not cp.full_sweep
    fake.requests.clear()
    items, cp = crawl(conn, cp.state)
    assert [i.id for i in items if isinstance(i, Deleted)] == [pid(ids["onboarding"])]
    assert cp.full_sweep and cp.state["since_sweep"] == 0 and ids["onboarding"] not in cp.state["pages"]
    assert all(isinstance(i, (Unchanged, Deleted, Checkpoint)) for i in items)
    assert all("body" not in q["expand"][0] for q in fake.calls("/wiki/rest/api/content"))  # ids, not bodies


def test_changed_spaces_trigger_a_full_crawl(server, fake, tmp_path):
    ids = populate(fake)
    _, cp = crawl(connector(server.url, tmp_path))
    items, cp2 = crawl(connector(server.url, tmp_path, spaces=["ML", "DATA"]), cp.state)
    assert ids["catalogue"] in docs(items) and cp2.full_sweep
    assert sum(isinstance(i, Unchanged) for i in items) == len(ML_PAGES)


def test_an_interrupted_full_crawl_resumes_without_fetching_stored_pages_again(server, fake, tmp_path, monkeypatch):
    ids = populate(fake)
    monkeypatch.setattr(confluence, "CHECKPOINT_EVERY", 2)
    conn = connector(server.url, tmp_path)
    stream = conn.crawl(None)
    done = []
    for item in stream:
        if isinstance(item, Checkpoint):
            partial = item
            break
        done.append(item.id)
    assert not partial.full_sweep and partial.state["complete"] is False and len(done) == 2
    fake.set_mode("500")
    with pytest.raises(SourceError, match="HTTP 500"):
        list(stream)
    fake.set_mode("")
    fake.requests.clear()
    items, cp = crawl(conn, partial.state)
    assert [i.id for i in items if isinstance(i, Unchanged)] == done
    assert len(docs(items)) == len(ML_PAGES) - 2 and cp.full_sweep


# -- configuration and credential errors ----------------------------------------------------------
def test_missing_cloud_credentials_name_the_variables(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_EMAIL, raising=False)
    monkeypatch.setenv(ENV_TOKEN, TOKEN)
    with pytest.raises(SourceError, match=f"credentials missing: {ENV_EMAIL} not set") as e:
        list(connector("https://northwind.atlassian.net/wiki", tmp_path).crawl(None))
    assert ENV_TOKEN in str(e.value) and "id.atlassian.com" in str(e.value)


def test_missing_data_center_token_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_PAT, raising=False)
    with pytest.raises(SourceError, match=f"credentials missing: {ENV_PAT} not set"):
        list(connector("https://wiki.corp", tmp_path, deployment="datacenter").crawl(None))


def test_unknown_space_is_a_clear_error(server, fake, tmp_path):
    populate(fake)
    with pytest.raises(SourceError, match=r"space .NOPE. not found at .*\(keys are case-sensitive\)"):
        crawl(connector(server.url, tmp_path, spaces=["ML", "NOPE"]))


def test_bad_deployment_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match='use deployment = "cloud" or "datacenter"'):
        list(connector("https://wiki.corp", tmp_path, deployment="server").crawl(None))


def test_storage_to_text_keeps_task_and_link_bodies():
    xhtml = ('<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status>'
             '<ac:task-body>Retrain the ranker</ac:task-body></ac:task></ac:task-list>'
             '<p><ac:link><ri:user ri:account-id="abc"/></ac:link> owns <ac:link><ri:page ri:content-title="Ranker"/>'
             '<ac:link-body>the <strong>ranker</strong> page</ac:link-body></ac:link>&nbsp;now.</p>')
    text = storage_to_text(xhtml)
    assert "Retrain the ranker" in text and "owns the ranker page" in text and "abc" not in text


# -- through the Guild: re-crawl and errors ---------------------------------------------------------
def guild_for(tmp_path: Path, url: str, embedder, **options):
    source = dict(kind="confluence", name="conf", team="ML", url=url, spaces=["ML"], deployment="cloud",
                  page_size=2, **options)
    return open_guild(write_config(tmp_path, [source]), embedder)


def edit_add_delete(fake: FakeConfluence, ids: dict[str, str]) -> str:
    fake.edit_page(ids["drift"], GRACE, body="<p>Drift is now measured with the population stability index, "
                   "computed daily per feature.</p>")
    new = fake.add_page("ML", "Model cards", "<p>Every production model ships a model card describing intended "
                        "use, evaluation data and fairness caveats.</p>", ADA, parent=ids["root"],
                        when=datetime.now(timezone.utc))
    fake.delete_page(ids["onboarding"])
    return new


def test_edit_add_delete_then_recrawl_reprocesses_exactly_those_three(server, fake, tmp_path, shared_embedder):
    ids = populate(fake)
    guild = guild_for(tmp_path, server.url, shared_embedder, sweep_every=1)  # every crawl sweeps ids
    try:
        first = guild.crawl().sources[0]
        assert first.ok and first.added == len(ML_PAGES)
        onboarding_url = f"{server.url}/spaces/ML/pages/{ids['onboarding']}/Onboarding"
        assert hit_urls(guild, "GPU quota conda laptop", 1) == [onboarding_url]
        new = edit_add_delete(fake, ids)

        again = guild.crawl().sources[0]
        assert again.ok, again.error
        assert sorted(again.reprocessed) == sorted(pid(i) for i in (ids["drift"], new, ids["onboarding"]))
        assert (again.added, again.changed, again.deleted, again.unchanged) == (1, 1, 1, len(ML_PAGES) - 2)
        assert hit_urls(guild, "population stability index", 1) == [f"{server.url}/spaces/ML/pages/{ids['drift']}/Drift+monitoring"]
        assert hit_urls(guild, "model card fairness caveats", 1) == [f"{server.url}/spaces/ML/pages/{new}/Model+cards"]
        assert onboarding_url not in hit_urls(guild, "GPU quota conda laptop", 10)
        assert guild.sources()[0]["documents"] == len(ML_PAGES)
    finally:
        guild.close()


def test_between_sweeps_edits_and_additions_arrive_and_the_deletion_waits(server, fake, tmp_path, shared_embedder):
    ids = populate(fake)
    guild = guild_for(tmp_path, server.url, shared_embedder, sweep_every=3)
    try:
        guild.crawl()
        new = edit_add_delete(fake, ids)
        second = guild.crawl().sources[0]
        assert sorted(second.reprocessed) == sorted([pid(ids["drift"]), pid(new)]) and second.deleted == 0
        assert guild.crawl().sources[0].reprocessed == []
        sweep = guild.crawl().sources[0]
        assert sweep.reprocessed == [pid(ids["onboarding"])] and sweep.deleted == 1
    finally:
        guild.close()


@pytest.mark.parametrize("mode, message", [
    ("401", r"Confluence rejected the credentials \(HTTP 401 .*GUILDBOT_CONFLUENCE_EMAIL.*GUILDBOT_CONFLUENCE_TOKEN"),
    ("500", r"HTTP 500 \(after 4 attempts\)"),
    ("429", r"HTTP 429 \(after 4 attempts\) — the server is rate limiting"),
    ("malformed", r"malformed JSON from .*/rest/api/"),
])
def test_server_errors_land_in_the_report_and_keep_documents(server, fake, tmp_path, shared_embedder, sleeps,
                                                             monkeypatch, mode, message):
    ids = populate(fake)
    guild = guild_for(tmp_path, server.url, shared_embedder)
    try:
        assert guild.crawl().sources[0].ok
        fake.edit_page(ids["drift"], ADA, body="<p>This edit must not arrive while the server fails.</p>")
        if mode == "401":
            monkeypatch.setenv(ENV_TOKEN, "revoked-token")
        else:
            fake.set_mode(mode, retry_after="5")
        report = guild.crawl().sources[0]
        assert report.error.startswith("source 'conf': ") and re.search(message, report.error), report.error
        assert guild.sources()[0]["last_error"] == report.error
        assert guild.sources()[0]["documents"] == len(ML_PAGES)
        assert hit_urls(guild, "Kolmogorov-Smirnov drift", 1) == [f"{server.url}/spaces/ML/pages/{ids['drift']}/Drift+monitoring"]
        if mode == "429":
            assert sleeps == [5.0, 5.0, 5.0]  # Retry-After honoured, not the client's own backoff
    finally:
        guild.close()


def test_rate_limit_is_waited_out_via_retry_after(server, fake, tmp_path, shared_embedder, sleeps):
    populate(fake)
    fake.set_mode("429", count=2, retry_after="4")
    guild = guild_for(tmp_path, server.url, shared_embedder)
    try:
        report = guild.crawl().sources[0]
        assert report.ok, report.error
        assert sleeps == [4.0, 4.0] and report.added == len(ML_PAGES)
    finally:
        guild.close()


def test_missing_credentials_land_in_the_report(tmp_path, shared_embedder, monkeypatch):
    monkeypatch.delenv(ENV_EMAIL, raising=False)
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    guild = guild_for(tmp_path, "https://northwind.atlassian.net/wiki", shared_embedder)
    try:
        report = guild.crawl().sources[0]
        assert f"{ENV_EMAIL} and {ENV_TOKEN} not set" in report.error
        assert guild.sources()[0]["last_error"] == report.error
    finally:
        guild.close()
