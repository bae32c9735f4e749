"""The committed locks cover every dependency pyproject.toml names, at versions its ranges allow.

`make demo` and `make test` install the locks with `--no-deps`, so a dependency missing from them
would only show up as an ImportError somewhere later; this test names it instead.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# torch is installed on its own before the lock (the CPU build); the Makefile pins it.
INSTALLED_APART = {"torch"}


def locked(path: Path) -> dict[str, Version]:
    """`name==version` lines of a pip-tools style lock, by canonical name."""
    pins: dict[str, Version] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = Version(match.group(2))
    return pins


def hashed(path: Path) -> bool:
    """Every pin is followed by at least one sha256 hash."""
    blocks = re.split(r"\n(?=[A-Za-z0-9])", path.read_text())
    pins = [b for b in blocks if re.match(r"^[A-Za-z0-9_.\-]+==", b)]
    return bool(pins) and all("--hash=sha256:" in b for b in pins)


def check_covered(requirements: list[str], pins: dict[str, Version]) -> list[str]:
    problems = []
    for text in requirements:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        if name in INSTALLED_APART:
            continue
        if name not in pins:
            problems.append(f"{req.name} is not in the lock")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{req.name}: the lock has {pins[name]}, pyproject asks {req.specifier}")
    return problems


@pytest.mark.parametrize("lock, extras", [("requirements.txt", []), ("requirements-dev.txt", ["dev"])])
def test_lock_covers_pyproject(lock: str, extras: list[str]) -> None:
    project = PYPROJECT["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    pins = locked(ROOT / lock)
    assert check_covered(wanted, pins) == [], "run `make lock` after changing pyproject.toml"
    assert hashed(ROOT / lock), f"{lock} must pin every package with its hashes (make lock)"
    # the build backend is locked too: the editable install runs without build isolation
    build = [r for r in PYPROJECT["build-system"]["requires"]]
    assert check_covered(build, pins) == []


def test_torch_is_pinned_to_one_release_in_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^TORCH\s*\?=\s*torch==\d+\.\d+\.\d+\s*$", makefile, re.M)
    assert "--no-deps" in makefile and "--require-hashes" in makefile


def test_the_check_finds_a_missing_or_out_of_range_pin() -> None:
    pins = {"numpy": Version("1.20.0")}
    assert check_covered(["numpy>=1.26", "requests>=2"], pins) == [
        "numpy: the lock has 1.20.0, pyproject asks >=1.26",
        "requests is not in the lock",
    ]
