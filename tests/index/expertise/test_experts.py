"""Expertise: query understanding and the voting model on a hand-made store."""
from datetime import datetime, timezone

import pytest

from connectors.base import Contributor, Document
from index.expertise.experts import beyond_the_name, rank_experts, topic_of
from index.people.resolve import resolve
from index.storage.sqlite.store import Store
from test_modules import make_store


@pytest.mark.parametrize("question", [
    "who has built a recommender?", "Who has built a recommender", "anyone who knows recommender?",
    "Anyone here who has experience with recommender?", "who can help with recommender?",
    "I need someone for recommender", "is there anyone who worked on recommender?", "recommender",
    "who knows about recommender", "hey, who here has done recommender?",
])
def test_phrasings_mean_expertise_in_the_topic(question):
    assert topic_of(question) == "recommender"


def test_topic_keeps_content_words():
    assert topic_of("who can help with data augmentation for segmentation masks?") == "data augmentation for segmentation masks"
    assert topic_of("What is drift?") == "What is drift"


def when(year):
    return datetime(year, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path)
    docs = [
        # a repository with a README (repository-level counts) and two files
        Document("ranker:README.md", "ranker", "Feed", "readme", "Ranker", "", path="README.md", contributors=[
            Contributor("Ada", "ada@x.example", role="committer", count=40, last_at=when(2024)),
            Contributor("Bob", "bob@x.example", role="committer", count=10, last_at=when(2024))]),
        Document("ranker:docs/a.md", "ranker", "Feed", "doc", "A", "", path="docs/a.md", contributors=[
            Contributor("Bob", "bob@x.example", count=3, last_at=when(2024))]),
        Document("ranker:docs/b.md", "ranker", "Feed", "doc", "B", "", path="docs/b.md", contributors=[
            Contributor("Ada", "ada@x.example", count=1, last_at=when(2024))]),
        # someone else's project
        Document("drift:README.md", "drift", "Risk", "readme", "Drift", "", path="README.md", contributors=[
            Contributor("Cy", "cy@x.example", role="committer", count=5, last_at=when(2024))]),
    ]
    with s.transaction():
        for d in docs:
            s.put_document(d, "h", "git")
    resolve(s)
    yield s
    s.close()


def test_project_votes_reward_who_built_the_project(store):
    # docs/a.md ranks first, but Ada built most of the project: she leads, Bob follows
    scores = {"ranker:docs/a.md": 1.0, "ranker:README.md": 0.95, "ranker:docs/b.md": 0.9}
    names = [e.name for e in rank_experts(store, scores, now=when(2025))]
    assert names[:2] == ["Ada", "Bob"]
    # with document votes only, the author of the top document leads
    names = [e.name for e in rank_experts(store, scores, now=when(2025), project_weight=0.0)]
    assert names[0] == "Bob"


def test_evidence_says_what_they_did_and_when(store):
    ada = rank_experts(store, {"ranker:README.md": 1.0}, now=when(2025))[0]
    assert ada.evidence[0].what == "40 commits to ranker, 2024"
    assert ada.evidence[0].title == "Ranker"


def test_team_filter_and_unrelated_people(store):
    experts = rank_experts(store, {"ranker:README.md": 1.0, "drift:README.md": 0.2}, now=when(2025))
    assert "Cy" not in [e.name for e in experts[:2]]
    assert [e.name for e in rank_experts(store, {"ranker:README.md": 1.0, "drift:README.md": 0.99}, team="Risk",
                                         now=when(2025))] == ["Cy"]


def test_describe_says_commits_for_files_and_edits_for_pages():
    from index.expertise.experts import describe

    assert describe("author", 3, "2021-01-01", "2023-05-01") == "author: 3 commits, 2021–2023"
    assert describe("editor", 1, "2024-01-01", "2024-02-01", in_repository=False) == "editor: 1 edit, 2024"


@pytest.mark.parametrize("question, builder", [
    ("who built the embedding cache?", "Tomás Ortega"),
    ("who knows the nightly batch scoring jobs?", "Lena Fischer"),
    ("anyone who worked on the label review queue?", "Jo Brandt"),
])
def test_module_questions_name_the_module_builders_not_the_monorepo_top_committer(demo_guild, question, builder):
    # Mei Lin made most of mlkit's commits, but each module was built by someone else
    experts = demo_guild.experts(question, limit=5)
    assert experts[0].name == builder
    assert "mlkit/" in experts[0].evidence[0].what and "commit" in experts[0].evidence[0].what
    names = [e.name for e in experts]
    assert "Mei Lin" not in names or names.index("Mei Lin") > 0


