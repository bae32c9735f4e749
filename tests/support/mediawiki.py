"""A real MediaWiki for tests: Debian's package, SQLite, PHP's built-in server on a free loopback port.

`mediawiki` (session-scoped) installs a fresh wiki in a temporary folder (its LocalSettings.php and
SQLite database live there; the code is read in place through MW_CONFIG_FILE), creates the accounts of
FIXTURE_USERS, imports FIXTURE_PAGES from an XML export written here, and serves it until the
session ends. Tests change it through MediaWiki's own maintenance scripts (edit, delete, move),
so every change gets the authors, log entries and recent changes a real wiki would record.

Import it into a test module: `from mediawiki_fixture import mediawiki  # noqa: F401 (fixture)`.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import requests

MEDIAWIKI_DIR = Path("/usr/share/mediawiki")
APT_PACKAGES = ["mediawiki", "php-sqlite3", "php-cli", "php-intl", "php-mbstring", "php-xml"]
ADMIN, ADMIN_PASSWORD = "Admin", "Guild-admin-2026!"

# name -> in the wiki's bot group
FIXTURE_USERS = {"Ada.lovelace": False, "Grace.hopper": False, "Alan.turing": False, "Barbara.liskov": False,
                 "Edsger.dijkstra": False, "Tidy Helper": True, "Link bot": False}

CANDIDATES = """== Overview ==
'''Candidate generation''' narrows the catalogue to about 500 items per user before the [[Home Feed/Ranking/Ranker|ranker]] scores them.<ref>Measured on the March holdout.</ref>
{{Note|Retrieval uses the two-tower model retrained nightly on impressions.}}
[[File:Candidate pipeline.png|thumb|The candidate pipeline diagram]]

== Sources ==
{| class="wikitable"
! Source !! Recall@500 !! Owner
|-
| Two-tower embeddings || 0.62 || [[User:Ada.lovelace|Ada]]
|-
| Co-visitation counts || 0.48 || Grace
|}

