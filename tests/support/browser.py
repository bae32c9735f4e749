"""Headless Debian Chromium driven by Playwright for Python, and the web app served on loopback.

Never `playwright install`: the browser is Debian's /usr/bin/chromium, installed with apt-get
when it is missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def ensure_chromium() -> Path:
    """/usr/bin/chromium, installing Debian's package first when it is missing."""
    if not CHROMIUM.exists():
        if not shutil.which("apt-get"):
            raise RuntimeError("Chromium is missing and apt-get is not available: install Debian's `chromium` package")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, capture_output=True)
    return CHROMIUM


class Browser:
    """One Playwright session with one headless Chromium; `page()` opens a fresh context."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.chromium = self._pw.chromium.launch(executable_path=str(ensure_chromium()), headless=True, args=ARGS)

    def page(self, **context: Any):
        return self.chromium.new_context(**context).new_page()

    def close(self) -> None:
        self.chromium.close()
        self._pw.stop()


def browser_session() -> Iterator[Browser]:
    b = Browser()
    try:
        yield b
    finally:
        b.close()


def focused(page) -> dict[str, str]:
    """The focused element: tag, text, href, id, value."""
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName.toLowerCase(), text: (e.innerText || '').trim(), value: e.value || '',
                href: e.getAttribute('href') || '', id: e.id || ''}; }""")


CONTRAST = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(parseFloat); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => { for (; el; el = el.parentElement) { const c = parse(getComputedStyle(el).backgroundColor);
    if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const box = el.getBoundingClientRect(), st = getComputedStyle(el);
    if (box.width <= 1 || box.height <= 1 || st.visibility === 'hidden') continue;
    const a = lum(parse(st.color)), b = lum(background(el));
    out.push([(Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), el.tagName, el.textContent.trim().slice(0, 40)]);
  }
  return out.sort((x, y) => x[0] - y[0]).slice(0, 3);
}"""


def lowest_contrast(page) -> list:
    """The three text elements with the lowest contrast against their background: [ratio, tag, text]."""
    return page.evaluate(CONTRAST)


def tab_to(page, matches, limit: int = 120, key: str = "Tab") -> dict[str, str]:
    """Press Tab (or `key`, e.g. Shift+Tab) until the focused element satisfies `matches(focused)`;
    fails after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press(key)
        f = focused(page)
        if matches(f):
            return f
    raise AssertionError(f"no element matching after {limit} Tab presses; last focused {focused(page)}")


# -- fixtures (import them into a test module: `from browser import browser, web_site  # noqa: F401`) --------
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    yield from browser_session()


@pytest.fixture(scope="module")
def web_site(demo_guild):
    """The real web app (no Slack) for the crawled demo org, on uvicorn at a loopback port."""
    from support.slack import ServerThread

    from guildbot.web.app import create_app

    server = ServerThread(create_app(demo_guild)).start()
    yield server
    server.stop()