def test_the_monorepo_as_a_whole_is_still_its_top_committers(demo_guild):
    experts = demo_guild.experts("who maintains the shared ML monorepo?", limit=3)
    assert experts[0].name == "Mei Lin"


def test_a_wiki_page_about_a_part_does_not_turn_a_module_question_into_a_project_one(tmp_path):
    s = Store(tmp_path)
    docs = [Document("ranker:README.md", "ranker", "Feed", "readme", "Ranker", "", path="README.md", contributors=[
                Contributor("Ada", "ada@x.example", role="committer", count=40, last_at=when(2024)),
                Contributor("Bob", "bob@x.example", role="committer", count=5, last_at=when(2024))]),
            Document("ranker:src/glmm.py", "ranker", "Feed", "code_path", "glmm.py", "", path="src/glmm.py",
                     metadata={"repo": "ranker"}, contributors=[Contributor("Bob", "bob@x.example", count=5, last_at=when(2024))]),
            Document("ranker:Feed/GLMM", "ranker", "Feed", "wiki_page", "GLMM encoder", "", path="Feed/GLMM",
                     contributors=[Contributor("Cy", "cy@x.example", role="editor", count=1, last_at=when(2024))])]
    with s.transaction():
        for d in docs:
            s.put_document(d, "h", "git")
    resolve(s)
    names = [e.name for e in rank_experts(s, {"ranker:Feed/GLMM": 1.0, "ranker:src/glmm.py": 0.99}, now=when(2025))]
    assert names[0] == "Bob" and names.index("Ada") > names.index("Bob")
    s.close()


def _part(source, path, kind, people, title=None, **meta):
    """A file, folder or commit of repository `source`, its people with their commit counts."""
    return Document(f"{source}:{path}", source, "Feed", kind, title or path, "", path=path, metadata={"repo": source, **meta},
                    contributors=[Contributor(n, f"{n.lower()}@x.example", count=c, last_at=when(2024)) for n, c in people])


def _page(source, path, title, editor):
    return Document(f"{source}:{path}", source, "Feed", "wiki_page", title, "", path=path,
                    contributors=[Contributor(editor, f"{editor.lower()}@x.example", role="editor", count=3, last_at=when(2024))])


def test_a_question_naming_a_file_of_one_project_is_not_pulled_to_another_projects_page(tmp_path):
    s = make_store(tmp_path, [_part("catenc", "README.md", "readme", [("Uma", 50), ("Nadia", 12)]),
                           _part("catenc", "enc/target_encoder.py", "code_path", [("Nadia", 9), ("Uma", 3)]),
                           _part("catenc", "commit:1", "commit", [("Nadia", 1)], paths=["enc/target_encoder.py"]),
                           _part("featlib", "README.md", "readme", [("Viktor", 300)]),
                           _part("featlib", "encoding/mean_encoding.py", "code_path", [("Viktor", 26)]),
                           _part("featlib", "commit:2", "commit", [("Viktor", 1)], paths=["encoding/mean_encoding.py"]),
                           _page("featlib", "Feat/MeanEncoder", "Mean encoder", "Viktor")])
    # the other project's page on its own encoder matches well; of the named module only a commit and the file itself
    scores = {"catenc:commit:1": 1.0, "featlib:Feat/MeanEncoder": 0.985, "featlib:commit:2": 0.96, "catenc:enc/target_encoder.py": 0.9}
    names = [e.name for e in rank_experts(s, scores, now=when(2025), topic="smoothing in the target encoder")]
    assert names[0] == "Nadia" and names.index("Viktor") > names.index("Nadia")
    # asked about the mean encoder, whose own file matches too, it is the other project's
    scores = {**scores, "featlib:encoding/mean_encoding.py": 0.99}
    assert rank_experts(s, scores, now=when(2025), topic="smoothing in the mean encoder")[0].name == "Viktor"
    s.close()


