"""Module votes: the locus of a question's matching parts and who built it, on a hand-made store."""
import json
from datetime import datetime, timezone

import pytest

from connectors.base import Contributor, Document
from index.expertise.modules import drill_down, illustrated_code, locus, module_votes, names_project, without_name
from index.people.resolve import resolve
from index.storage.sqlite.store import Store


def when(year):
    return datetime(year, 1, 1, tzinfo=timezone.utc)


def doc(path, kind="code_path", people=(), meta=None):
    return Document(f"r:{path}", "r", "T", kind, path, path, path=path, metadata={"repo": "r", **(meta or {})},
                    contributors=[Contributor(n, f"{n.lower()}@x.example", count=c, last_at=when(2024)) for n, c in people])


def make_store(path, docs):
    """A store holding `docs`, people resolved."""
    s = Store(path)
    with s.transaction():
        for d in docs:
            s.put_document(d, "h", "git")
    resolve(s)
    return s


@pytest.fixture
def store(tmp_path):
    docs = [doc("split/expanding.py", people=[("Emil", 4), ("Zane", 1)]),
            doc("split/tests/test_expanding.py", people=[("Emil", 3), ("Zane", 1)]),
            doc("split/__init__.py", people=[("Zane", 30), ("Amara", 10), ("Emil", 1)]),
            doc("split/", "folder", people=[("Zane", 40), ("Emil", 5), ("Amara", 10)]),
            doc("CHANGELOG.md", "doc", people=[("Zane", 200), ("Amara", 50)]),
            doc("commit:1", "commit", people=[("Emil", 1)],
                meta={"paths": ["split/expanding.py", "split/tests/test_expanding.py", "split/__init__.py", "CHANGELOG.md"]})]
    s = make_store(tmp_path, docs)
    yield s
    s.close()


def rows(store, ids):
    return store.documents(ids)


def test_a_commit_stands_for_the_files_it_changed(store):
    docs = rows(store, ["r:commit:1"])
    direct, via, hits = locus(["r:commit:1"], {"r:commit:1": 1.0}, docs, author_share=0.5)
    assert direct == {"r:commit:1": pytest.approx(0.25)}  # half its weight (a commit weighs 0.5) stays with its author
    assert set(via) == {"r:split/expanding.py", "r:split/tests/test_expanding.py", "r:split/__init__.py", "r:CHANGELOG.md"}
    assert sum(via.values()) == pytest.approx(0.25) and hits["r:CHANGELOG.md"] == 1.0


def test_the_builder_of_the_changed_files_leads_not_the_owner_of_the_files_every_commit_touches(store):
    docs = rows(store, ["r:commit:1"])
    votes = module_votes(store, ["r:commit:1"], {"r:commit:1": 1.0}, docs, lambda ts: 1.0)
    ranked = sorted(votes, key=lambda p: -votes[p][0])
    assert ranked[0] == "p:emil@x.example"
    assert votes["p:emil@x.example"][1] in ("r:split/expanding.py", "r:split/tests/test_expanding.py")  # his evidence: a file
    assert sum(v[0] for v in votes.values()) <= 1.0 + 1e-9


def test_a_question_matching_only_commits_whose_files_are_gone_still_votes(tmp_path):
    """No file or folder is left to be the module's core: the commit's own author answers, nothing raises."""
    s = make_store(tmp_path, [doc("commit:9", "commit", people=[("Ines", 1)], meta={"paths": ["gone/old.py"]})])
    try:
        docs = rows(s, ["r:commit:9"])
        votes = module_votes(s, ["r:commit:9"], {"r:commit:9": 1.0}, docs, lambda ts: 1.0)
        assert list(votes) == ["p:ines@x.example"] and votes["p:ines@x.example"][0] > 0
    finally:
        s.close()


