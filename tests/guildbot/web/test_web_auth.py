"""[web] auth: "none" ignores identity headers; "proxy" believes X-Forwarded-Email only from
trusted_proxies and refuses everything else with 401; the signed-in person is shown on the page."""
from __future__ import annotations

import dataclasses

import httpx
import pytest
from bs4 import BeautifulSoup

from conftest import write_config
from guildbot.config.loader import ConfigError, WebConfig, load_config
from guildbot.web.app import create_app
from guildbot.web.auth import ANONYMOUS, SignedIn, ViewerGuild, WebAuth
from support.slack import ServerThread

FORGED = {"X-Forwarded-Email": "priya.raman@acme.example"}


@pytest.fixture(scope="module")
def serve(demo_guild):
    """Start the real app for the demo guild with a given [web] section; every server is stopped at the end."""
    servers = []

    def start(**web) -> httpx.Client:
        config = dataclasses.replace(demo_guild.config, web=WebConfig(**web))
        guild = type(demo_guild).__new__(type(demo_guild))
        guild.__dict__.update(demo_guild.__dict__, config=config)  # same store and model, other [web]
        server = ServerThread(create_app(guild)).start()
        servers.append(server)
        return httpx.Client(base_url=server.url, timeout=120)

    yield start
    for s in servers:
        s.stop()


def test_a_forged_email_from_an_untrusted_address_gets_401(serve):
    http = serve(auth="proxy", trusted_proxies=["10.20.30.40"])  # the test client is 127.0.0.1: not the proxy
    for url in ("/", "/search?q=drift", "/people", "/api/who?q=drift", "/api/openapi.json", "/api/docs"):
        resp = http.get(url, headers=FORGED)
        assert resp.status_code == 401, url
        assert "127.0.0.1 is not in [web] trusted_proxies" in resp.text
        assert "Priya" not in resp.text
    assert http.get("/api/people", headers=FORGED).json()["detail"].startswith("requests must come through the sign-in proxy")
    assert http.get("/healthz").status_code == 200  # liveness needs no sign-in


def test_the_trusted_proxy_must_say_who_is_signed_in(serve):
    http = serve(auth="proxy", trusted_proxies=["127.0.0.0/8"])
    for headers in ({}, {"X-Forwarded-Email": ""}, {"X-Forwarded-Email": "not an email"},
                    {"X-Forwarded-Email": "a@b\x01c"}):
        resp = http.get("/people", headers=headers)
        assert resp.status_code == 401 and "X-Forwarded-Email" in resp.text, headers


def test_the_signed_in_person_is_shown_and_linked(serve, demo_guild):
    http = serve(auth="proxy", trusted_proxies=["127.0.0.1"])
    soup = BeautifulSoup(http.get("/search?q=drift", headers={"X-Forwarded-Email": "Priya.Raman@acme.example"}).text,
                         "html.parser")
    viewer = soup.select_one(".viewer")
    assert viewer.get_text(" ", strip=True) == "Signed in as Priya Raman (Home Feed)"
    assert viewer.a["href"] == "/people/" + demo_guild.person("priya.raman@acme.example").person_id
    stranger = http.get("/", headers={"X-Forwarded-Email": "visitor@elsewhere.example"})
    shown = BeautifulSoup(stranger.text, "html.parser").select_one(".viewer").get_text(" ", strip=True)
    assert stranger.status_code == 200 and shown == "Signed in as visitor@elsewhere.example"
    assert http.get("/api/sources", headers=FORGED).status_code == 200


def test_auth_none_ignores_identity_headers(serve):
    http = serve()
    resp = http.get("/", headers=FORGED)
    assert resp.status_code == 200 and "Signed in" not in resp.text


