"""Housekeeping files: tracked files that are never evidence of what a person knows.

A commit to `.mailmap`, a regenerated lock file, a CI workflow, a `.gitignore` line or a version
bump says nothing about the topic of the repository, yet such files are changed by many people in
passing and, changed rarely, look like a person's own module ("1 commit to .mailmap" as the
evidence for a recommender's author). `is_housekeeping(path)` is the one definition: the
repository connectors index no document for these files and count no commit to them towards a
folder, a repository or a commit document, so they can neither vote nor be shown as evidence.
"""
from __future__ import annotations

from pathlib import PurePosixPath

# by file name, wherever the file lies (lower case)
HOUSEKEEPING_NAMES = frozenset({
    # identity and repository plumbing
    ".mailmap", ".gitignore", ".gitattributes", ".gitmodules", ".editorconfig", ".pre-commit-config.yaml",
    # lock files: generated pins, not written by hand (requirements*.txt are hand-written and stay evidence)
    "poetry.lock", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "pipfile.lock",
    "uv.lock", "pdm.lock", "cargo.lock", "gemfile.lock", "composer.lock", "go.sum",
    # CI configurations
    ".gitlab-ci.yml", ".travis.yml", "azure-pipelines.yml", "appveyor.yml", ".appveyor.yml", ".cirrus.yml",
    "bitbucket-pipelines.yml",
    # files a release only bumps
    "version", "version.txt", "_version.py", "__version__.py",
})
# by folder, from the repository's root: CI configurations
HOUSEKEEPING_FOLDERS = (".github/workflows/", ".circleci/")


def is_housekeeping(path: str) -> bool:
    """Is this repository path a housekeeping file ('.mailmap', 'web/yarn.lock', '.github/workflows/ci.yml')?"""
    if path.startswith(HOUSEKEEPING_FOLDERS):
        return True
    return PurePosixPath(path).name.casefold() in HOUSEKEEPING_NAMES