def test_commits_that_locate_the_module_do_not_outvote_its_builder(tmp_path):
    """Several commits name the class their file defines ('Fix cloning of GridSearcher'), all by one person; the
    file's main builder wrote commits that never say its name. The commits say where the module is; who built it
    is told by all the commits to it, so the builder leads."""
    commits = [doc(f"commit:{i}", "commit", people=[("Bruno", 1)], meta={"paths": ["pkg/searcher.py"]}) for i in range(5)]
    docs_ = [doc("pkg/searcher.py", people=[("Tomas", 32), ("Bruno", 26), ("Yara", 11)]), *commits]
    s = make_store(tmp_path, docs_)
    try:
        ids = [f"r:commit:{i}" for i in range(5)]
        votes = module_votes(s, ids, {d: 1.0 for d in ids}, rows(s, ids), lambda ts: 1.0)
        ranked = sorted(votes, key=lambda p: -votes[p][0])
        assert ranked[:2] == ["p:tomas@x.example", "p:bruno@x.example"]
        assert votes["p:bruno@x.example"][1] == "r:pkg/searcher.py"  # his evidence: the file, not one of his commits
    finally:
        s.close()


def test_a_folder_passes_its_weight_to_the_matching_units_inside_it():
    weights = {"r:split/": 1.0, "r:split/expanding.py": 1.0, "r:other.py": 0.5}
    out = drill_down(weights, ["r:split/"])  # as much as the matching inside weighs against the folder
    assert out["r:split/"] == pytest.approx(0.5) and out["r:split/expanding.py"] == pytest.approx(1.5)
    assert out["r:other.py"] == 0.5
    assert drill_down({"r:split/": 1.0, "r:b.py": 1.0}, ["r:split/"]) == {"r:split/": 1.0, "r:b.py": 1.0}  # nothing inside


def test_a_folder_question_names_the_folder_builders(store):
    docs = rows(store, ["r:split/"])
    votes = module_votes(store, ["r:split/"], {"r:split/": 1.0}, docs, lambda ts: 1.0)
    assert max(votes, key=lambda p: votes[p][0]) == "p:zane@x.example"


@pytest.mark.parametrize("topic, name, named", [("the shapelet model in tslearn", "tslearn", True),
                                                ("the category encoders hashing", "category_encoders", True),
                                                ("shapelets", "tslearn", False), ("the ml kit", "ml", False),
                                                ("tslearnish models", "tslearn", False)])
def test_names_project(topic, name, named):
    assert names_project(topic, name) is named


@pytest.mark.parametrize("topic, name, rest", [("support for constraints in bayesian optimization", "BayesianOptimization",
                                                 "support for constraints in"),
                                                ("the shapelet model in tslearn", "tslearn", "the shapelet model in"),
                                                ("the shapelet model", "tslearn", "the shapelet model")])
def test_without_name_keeps_what_is_asked_of_the_project(topic, name, rest):
    assert without_name(topic, name) == rest


def test_stem_drops_extensions_and_test_marks():
    from index.expertise.modules import stem

    assert {stem(p) for p in ("enc/target_encoder.py", "tests/test_target_encoder.py", "enc/target_encoder_test.go",
                              "web/target_encoder.spec.ts")} == {"target_encoder"}


def test_a_module_counts_its_tests_named_after_it(tmp_path):
    s = make_store(tmp_path, [doc("enc/target.py", people=[("Elif", 5), ("Nadia", 4)]),
                              doc("tests/test_target.py", people=[("Nadia", 9)]),
                              doc("tests/test_other.py", people=[("Elif", 30)])])
    votes = module_votes(s, ["r:enc/target.py"], {"r:enc/target.py": 1.0}, s.documents(["r:enc/target.py"]), lambda ts: 1.0)
    # Elif leads on the file alone; with its tests Nadia made most of the module's commits
    assert max(votes, key=lambda p: votes[p][0]) == "p:nadia@x.example"
    s.close()