def test_a_file_named_by_the_initials_of_the_question_names_its_project(tmp_path):
    s = make_store(tmp_path, [_part("catenc", "enc/woe.py", "code_path", [("Dario", 16), ("Uma", 10), ("Elif", 9)]),
                           _part("catenc", "commit:1", "commit", [("Dario", 1)], title="Add a weight of evidence encoder", paths=["enc/woe.py"]),
                           _part("featlib", "encoding/woe.py", "code_path", [("Viktor", 26)]),  # never says what its woe is
                           _page("featlib", "Feat/WoE", "WoE encoder", "Viktor")])
    scores = {"featlib:Feat/WoE": 1.0, "catenc:commit:1": 0.99, "featlib:encoding/woe.py": 0.9}
    names = [e.name for e in rank_experts(s, scores, now=when(2025), topic="the weight of evidence encoder")]
    assert names[0] == "Dario" and names.index("Viktor") > names.index("Uma")
    s.close()


def test_a_file_named_in_passing_names_no_project_when_another_projects_files_match_better(tmp_path):
    s = make_store(tmp_path, [_part("series", "transformations/feature_selection.py", "code_path", [("Zane", 30)]),
                           _part("series", "forecasting/arima.py", "code_path", [("Zane", 40)]),
                           _part("featlib", "selection/smart_correlation_selection.py", "code_path", [("Viktor", 12), ("Ada", 2)])])
    scores = {"featlib:selection/smart_correlation_selection.py": 1.0, "series:transformations/feature_selection.py": 0.9,
              "series:forecasting/arima.py": 0.97}
    assert rank_experts(s, scores, now=when(2025), topic="smart correlated feature selection")[0].name == "Viktor"
    s.close()


def test_evidence_concentrated_on_several_parts_outweighs_one_readme_hit():
    from index.expertise.experts import _grain

    # three commits and the file they changed match about as well as the README: the question is about that part
    assert _grain([0.6, 0.5, 0.5, 0.1], [0.4]) > 0.45
    # one part matching in passing beside the README: a question about the whole project
    assert _grain([0.6], [0.4]) < 0.3
    assert _grain([0.6], []) == 1.0 and _grain([], [0.4]) == 0.0


def test_part_evidence_names_the_part_and_the_share_of_its_commits():
    from index.expertise.experts import _part_evidence

    d = {"kind": "folder", "path": "skopt/optimizer/", "title": "skopt/optimizer/", "url": "u", "source": "skopt"}
    assert _part_evidence(d, 0.5, "skopt:skopt/optimizer/", 14, "2016-01-01", "2017-05-01", 22).what == \
        "14 of 22 commits to skopt/optimizer/, 2016–2017"
    assert _part_evidence(d, 0.5, "skopt:skopt/optimizer/", 3, None, "2020-02-02", 3).what == "3 commits to skopt/optimizer/, 2020"


def test_for_a_part_the_editors_of_matching_pages_only_break_ties(tmp_path):
    # Ada leads the project and wrote its pages, the one about the optimizer too; Bob built the optimizer
    s = make_store(tmp_path, [_part("opt", "README.md", "readme", [("Ada", 300), ("Bob", 40)]),
                              _part("opt", "opt/optimizer.py", "code_path", [("Bob", 30), ("Ada", 12)]),
                              _part("opt", "commit:1", "commit", [("Bob", 1)], paths=["opt/optimizer.py"]),
                              _part("opt", "commit:2", "commit", [("Ada", 1)], paths=["opt/optimizer.py"]),
                              _page("opt", "Opt/Optimizer", "The Optimizer class", "Ada"),
                              _page("opt", "Opt/Guide", "Guide", "Ada")])
    scores = {"opt:Opt/Optimizer": 1.0, "opt:opt/optimizer.py": 0.995, "opt:commit:1": 0.99, "opt:commit:2": 0.985,
              "opt:Opt/Guide": 0.97, "opt:README.md": 0.85}
    ranked = rank_experts(s, scores, now=when(2025), topic="the ask-and-tell optimizer class")
    assert [e.name for e in ranked[:2]] == ["Bob", "Ada"]
    assert ranked[0].evidence[0].what == "30 of 42 commits to opt/optimizer.py, 2024"
    s.close()


