"""History units as pure functions: subjects, bodies, folders, the subjects that describe a folder."""
import pytest

from connectors.common.history import (Commit, ancestors, clean_subject, renamed, common_folder, docstring, folder_readme,
                                folder_subjects, folders_of, message_body)


@pytest.mark.parametrize("raw, clean", [
    ("[ENH] Add NSGA-II sampler (#123)", "Add NSGA-II sampler"),
    ("[BUG][DOC] fix the docstring #77", "fix the docstring"),
    ("ENH: faster kernels", "faster kernels"),
    ("feat(io): read parquet files", "read parquet files"),
    ("Add a README", "Add a README"),
    ("[WIP]", "[WIP]"),  # nothing left after the tag: keep what was written
])
def test_clean_subject(raw, clean):
    assert clean_subject(raw) == clean


def test_message_body_drops_trailers():
    body = "Longer reasoning.\n\nCo-authored-by: A <a@x>\nSigned-off-by: B <b@x>\nReviewed-by: C"
    assert message_body(body) == "Longer reasoning."


def test_folders_paths_and_docstrings():
    assert ancestors("a/b/c.py") == ["a/", "a/b/"] and ancestors("README.md") == []
    assert common_folder(["a/b/c.py", "a/b/d/e.py"]) == "a/b/" and common_folder(["a/x.py", "b/y.py"]) == ""
    tree = ["pkg/a.py", "pkg/sub/b.py", "pkg/sub/c.py", "pkg/sub/README.md", "lone/x.py"]
    assert folders_of(tree) == {"pkg/": ["pkg/a.py", "pkg/sub/README.md", "pkg/sub/b.py", "pkg/sub/c.py"],
                                "pkg/sub/": ["pkg/sub/README.md", "pkg/sub/b.py", "pkg/sub/c.py"]}
    assert folder_readme("pkg/sub/", tree) == "pkg/sub/README.md" and folder_readme("pkg/", tree) is None
    assert docstring('# coding: utf-8\n"""Drift detectors.\n\nMore."""\nimport x\n') == "Drift detectors. More."
    assert docstring("import x\n") == ""


def test_a_folder_is_described_by_the_commits_that_changed_mostly_it():
    commits = [
        Commit("1", False, [("A", "a@x")], 1, "Add the drift detectors", "", [("m/drift/psi.py", 50), ("m/drift/ks.py", 40)]),
        Commit("2", False, [("B", "b@x")], 2, "Reformat everything", "", [(f"f{i}.py", 1) for i in range(20)] + [("m/drift/psi.py", 1)]),
        Commit("3", True, [("A", "a@x")], 3, "Merge branch 'x'", "", [("m/drift/psi.py", 1)]),
        Commit("4", False, [], 4, "Bump scipy", "", [("m/drift/ks.py", 1)]),
    ]
    assert folder_subjects(commits, {"m/", "m/drift/"}) == {"m/": ["Add the drift detectors"],
                                                          "m/drift/": ["Add the drift detectors"]}


@pytest.mark.parametrize("field, parsed", [("a/{x => y}/f.py", ("a/x/f.py", "a/y/f.py")), ("a/{ => b}/f.py", ("a/f.py", "a/b/f.py")),
                                           ("{a => }/f.py", ("a/f.py", "f.py")), ("f.py => g/h.py", ("f.py", "g/h.py")),
                                           ("plain/file.py", (None, "plain/file.py"))])
def test_renamed_reads_git_numstat_moves(field, parsed):
    assert renamed(field) == parsed


def test_renames_name_each_commits_paths_as_they_are_today():
    from connectors.common.history import Renames
    names = Renames()  # read newest first: a.py moved to b.py, then b.py to c.py, then a new a.py was written
    assert names.today("a.py") == "a.py"  # the new a.py's own commit
    names.moved("b.py", "c.py")
    assert names.today("b.py") == "c.py"
    names.moved("a.py", "b.py")
    assert names.today("a.py") == "c.py" and names.today("x.py") == "x.py"  # the first a.py is c.py today