def test_a_test_folder_stands_for_the_modules_its_matching_tests_are_named_after(tmp_path):
    # the question matches the tests folder most (its commits are about "the splitters' tests"), then one test file
    s = make_store(tmp_path, [doc("split/tests/", "folder", people=[("Zane", 6), ("Emil", 3)]),
                              doc("split/tests/test_expanding.py", people=[("Emil", 3), ("Zane", 1)]),
                              doc("split/tests/test_cutoff.py", people=[("Zane", 1)]),
                              doc("split/expanding.py", people=[("Emil", 4)]),
                              doc("split/cutoff.py", people=[("Zane", 8)])])
    weights = {"r:split/tests/": 1.0, "r:split/tests/test_expanding.py": 0.4, "r:split/tests/test_cutoff.py": 0.15}
    votes = module_votes(s, list(weights), weights, s.documents(weights), lambda ts: 1.0)
    # the folder is no module of its own: the module is expanding.py with its test, which Emil built
    assert max(votes, key=lambda p: votes[p][0]) == "p:emil@x.example"
    s.close()


def test_a_test_folder_passes_all_its_weight_on_and_keeps_it_with_nothing_inside():
    from index.expertise.modules import is_test_folder

    out = drill_down({"r:pkg/tests/": 1.0, "r:pkg/tests/test_a.py": 0.3, "r:pkg/tests/test_b.py": 0.1}, ["r:pkg/tests/"])
    assert out == {"r:pkg/tests/": 0.0, "r:pkg/tests/test_a.py": pytest.approx(1.05), "r:pkg/tests/test_b.py": pytest.approx(0.35)}
    assert drill_down({"r:pkg/tests/": 1.0}, ["r:pkg/tests/"]) == {"r:pkg/tests/": 1.0}
    assert [is_test_folder(u) for u in ("r:tests/", "r:a/test/", "r:tests/test_encoding/", "r:a/__tests__/", "r:src/",
                                        "r:a/tests.py", "r:contest/")] == [True, True, True, True, False, False, False]


@pytest.mark.parametrize("topic, path, named", [("smoothing in the target encoder", "enc/target_encoder.py", True),
                                                ("the target encoders", "tests/test_target_encoder.py", True),
                                                ("the expanding cutoff splitter", "split/ExpandingCutoff.java", True),
                                                ("encoder for targets", "enc/target_encoder.py", False),
                                                ("the target", "enc/target.py", False),  # one word names nothing alone
                                                ("deep learning models", "models/deep_learning/", True)])
def test_names_part(topic, path, named):
    from index.expertise.modules import names_part

    assert names_part(topic, path) is named


def test_initialisms_of_runs_of_content_words():
    from index.expertise.modules import initialisms

    got = initialisms("the generalized random forest behind the causal forest")
    assert got["grf"] == ["generalized", "random", "forest"] and "rfb" not in got and "gr" not in got  # 'behind' ends a run: a stop word
    assert initialisms("the weight of evidence encoder")["woe"] == ["weight", "of", "evidence"]  # a linking word may give its initial
    assert "ofe" not in initialisms("of evidence encoder")  # ... but neither starts nor ends a name


def test_a_folder_named_by_the_questions_initials_counts_where_the_repository_writes_those_words(tmp_path):
    from index.expertise.modules import named_by_initials

    s = make_store(tmp_path, [doc("pkg/grf/", "folder", people=[("Jana", 5)]), doc("README.md", "readme", people=[("Jana", 9)]),
                              doc("pkg/grf/_base.py", people=[("Jana", 5)]),
                              doc("notes/Generalized Random Forests.ipynb", "doc", people=[("Gita", 2)]),
                              Document("other:lib/grf/", "other", "T", "folder", "lib/grf/", "lib/grf/", path="lib/grf/",
                                       metadata={"repo": "other"})])  # 'other' never writes the words: its grf is something else
    scores = {"r:notes/Generalized Random Forests.ipynb": 0.6, "r:pkg/grf/_base.py": 0.2, "other:README.md": 0.9}
    assert named_by_initials(s, "the generalized random forest code", scores) == {"r:pkg/grf/": 0.6}
    assert named_by_initials(s, "the generalized random forest code", {"other:README.md": 0.9}) == {}  # no hit in r: not about it
    assert named_by_initials(s, "the gradient reversal function", scores) == {}
    assert named_by_initials(s, "the generalized random forest code", {"r:README.md": 0.9}) == {}  # the README is the whole
    s.close()


