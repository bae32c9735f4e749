"""Documentation that is generated from code stays current."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_sources_page_matches_the_connectors():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "sources_doc.py"), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
