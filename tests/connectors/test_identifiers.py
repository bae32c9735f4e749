"""Identifiers as words: CamelCase and snake_case pieces, glued lower-case runs cut by a repository's words."""
import pytest

from connectors.common.identifiers import identifier_words, pieces, split_compound, vocabulary
from connectors.common.text import path_words

VOCAB = vocabulary(["Add ExpandingWindowSplitter", "fix soft_dtw gradients", "src/split/cutoff.py", "Refactor backend"])


def test_pieces_split_camel_and_snake_case():
    assert pieces("ExpandingCutoffSplitter") == ["expanding", "cutoff", "splitter"]
    assert pieces("HTTPServer2") == ["http", "server", "2"]
    assert pieces("soft_dtw-loss.py") == ["soft", "dtw", "loss", "py"]


def test_vocabulary_holds_the_pieces_a_repository_uses():
    assert {"expanding", "window", "splitter", "soft", "dtw", "cutoff", "backend"} <= VOCAB
    assert "expandingwindowsplitter" not in VOCAB


@pytest.mark.parametrize("run, cut", [("expandingcutoff", ["expanding", "cutoff"]), ("softdtw", ["soft", "dtw"]),
                                      ("expandingwindowsplitter", ["expanding", "window", "splitter"]),
                                      ("backend", []),  # short: a word, not two glued
                                      ("zzzcutoff", []), ("cutoffs", [])])  # no cut into known words only
def test_split_compound_cuts_into_the_fewest_known_words(run, cut):
    assert split_compound(run, VOCAB) == cut


def test_path_words_cut_glued_names_with_the_vocabulary():
    assert path_words("src/split/expandingcutoff.py", VOCAB).endswith("expanding cutoff")
    assert path_words("src/split/expandingcutoff.py") == "src/split/expandingcutoff.py\nsrc split expandingcutoff py"


def test_identifier_words_of_a_commit_subject():
    assert identifier_words("Fix `ExpandingCutoffSplitter` when step > 1") == ["expanding", "cutoff", "splitter"]
    assert identifier_words("plain words only") == []