def test_a_core_folder_counts_the_tests_named_after_it(tmp_path):
    from index.expertise.modules import folder_tests

    s = make_store(tmp_path, [doc("pkg/grf/", "folder", people=[("Gita", 7), ("Jana", 5)]),
                              doc("pkg/grf/_base.py", people=[("Gita", 7), ("Jana", 5)]),
                              doc("pkg/grf/tests/test_base.py", people=[("Gita", 3)]),  # inside: the folder counts it already
                              doc("pkg/tests/test_grf_python.py", people=[("Jana", 8), ("Gita", 2)]),
                              doc("pkg/tests/test_grf.py", people=[("Jana", 1)]),
                              doc("pkg/tests/test_grfish.py", people=[("Gita", 9)]),  # another name
                              doc("pkg/grf_utils.py", people=[("Gita", 9)])])  # no test
    assert sorted(folder_tests(s, "r", "pkg/grf/")) == ["r:pkg/tests/test_grf.py", "r:pkg/tests/test_grf_python.py"]
    votes = module_votes(s, ["r:pkg/grf/"], {"r:pkg/grf/": 1.0}, s.documents(["r:pkg/grf/"]), lambda ts: 1.0)
    assert max(votes, key=lambda p: votes[p][0]) == "p:jana@x.example"  # 14 commits to the module with its tests, Gita 9
    s.close()


def test_a_folders_tests_sit_beside_it_or_at_the_top(tmp_path):
    from index.expertise.modules import folder_tests

    s = make_store(tmp_path, [doc("pkg/split/base/", "folder", people=[("Zane", 7)]),
                              doc("pkg/split/tests/test_base_splitter.py", people=[("Zane", 1)]),
                              doc("tests/test_base.py", people=[("Ada", 1)]),
                              doc("pkg/forecasting/tests/test_base.py", people=[("Kim", 9)]),  # another 'base'
                              doc(".github/workflows/test_base.yml", people=[("Kim", 9)])])
    assert sorted(folder_tests(s, "r", "pkg/split/base/")) == ["r:pkg/split/tests/test_base_splitter.py", "r:tests/test_base.py"]
    s.close()


def test_initials_and_folder_tests_read_a_postgres_store_alike(pg_url):
    from index.expertise.modules import folder_tests, named_by_initials
    from index.storage.postgres.store import PgStore

    s = PgStore(pg_url)
    with s.transaction():
        for d in [doc("pkg/grf/", "folder", people=[("Jana", 5)]), doc("pkg/tests/test_grf_python.py", people=[("Jana", 4)]),
                  doc("notes/Generalized Random Forests.ipynb", "doc", people=[("Gita", 2)])]:
            s.put_document(d, "h", "git")
    resolve(s)
    assert named_by_initials(s, "the generalized random forest", {"r:notes/Generalized Random Forests.ipynb": 0.5}) == {"r:pkg/grf/": 0.5}
    assert folder_tests(s, "r", "pkg/grf/") == ["r:pkg/tests/test_grf_python.py"]
    s.close()


@pytest.mark.parametrize("path, asset", [("docs/images/gallery/feature_importances.png", True), ("paper/figure.pdf", True),
                                         ("tests/data/sample.csv", True), ("pkg/features/importances.py", False),
                                         ("pkg/features/", False), ("README.md", False)])
def test_is_asset(path, asset):
    from index.expertise.modules import is_asset

    assert is_asset(path) is asset


def test_an_image_or_an_example_named_after_the_module_does_not_make_its_builder(tmp_path):
    # the question matches the gallery image and the example best (their names say it); the module is importances.py
    s = make_store(tmp_path, [doc("docs/gallery/feature_importances.png", people=[("Lucia", 1)]),
                              doc("examples/feature_importances_demo.py", people=[("Lucia", 3)]),
                              doc("pkg/features/importances.py", people=[("Bruno", 6), ("Lucia", 1)])])
    weights = {"r:docs/gallery/feature_importances.png": 1.0, "r:examples/feature_importances_demo.py": 0.9,
               "r:pkg/features/importances.py": 0.5}
    votes = module_votes(s, list(weights), weights, s.documents(weights), lambda ts: 1.0)
    assert max(votes, key=lambda p: votes[p][0]) == "p:bruno@x.example"
    best = votes["p:bruno@x.example"]
    assert best[1] == "r:pkg/features/importances.py" and best[2] == 6 and best[5] == 7  # 6 of the file's 7 commits
    s.close()