def test_a_project_whose_own_commits_match_is_weighed_against_another_teams_prose(tmp_path):
    # 'trees' keeps no wiki: only its commit and file say "configurable colors"; 'viz' has pages on its palettes
    s = make_store(tmp_path, [_part("trees", "README.md", "readme", [("Oskar", 200), ("Vera", 20)]),
                              _part("trees", "trees/colors.py", "code_path", [("Vera", 6), ("Oskar", 2)]),
                              _part("trees", "commit:1", "commit", [("Vera", 1)], title="configurable colors", paths=["trees/colors.py"]),
                              _part("trees", "commit:2", "commit", [("Vera", 1)], title="more colors", paths=["trees/colors.py"]),
                              _part("viz", "README.md", "readme", [("Lucia", 500)]),
                              _page("viz", "Viz/palettes", "Palettes", "Lucia")])
    scores = {"trees:commit:1": 1.0, "viz:Viz/palettes": 0.99, "trees:commit:2": 0.985, "trees:trees/colors.py": 0.95}
    names = [e.name for e in rank_experts(s, scores, now=when(2025), topic="configurable color palettes of the tree plots")]
    assert names[0] == "Vera"
    s.close()


def test_prose_at_the_repository_root_speaks_for_the_whole_not_for_a_part(tmp_path):
    # DESCRIPTION.md lists every visualizer and matches best; the text visualizers are Bruno's folder
    s = make_store(tmp_path, [_part("viz", "README.md", "readme", [("Lucia", 500), ("Bruno", 200)]),
                              _part("viz", "DESCRIPTION.md", "doc", [("Lucia", 9), ("Zane", 2)]),
                              _part("viz", "viz/text/", "folder", [("Bruno", 22), ("Lucia", 10)]),
                              _part("viz", "commit:1", "commit", [("Bruno", 1)], paths=["viz/text/freqdist.py"]),
                              _part("viz", "viz/text/freqdist.py", "code_path", [("Bruno", 12), ("Lucia", 3)])])
    scores = {"viz:DESCRIPTION.md": 1.0, "viz:commit:1": 0.95, "viz:viz/text/freqdist.py": 0.88, "viz:viz/text/": 0.83}
    names = [e.name for e in rank_experts(s, scores, now=when(2025), topic="text visualizers such as the frequency distribution")]
    assert names[0] == "Bruno"
    s.close()


def test_another_teams_wiki_does_not_choose_the_project_of_a_part_question(tmp_path):
    # 'viz' keeps a wiki with two pages on its palettes and has a style folder; 'trees' keeps none, and only
    # its commits and file say "configurable colors" for its tree plots: the part is trees/colors.py
    s = make_store(tmp_path, [_part("trees", "README.md", "readme", [("Oskar", 200), ("Vera", 20)]),
                              _part("trees", "trees/colors.py", "code_path", [("Vera", 6), ("Oskar", 2)]),
                              _part("trees", "commit:1", "commit", [("Vera", 1)], title="configurable colors", paths=["trees/colors.py"]),
                              _part("trees", "commit:2", "commit", [("Vera", 1)], title="more colors", paths=["trees/colors.py"]),
                              _part("viz", "README.md", "readme", [("Lucia", 500)]),
                              _part("viz", "viz/style/", "folder", [("Lucia", 16), ("Bruno", 3)]),
                              _part("viz", "commit:3", "commit", [("Lucia", 1)], title="palette names", paths=["viz/style/palettes.py"]),
                              _part("viz", "viz/style/palettes.py", "code_path", [("Lucia", 12), ("Bruno", 3)]),
                              _page("viz", "Viz/palettes", "Palettes", "Lucia"),
                              _page("viz", "Viz/colors", "Colors", "Bruno")])
    scores = {"trees:commit:1": 1.0, "viz:Viz/palettes": 0.99, "viz:Viz/colors": 0.985, "viz:commit:3": 0.96,
              "trees:commit:2": 0.955, "viz:viz/style/": 0.95, "trees:trees/colors.py": 0.93}
    names = [e.name for e in rank_experts(s, scores, now=when(2025), topic="configurable color palettes of the tree plots")]
    assert names[0] == "Vera"
    # asked about the whole (the README matches), the pages still tell which project: viz
    scores = {"viz:Viz/palettes": 1.0, "viz:README.md": 0.99, "trees:commit:1": 0.99, "viz:Viz/colors": 0.985}
    assert rank_experts(s, scores, now=when(2025), topic="color palettes")[0].name == "Lucia"
    s.close()


