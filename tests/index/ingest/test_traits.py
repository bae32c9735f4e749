"""A document's traits judged at crawl time: MinHash fingerprints, genres by name and by shape, language."""
from __future__ import annotations

import logging

import pytest

from index.ingest import traits
from index.ingest.traits import fingerprint, genre, near_duplicates, resemblance

GUIDE = ("Every ranking model reaches production through a canary that serves two percent of the feed traffic "
         "for one day. The canary compares click-through rate, dwell time and the share of empty feeds between "
         "the two models, and a drop of more than one percent stops the rollout and pages the on-call engineer. "
         "After a clean day the canary grows to twenty percent, then half of the traffic, then replaces the old "
         "model; each step waits for a fresh day of metrics.")


def test_a_copy_with_a_new_title_line_and_markup_is_a_near_duplicate():
    mirror = "Canary releases\n\n" + GUIDE.replace("click-through rate", "'''click-through rate'''")
    assert resemblance(fingerprint(GUIDE), fingerprint(mirror)) >= 0.75
    assert near_duplicates(fingerprint(GUIDE), fingerprint(mirror))


def test_different_texts_and_missing_fingerprints_are_not_duplicates():
    other = ("Features older than six hours are recomputed by the nightly backfill; the ranking service reads them "
             "through the online store and falls back to defaults when a feature is missing from the store.")
    assert resemblance(fingerprint(GUIDE), fingerprint(other)) < 0.2
    assert not near_duplicates(fingerprint(GUIDE), None) and not near_duplicates("", fingerprint(GUIDE))


def test_inside_one_source_only_near_identical_texts_are_duplicates():
    """Template siblings (one page per class) share most shingles but are different pages."""
    sibling = GUIDE.replace("canary", "shadow").replace("ranking", "fraud").replace("click-through rate", "recall")
    r = resemblance(fingerprint(GUIDE), fingerprint(sibling))
    assert 0.3 < r < 0.9
    assert not near_duplicates(fingerprint(GUIDE), fingerprint(sibling), same_source=True)


def test_short_texts_match_only_the_same_words():
    a, b = fingerprint("autoclass implicit.cpu.als.AlternatingLeastSquares"), fingerprint(
        "autoclass implicit.gpu.als.AlternatingLeastSquares")
    assert a == fingerprint("autoclass implicit.cpu.als.AlternatingLeastSquares") and resemblance(a, b) == 0.0


def test_fingerprints_are_stable_across_calls():
    assert fingerprint(GUIDE) == fingerprint(GUIDE) and len(fingerprint(GUIDE)) == traits.PERMUTATIONS * 8


@pytest.mark.parametrize("title, path, expected", [
    ("Changelog", "CHANGELOG.md", "changelog"),
    ("History", "docs/HISTORY.rst", "changelog"),
    ("Team/Lib/whats new/v 150", "Team/Lib/whats new/v 150", "release_notes"),
    ("Release notes", "docs/release-notes.md", "release_notes"),
    ("TODO", "TODO.md", "todo"),
    ("License", "LICENSE.txt", "licence"),
    ("Team/Lib/developer guide/release", "Team/Lib/developer guide/release", ""),  # how to release: a guide
    ("Team/Lib/governance/minutes/2019-05-15", "Team/Lib/governance/minutes/2019-05-15", ""),  # a date, not a version
    ("Quickstart", "docs/quickstart.md", ""),
    ("Team/Lib/references", "Team/Lib/references", "bibliography"),
    ("Citing lib", "docs/citing_lib.rst", "bibliography"),
    ("Team/Lib/api reference/forecasting", "Team/Lib/api reference/forecasting", ""),  # the API, not papers
    ("Team/Lib/user guide/index", "Team/Lib/user guide/index", "contents"),
    ("Lib documentation", "docs/index.rst", "contents"),
    ("index.js", "web/src/index.js", ""),  # code, not a table of contents
])
def test_genre_by_name(title, path, expected):
    assert genre(title, path, "Some prose about the library and how to use it.") == expected


def test_history_units_have_no_genre():
    # a commit or folder is named by the path it changed ("publications/"), not by what kind of writing it is
    assert genre("adding bibs", "publications/", "adding bibs") == "bibliography"
    assert traits.traits("adding bibs", "publications/", "adding bibs", "commit").genre == ""
    assert traits.traits("publications/", "publications/", "publications/", "folder").genre == ""


def test_genre_by_shape():
    changes = "\n".join(f"Version 1.{n}.0 (2024-0{n % 9 + 1}-01)\n- fixed a bug in the fitter\n- faster plots"
                        for n in range(8))
    assert genre("Project notes", "NOTES.md", changes) == "changelog"
    api = "API reference\n\n.. autosummary::\n:toctree: generated\n" + "\n".join(
        f"lib.models.Estimator{n}" for n in range(12))
    assert genre("Models", "docs/api/models.rst", api) == "api_index"
    stub = "Estimator\n\n.. autoclass:: lib.models.Estimator\n:members:"  # one class's page is not an index
    assert genre("Estimator", "docs/api/estimator.rst", stub) == ""
    papers = "Papers\n\n" + "\n".join(f"Author{n}, A. et al. ({2010 + n}). Detecting change number {n}. Journal of "
                                      f"Things, 4(2), pp. 1-9." for n in range(9))
    assert genre("Background", "docs/background.md", papers) == "bibliography"
    told = "\n".join(f"In {2010 + n} the team moved the fitter to a new home and wrote about it." for n in range(9))
    assert genre("Story", "docs/story.md", told) == ""  # years alone make no citation
    table = "\n".join(f"0.{n}5 0.{n}1 0.{n}3" for n in range(9))  # numbers are not version headings
    assert genre("Bins", "docs/bins.md", "Equal width bins\n" + table) == ""


def test_language_degrades_clearly_without_a_detector(monkeypatch, caplog):
    import builtins

    real_import = builtins.__import__

    def no_detector(name, *args, **kwargs):
        if name.startswith("py3langid"):
            raise ImportError("no py3langid")
        return real_import(name, *args, **kwargs)

    traits._detector.cache_clear()
    traits._say_detection_is_off.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_detector)
    try:
        with caplog.at_level(logging.WARNING, logger="guildbot"):
            assert traits.language(GUIDE) == ""
            assert "py3langid" not in caplog.text  # a question's language is asked silently
            assert traits.traits("Guide", "guide.md", GUIDE).lang is None  # not judged: the next crawl with a detector does
            traits.traits("Other", "other.md", GUIDE)
        assert caplog.text.count("pip install py3langid") == 1  # said once, when documents are judged
    finally:
        traits._detector.cache_clear()
        traits._say_detection_is_off.cache_clear()


def test_language_is_detected_when_the_detector_is_installed():
    traits._detector.cache_clear()
    assert traits.language(GUIDE) == "en"
    assert traits.language("Chaque modèle de classement passe par un déploiement progressif qui sert deux pour cent "
                           "du trafic pendant une journée entière avant de remplacer l'ancien modèle.") == "fr"
    assert traits.language("ok") == ""  # too little to tell