def test_a_forge_commit_stands_for_the_files_of_its_own_repository(tmp_path):
    # a forge source holds several repositories: 'gh:alpha/commit:1' changed gh:alpha/src/x.py, not gh:src/x.py
    commit = Document("gh:alpha/commit:1", "gh", "T", "commit", "c", "c", metadata={"repo": "alpha", "paths": ["src/x.py"]},
                      contributors=[Contributor("Emil", "emil@x.example", count=1, last_at=when(2024))])
    s = make_store(tmp_path, [commit])
    direct, via, hits = locus(["gh:alpha/commit:1"], {"gh:alpha/commit:1": 1.0}, s.documents(["gh:alpha/commit:1"]))
    assert set(via) == {"gh:alpha/src/x.py"} and set(hits) == {"gh:alpha/src/x.py"}
    s.close()


@pytest.mark.parametrize("doc_id, path, prefix", [("skopt:commit:1a2b", "", "skopt:"), ("skopt:skopt/plots.py", "skopt/plots.py", "skopt:"),
                                                  ("gh:alpha/commit:1a2b", "", "gh:alpha/"), ("gh:alpha/src/", "src/", "gh:alpha/")])
def test_repository_prefix(doc_id, path, prefix):
    from index.expertise.modules import repository_prefix

    assert repository_prefix(doc_id, path) == prefix


def test_a_doc_page_or_example_named_after_a_code_file_stands_for_that_file(tmp_path):
    # the reference page and the example notebook match best; their writers never built the module
    s = make_store(tmp_path, [doc("opt/domain_reduction.py", people=[("Wen", 5), ("Jana", 3), ("Lin", 1)]),
                              doc("docsrc/reference/domain_reduction.rst", "doc", people=[("Lin", 1)]),
                              doc("examples/domain_reduction.ipynb", people=[("Yusuf", 2), ("Lin", 1)]),
                              doc("tests/test_domain_reduction.py", people=[("Jana", 4)]),
                              doc("docsrc/reference/other.rst", "doc", people=[("Lin", 3)])])
    weights = {"r:docsrc/reference/domain_reduction.rst": 1.0, "r:examples/domain_reduction.ipynb": 0.8, "r:opt/domain_reduction.py": 0.1,
               "r:docsrc/reference/other.rst": 0.05}
    votes = module_votes(s, list(weights), weights, s.documents(weights), lambda ts: 1.0)
    ranked = sorted(votes, key=lambda p: -votes[p][0])
    assert ranked[0] == "p:wen@x.example" and votes[ranked[0]][1] == "r:opt/domain_reduction.py"
    assert illustrated_code(s, weights, s.documents(weights)) == {
        "r:docsrc/reference/domain_reduction.rst": "r:opt/domain_reduction.py", "r:examples/domain_reduction.ipynb": "r:opt/domain_reduction.py"}
    s.close()


def test_an_example_named_like_a_code_file_but_its_last_word_stands_for_it_when_only_one_is(tmp_path):
    s = make_store(tmp_path, [doc("pkg/fitters/mixture_cure_fitter.py", people=[("Oskar", 13)]),
                              doc("pkg/fitters/mixture_model.py", people=[("Ilya", 4)]),
                              doc("examples/mixture_cure_model.py", people=[("Ilya", 3)]),
                              doc("examples/kaplan_meier_plot.py", people=[("Ilya", 2)]),  # two kin below: neither
                              doc("pkg/kaplan_meier_fitter.py", people=[("Cam", 9)]),
                              doc("pkg/kaplan_meier_utils.py", people=[("Cam", 2)])])
    units = ["r:examples/mixture_cure_model.py", "r:examples/kaplan_meier_plot.py"]
    assert illustrated_code(s, units, s.documents(units)) == {"r:examples/mixture_cure_model.py": "r:pkg/fitters/mixture_cure_fitter.py"}
    s.close()