def test_a_part_question_is_asked_of_the_project_whose_parts_match_however_much_another_writes_about_it(tmp_path):
    # 'viz' has two well-matching pages on its palettes, but its own commits and folder match weakly; 'trees' has
    # the commit that says it best. The question is about a part (its parts outweigh its whole), so the parts that
    # match say which project it is asked of: however many pages another team writes, they are prose about the topic
    s = make_store(tmp_path, [_part("trees", "README.md", "readme", [("Oskar", 200), ("Vera", 20)]),
                              _part("trees", "trees/colors.py", "code_path", [("Oskar", 6), ("Vera", 6), ("Emil", 4)]),
                              _part("trees", "commit:1", "commit", [("Greta", 1)], title="configurable colors", paths=["trees/colors.py"]),
                              _part("viz", "README.md", "readme", [("Lucia", 500)]),
                              _part("viz", "viz/style/", "folder", [("Lucia", 16), ("Bruno", 3)]),
                              _part("viz", "commit:3", "commit", [("Ines", 1)], title="palettes as colormaps", paths=["viz/style/palettes.py"]),
                              _part("viz", "viz/style/palettes.py", "code_path", [("Lucia", 9), ("Ines", 1)]),
                              _page("viz", "Viz/examples/palettes", "Palettes example", "Lucia"),
                              _page("viz", "Viz/api/palettes", "Palettes", "Lucia")])
    scores = {"trees:commit:1": 1.0, "viz:Viz/examples/palettes": 0.969, "viz:Viz/api/palettes": 0.953,
              "viz:commit:3": 0.884, "viz:viz/style/": 0.866}
    names = [e.name for e in rank_experts(s, scores, now=when(2025), topic="made the color palettes of the tree plots configurable")]
    assert names[0] in ("Oskar", "Vera")
    s.close()


def test_a_part_question_matched_only_by_folders_and_pages_still_chooses_its_project(tmp_path):
    # folders carry no project mass (a package root holds everything), so with pages weighing nothing no project
    # would be left: the pages, discounted as before, say which project, and the folder's builders answer
    s = make_store(tmp_path, [_part("viz", "README.md", "readme", [("Lucia", 500), ("Bruno", 40)]),
                              _part("viz", "viz/text/", "folder", [("Bruno", 22), ("Lucia", 4)]),
                              _page("viz", "Viz/text", "Text visualizers", "Lucia")])
    names = [e.name for e in rank_experts(s, {"viz:viz/text/": 1.0, "viz:Viz/text": 0.9}, now=when(2025),
                                          topic="the text visualizers")]
    assert names[0] == "Bruno"
    s.close()


def test_a_docs_folder_is_prose_about_code_only_in_a_repository_whose_match_reaches_code():
    from index.expertise.experts import prose, reaches_code

    page = {"kind": "doc", "path": "docs/bulletin.md"}
    assert prose(page, of_code=True) and not prose(page, of_code=False)  # a repository of documents: they are the project
    assert prose({"kind": "wiki_page", "path": "Team/Guide"}, of_code=False)
    assert reaches_code({"kind": "commit", "metadata": '{"paths": ["docs/a.md", "pkg/a.py"]}'})
    assert not reaches_code({"kind": "commit", "metadata": '{"paths": ["docs/a.md", "examples/b.png"]}'})
    assert reaches_code({"kind": "code_path", "path": "pkg/a.py"}) and not reaches_code({"kind": "code_path", "path": "examples/a.py"})


def test_for_a_part_repository_activity_only_reorders_people_whose_part_votes_nearly_tie(tmp_path):
    # Wen made most of the commits to the bounds module; Lin, who leads the project and wrote its page, made a few fewer
    s = make_store(tmp_path, [_part("opt", "README.md", "readme", [("Lin", 400), ("Wen", 6)]),
                              _part("opt", "opt/bounds.py", "code_path", [("Wen", 6), ("Lin", 5)]),
                              _part("opt", "commit:1", "commit", [("Wen", 1)], paths=["opt/bounds.py"]),
                              _part("opt", "commit:2", "commit", [("Lin", 1)], paths=["opt/bounds.py"]),
                              _part("opt", "opt/core.py", "code_path", [("Lin", 300)]),
                              _page("opt", "Opt/Bounds", "Shrinking the bounds", "Lin")])
    scores = {"opt:opt/bounds.py": 1.0, "opt:commit:1": 0.995, "opt:commit:2": 0.99, "opt:Opt/Bounds": 0.99,
              "opt:README.md": 0.8}
    names = [e.name for e in rank_experts(s, scores, now=when(2025), topic="the domain reduction that shrinks the bounds")]
    assert names[:2] == ["Wen", "Lin"]
    # asked about the project as a whole, its activity answers
    whole = {"opt:README.md": 1.0, "opt:Opt/Bounds": 0.9, "opt:opt/bounds.py": 0.8}
    assert rank_experts(s, whole, now=when(2025), topic="the optimization project")[0].name == "Lin"
    s.close()