def test_the_viewer_is_resolved_once_and_reaches_guild_calls_that_take_it(demo_guild):
    auth = WebAuth(WebConfig(auth="proxy", trusted_proxies=["192.0.2.0/24"]), demo_guild)
    assert auth.from_trusted_proxy("192.0.2.7") and not auth.from_trusted_proxy("192.0.3.7")
    assert not auth.from_trusted_proxy(None) and not auth.from_trusted_proxy("not-an-ip")
    viewer = auth.viewer("192.0.2.7", {"x-forwarded-email": "omar.haddad@acme.example"})
    assert viewer == SignedIn("omar.haddad@acme.example", demo_guild.person("omar.haddad@acme.example").person_id,
                              "Omar Haddad", "Marketplace", demo_guild.viewer_for(email="omar.haddad@acme.example"))

    class Recorder:
        """Stands in for the Guild: records the viewer each call was asked with."""

        def __init__(self):
            self.calls = []

        def __getattr__(self, name):
            def call(*args, viewer="not passed", **kw):
                self.calls.append((name, viewer))
                return []
            return call

    rec = Recorder()
    access = object()  # what the Guild's viewer_for would give
    bound = ViewerGuild(rec, dataclasses.replace(viewer, access=access))
    asked = ["search", "search_page", "experts", "sources", "projects", "project", "projects_of", "project_documents",
             "project_overlaps", "overlaps", "people", "person", "similar", "teams", "team"]
    args = {"search": ("q",), "search_page": ("q",), "experts": ("q",), "project": ("p",), "projects_of": ([],),
            "project_documents": ("p",), "project_overlaps": ("p",), "person": ("x",), "similar": ("x",), "team": ("t",)}
    for name in asked:
        getattr(bound, name)(*args.get(name, ()))
    assert rec.calls == [(name, access) for name in asked]  # every answer is asked as the signed-in person
    ViewerGuild(rec, ANONYMOUS).people()
    assert rec.calls[-1] == ("people", None)


@pytest.mark.parametrize("web, problem", [
    ('[web]\nauth = "oauth"\n', "unknown auth 'oauth'"),
    ('[web]\nauth = "proxy"\n', 'auth = "proxy" needs the addresses of the proxy'),
    ('[web]\nauth = "proxy"\ntrusted_proxies = ["proxy.internal"]\n', "'proxy.internal' is not an IP address or network"),
    ('[web]\nport = 80\n', "unknown field `port`"),
    ('web = 3\n', "must be a table"),
])
def test_web_config_errors_name_the_fix(tmp_path, web, problem):
    config = write_config(tmp_path, [], teams=["T"])
    config.write_text(web + config.read_text() if not web.startswith("[") else config.read_text() + "\n" + web)
    with pytest.raises(ConfigError) as e:
        load_config(config)
    assert problem in str(e.value) and "fix:" in str(e.value)


def test_web_config_defaults_and_values(tmp_path):
    config = write_config(tmp_path, [], teams=["T"])
    assert load_config(config).web == WebConfig()
    config.write_text(config.read_text() + '\n[web]\nauth = "proxy"\ntrusted_proxies = ["10.0.0.0/8", "::1"]\nhost = "0.0.0.0"\n')
    assert load_config(config).web == WebConfig("proxy", ["10.0.0.0/8", "::1"], "0.0.0.0")


# -- what a signed-in person may see (the restricted org of tests/support/visibility_org.py) ---------------------------
from support.guilds import shared_embedder  # noqa: E402,F401 - fixture
from support.visibility_org import SECRET, org, vault_urls  # noqa: E402,F401 - fixture


def test_the_signed_in_person_sees_only_what_their_team_may(org):
    config = dataclasses.replace(org.config, web=WebConfig(auth="proxy", trusted_proxies=["127.0.0.1"]))
    guild = type(org).__new__(type(org))
    guild.__dict__.update(org.__dict__, config=config)
    server = ServerThread(create_app(guild)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            def as_(email: str, url: str) -> httpx.Response:
                return http.get(url, headers={"X-Forwarded-Email": email})

            vault = vault_urls(org)
            outsider = as_("bo@corp.example", f"/search?q={SECRET}+ledger")  # Feed: the vault is not theirs
            soup = BeautifulSoup(outsider.text, "html.parser")
            links = {a["href"] for a in soup.select("ol.hits h3 a")}
            answers = " ".join(x.get_text(" ") for x in soup.select("ol.hits, .people-to-ask"))
            assert outsider.status_code == 200 and not links & vault and SECRET not in answers and "Zed" not in answers
            assert "Zed Quill" not in as_("bo@corp.example", "/people").text
            assert {h["url"] for h in as_("bo@corp.example", f"/api/search?q={SECRET}").json()}.isdisjoint(vault)
            assert "vault" not in {s["name"] for s in as_("bo@corp.example", "/api/sources").json()}
            assert as_("bo@corp.example", "/projects/vault").status_code == 404

            insider = as_("cy@corp.example", f"/search?q={SECRET}+ledger")  # Vault: their own repository
            links = {a["href"] for a in BeautifulSoup(insider.text, "html.parser").select("ol.hits h3 a")}
            assert links & vault and "Signed in as" in insider.text
            assert as_("cy@corp.example", "/projects/vault").status_code == 200
            stranger = as_("someone@else.example", f"/api/search?q={SECRET}").json()  # not in the directory: public only
            assert {h["url"] for h in stranger}.isdisjoint(vault)
    finally:
        server.stop()