See also [https://example.org/two-tower the two-tower paper] and [[Risk/Fraud/Chargeback model]].
<references />
[[Category:Ranking]]
"""

RANKER = """The ranker is a LambdaMART model (gradient boosted trees) scoring each candidate for click and dwell.
* Features come from the feature store, refreshed hourly.
* Training runs every night on the last 28 days of impressions.
[[Category:Models]]
"""

# (title, namespace, [(user or "ip:ADDRESS", timestamp, text), ...]) oldest revision first
FIXTURE_PAGES: list[tuple[str, int, list[tuple[str, str, str]]]] = [
    ("Template:Note", 10, [("Ada.lovelace", "2026-01-02T09:00:00Z", "<div class=\"note\">'''Note:''' {{{1}}}</div>")]),
    ("Home Feed/Ranking/Candidate generation", 0, [
        ("Ada.lovelace", "2026-01-05T10:00:00Z", "Candidate generation picks about 500 items per user."),
        ("Grace.hopper", "2026-01-12T10:00:00Z", "Candidate generation picks about 500 items per user.\n\nTwo sources."),
        ("Tidy Helper", "2026-01-13T10:00:00Z", "Candidate generation picks about 500 items per user.\n\nTwo sources. "),
        ("Ada.lovelace", "2026-02-02T10:00:00Z", CANDIDATES),
    ]),
    ("Home Feed/Ranking/Ranker", 0, [
        ("Grace.hopper", "2026-01-06T10:00:00Z", "The ranker is a LambdaMART model."),
        ("ip:10.0.0.7", "2026-01-08T10:00:00Z", "The ranker is a LambdaMART model (gradient boosted trees)."),
        ("Link bot", "2026-01-09T10:00:00Z", "The ranker is a LambdaMART model (gradient boosted trees). "),
        ("Alan.turing", "2026-01-20T10:00:00Z", RANKER.split("\n*")[0] + "\n"),
        ("Grace.hopper", "2026-03-01T10:00:00Z", RANKER),
    ]),
    ("Home Feed/Ranking/Old ranker notes", 0, [("Grace.hopper", "2026-01-07T10:00:00Z", "#REDIRECT [[Home Feed/Ranking/Ranker]]")]),
    ("Home Feed/Onboarding", 0, [
        ("Ada.lovelace", "2026-01-03T10:00:00Z", "New engineers start with the feed replay notebook."),
        ("Barbara.liskov", "2026-01-04T10:00:00Z", "New engineers start with the feed replay notebook and pair on one on-call shift."),
    ]),
    ("Home Feed/Experiments/Holdout policy", 0, [
        ("Edsger.dijkstra", "2026-01-10T10:00:00Z", "Every feed experiment keeps a five percent long-term holdout of quokka users for a full quarter."),
    ]),
    ("Home Feeding rota", 0, [("Alan.turing", "2026-01-11T10:00:00Z", "Who feeds the office fish on which weekday.")]),
    ("Project:Home Feed/Style guide", 4, [("Ada.lovelace", "2026-01-11T11:00:00Z", "Write page titles in sentence case.")]),
    ("Risk/Fraud/Chargeback model", 0, [
        ("Barbara.liskov", "2026-01-14T10:00:00Z", "An isolation forest flags orders likely to end in a chargeback."),
        ("Alan.turing", "2026-01-15T10:00:00Z", "An isolation forest flags orders likely to end in a chargeback.\n[[Category:Models]]"),
    ]),
    ("Risk/Drift monitoring", 0, [("Alan.turing", "2026-01-16T10:00:00Z", "A weekly Kolmogorov-Smirnov test compares feature distributions.")]),
    ("Drafts/Model cards", 0, [("Barbara.liskov", "2026-01-18T10:00:00Z", "Every production model gets a model card naming its owner.")]),
    ("Risk/Runbooks/Alert triage", 0, [("Barbara.liskov", "2026-01-17T10:00:00Z", "Acknowledge the page, then check the fraud score dashboard.")]),
]


def export_xml(pages: list[tuple[str, int, list[tuple[str, str, str]]]]) -> str:
    """A MediaWiki XML export (schema 0.11) of these pages, as importDump.php reads it."""
    out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">']
    for title, ns, revisions in pages:
        out.append(f"  <page>\n    <title>{escape(title)}</title>\n    <ns>{ns}</ns>")
        for user, ts, text in revisions:
            who = f"<ip>{escape(user[3:])}</ip>" if user.startswith("ip:") else f"<username>{escape(user)}</username>"
            out.append(f"    <revision>\n      <timestamp>{ts}</timestamp>\n      <contributor>{who}</contributor>\n"
                       f"      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
                       f'      <text xml:space="preserve">{escape(text)}</text>\n    </revision>')
        out.append("  </page>")
    out.append("</mediawiki>\n")
    return "\n".join(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PHP_MODULES = {"pdo_sqlite", "intl", "mbstring", "dom"}


def ensure_mediawiki() -> None:
    """Install Debian's MediaWiki and the PHP it needs when any of it is missing."""
    if (MEDIAWIKI_DIR / "maintenance" / "install.php").exists() and shutil.which("php"):
        modules = subprocess.run(["php", "-m"], capture_output=True, text=True).stdout.split()
        if PHP_MODULES <= set(modules):
            return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES],
                   check=True, env=env, capture_output=True)