def test_the_rest_breaks_ties_within_a_band_as_narrow_as_the_question_is_concentrated_on_parts():
    from index.expertise.experts import _mix

    part = {"wen": 1.0, "lin": 0.9}
    rest = {"wen": 0.1, "lin": 1.0}
    # concentrated on parts (grain .95): a part vote ahead by a tenth is no tie
    score = _mix({}, rest, part, 1.0, 0.95)
    assert score["wen"] > score["lin"]
    # less concentrated (grain .7): within the band of .3, activity decides
    score = _mix({}, rest, part, 1.0, 0.7)
    assert score["lin"] > score["wen"]


def test_a_question_naming_a_project_is_answered_by_what_it_asks_of_the_project(tmp_path):
    # 'optim' is named; with its name the question matches its README (the whole: Goran built most of it),
    # without it ('support for constraints') the constraint module, which Wen built
    s = make_store(tmp_path, [_part("optim", "README.md", "readme", [("Goran", 120), ("Wen", 60)]),
                              _part("optim", "optim/constraint.py", "code_path", [("Wen", 9), ("Goran", 1)]),
                              _part("optim", "commit:1", "commit", [("Wen", 1)], title="support constraints", paths=["optim/constraint.py"]),
                              _part("optim", "commit:2", "commit", [("Wen", 1)], title="constraint tests", paths=["optim/constraint.py"]),
                              _part("tuner", "README.md", "readme", [("Yara", 400)]),
                              _part("tuner", "tuner/space.py", "code_path", [("Yara", 30)])])
    topic = "support for constraints in optim"
    named = {"optim:README.md": 1.0, "optim:commit:1": 0.9}
    rest = {"optim:commit:1": 1.0, "optim:commit:2": 0.99, "optim:optim/constraint.py": 0.98, "tuner:README.md": 0.5}
    asked = []
    again = beyond_the_name(s, topic, named, lambda text: asked.append(text) or rest)
    assert asked == ["support for constraints in"] and again == rest
    assert rank_experts(s, named, now=when(2025), topic=topic)[0].name == "Goran"
    assert rank_experts(s, again, now=when(2025), topic=topic)[0].name == "Wen"
    # nothing asked beyond the name, or a rest that leads to another project or matches a whole: the question as written
    assert beyond_the_name(s, "optim", named, lambda text: rest) is named
    elsewhere = {"tuner:tuner/space.py": 1.0, "optim:commit:1": 0.5}
    assert beyond_the_name(s, topic, named, lambda text: elsewhere) is named
    whole = {"optim:README.md": 1.0, "optim:commit:1": 0.7}
    assert beyond_the_name(s, topic, named, lambda text: whole) is named
    # a question that names no project is not asked again
    assert beyond_the_name(s, "support for constraints", rest, lambda text: asked.append(text) or named) is rest
    assert len(asked) == 1
    s.close()



def test_an_api_page_in_a_folder_named_after_a_module_stands_for_the_module(tmp_path):
    # a reference laid out by module: the page on one class of optim/acquisition.py, written in one commit by Ada
    s = make_store(tmp_path, [_part("optim", "README.md", "readme", [("Ada", 40), ("Wen", 30)]),
                              _part("optim", "docs/reference/acquisition/UpperBound.rst", "doc", [("Ada", 1)]),
                              _part("optim", "optim/acquisition.py", "code_path", [("Wen", 9), ("Ada", 1)]),
                              _part("optim", "optim/space.py", "code_path", [("Ada", 30)])])
    scores = {"optim:docs/reference/acquisition/UpperBound.rst": 1.0, "optim:optim/space.py": 0.5}
    experts = rank_experts(s, scores, now=when(2025), topic="upper confidence bound acquisition")
    assert experts[0].name == "Wen" and "optim/acquisition.py" in experts[0].evidence[0].what
    s.close()