@dataclass
class MediaWiki:
    """One running wiki: its folder, port and api.php URL, and the maintenance scripts to change it."""

    root: Path
    port: int
    proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api.php"

    @property
    def settings(self) -> Path:
        return self.root / "conf" / "LocalSettings.php"

    def _env(self) -> dict[str, str]:
        return dict(os.environ, MW_CONFIG_FILE=str(self.settings))

    # -- lifecycle ---------------------------------------------------------------------------
    def install(self) -> None:
        ensure_mediawiki()
        (self.root / "data").mkdir(parents=True)
        self.settings.parent.mkdir(parents=True)
        self.php("install.php", "--confpath", str(self.settings.parent), "--dbtype", "sqlite", "--dbpath", str(self.root / "data"), "--dbname", "wiki",
                 "--server", f"http://127.0.0.1:{self.port}", "--scriptpath", "", "--pass", ADMIN_PASSWORD,
                 "Team Wiki", ADMIN)
        with open(self.settings, "a") as f:
            f.write("\n$wgEnableUploads = false;\n$wgRateLimits = [];\n$wgEnableBotPasswords = true;\n"
                    "if ( file_exists( __DIR__ . '/private.flag' ) ) {\n"
                    "\t$wgGroupPermissions['*']['read'] = false;\n}\n")
        for user, bot in FIXTURE_USERS.items():
            self.php("createAndPromote.php", *(["--bot"] if bot else []), "--force", user,
                     f"Pw-{secrets.token_hex(8)}-x")
        dump = self.root / "fixture.xml"
        dump.write_text(export_xml(FIXTURE_PAGES), encoding="utf-8")
        self.php("importDump.php", "--quiet", str(dump))

    def start(self) -> None:
        log = open(self.root / "server.log", "wb")
        self.proc = proc = subprocess.Popen(["php", "-S", f"127.0.0.1:{self.port}", "-t", str(MEDIAWIKI_DIR)],
                                            cwd=MEDIAWIKI_DIR, env=self._env(), stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(self.api, params={"action": "query", "meta": "siteinfo", "format": "json"},
                                timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"MediaWiki did not start on port {self.port}: {(self.root / 'server.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.proc = None

    # -- changing the wiki -------------------------------------------------------------------
    def php(self, script: str, *args: str, input: str | None = None) -> str:
        env = self._env() if script != "install.php" else None
        out = subprocess.run(["php", str(MEDIAWIKI_DIR / "maintenance" / script), *args], cwd=self.root, env=env, input=input,
                             capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"{script} {' '.join(args)} failed: {out.stdout[-1000:]} {out.stderr[-1000:]}")
        return out.stdout

    def edit(self, title: str, text: str, user: str = "Ada.lovelace", summary: str = "test edit") -> None:
        self.php("edit.php", "--user", user, "--summary", summary, title, input=text)

    def delete(self, title: str) -> None:
        listing = self.root / "delete.txt"
        listing.write_text(title + "\n", encoding="utf-8")
        self.php("deleteBatch.php", "--u", ADMIN, "--r", "test deletion", str(listing))

    def move(self, old: str, new: str, redirect: bool = True) -> None:
        listing = self.root / "move.txt"
        listing.write_text(f"{old}|{new}\n", encoding="utf-8")
        self.php("moveBatch.php", "--u", ADMIN, "--r", "test move", *([] if redirect else ["--noredirects"]), str(listing))

    def bot_password(self, user: str = ADMIN, appid: str = "guildbot") -> tuple[str, str]:
        """A bot password with read rights: (login name "User@appid", password)."""
        password = secrets.token_hex(16)
        self.php("createBotPassword.php", "--appid", appid, "--grants", "basic", user, password)
        return f"{user}@{appid}", password

    def set_private(self, private: bool) -> None:
        flag = self.settings.parent / "private.flag"
        if private:
            flag.write_text("1")
        else:
            flag.unlink(missing_ok=True)

    # -- reading it back ---------------------------------------------------------------------
    def pageid(self, title: str) -> int:
        r = requests.get(self.api, params={"action": "query", "titles": title, "format": "json", "formatversion": "2"},
                         timeout=10).json()
        page = r["query"]["pages"][0]
        if page.get("missing"):
            raise KeyError(title)
        return page["pageid"]


@pytest.fixture(scope="session")
def mediawiki(tmp_path_factory) -> MediaWiki:
    """A running MediaWiki holding FIXTURE_PAGES; stopped by pid at the end of the session."""
    wiki = MediaWiki(tmp_path_factory.mktemp("mediawiki"), free_port())
    wiki.install()
    wiki.start()
    try:
        yield wiki
    finally:
        wiki.stop()
