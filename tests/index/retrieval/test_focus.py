"""A page about the question before a long page with one passage about it (the focus ranking), and a
subject's pages of one name together (namesakes): the real model on a small real index."""
from __future__ import annotations

import pytest

from connectors.base import Document
from index.retrieval import search as search_module
from index.retrieval.search import Searcher, namesakes_follow, page_name, with_focus
from support.indexes import searcher_over

# A handbook: one section per subject, each long enough to be its own passage.
SECTIONS = {
    "Deployments": "Services are deployed from the main branch by the build pipeline. Each deploy builds a container "
                   "image, runs the integration suite against a staging cluster, and records the image digest in the "
                   "deploy log so that any running version can be traced back to its commit and its build.",
    "On-call": "Every team keeps a weekly on-call rotation with a primary and a secondary engineer. Pages go to the "
               "primary first; an unacknowledged page escalates to the secondary after ten minutes and to the team "
               "lead after thirty. Handover happens on Monday mornings with a short written summary.",
    "Budgets": "Cloud spending is reviewed monthly per team. Each team owns a budget line for compute, storage and "
               "data transfer, and a dashboard compares the month's spending with the plan. Overruns above ten "
               "percent need a short note explaining the cause and the expected trend.",
    "Hiring": "Interview loops have four conversations: a coding exercise, a system design discussion, a review of "
              "past projects and a conversation about collaboration. Interviewers write their feedback before "
              "the debrief, and the hiring manager decides with the panel on the same day.",
    "Canary releases": "A canary release sends a small share of traffic to the new version first. If error rates "
                       "and latency stay within bounds for an hour, the rollout continues to the rest of the fleet.",
    "Security": "Secrets live in the vault and are injected at start-up; they never appear in repositories or "
                "images. Access to production is granted per task through short-lived credentials, and every "
                "access is logged and reviewed weekly by the security team.",
}
HANDBOOK = "\n\n".join(f"## {name}\n\n{text}" for name, text in SECTIONS.items())
FOCUSED = ("Canary releases let us ship a new version of a service to a small slice of production before everyone "
           "gets it.\n\nThe canary receives one percent of requests. We watch its error rate, its latency and its "
           "saturation beside the stable version; an automatic comparison decides after an hour whether the canary "
           "is healthy.\n\nA healthy canary is promoted step by step, to ten, fifty and finally all percent of the "
           "traffic. An unhealthy one is rolled back at once and the release is stopped until the cause is known.")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("focus")
    docs = [
        Document(id="s:handbook", source="s", team="Platform", kind="doc", title="Platform handbook", text=HANDBOOK),
        Document(id="s:canary", source="s", team="Platform", kind="doc", title="Release safety", text=FOCUSED),
        Document(id="s:backups", source="s", team="Platform", kind="doc", title="Backups",
                 text="Databases are backed up nightly and restores are tested every quarter."),
    ]
    searcher = searcher_over(root, docs, "s", "Platform")
    yield searcher
    searcher.store.close()


def test_the_page_about_the_question_outranks_the_handbook_with_a_passage_about_it(index):
    query = "how does a canary release work"
    vector = index.embedder.encode_query([query])[0]
    # the handbook ahead by a hair, as when its one canary passage wins both retrievers
    fused = {"s:handbook": 0.03300, "s:canary": 0.03290, "s:backups": 0.02000}
    focused = with_focus(index.store, fused, vector)
    assert max(focused, key=focused.get) == "s:canary"
    assert focused["s:backups"] < focused["s:handbook"]  # the third ranking is added, not a reordering of all


def test_search_puts_the_focused_page_first(index):
    # the handbook's canary passage holds these words more closely than the focused page does, and
    # leads the two retrievers' fusion (Searcher.ranked); the page's direction decides
    query = "canary rollout to a small share of traffic"
    fused, _ = index.ranked(query, weights=search_module.SEARCH_WEIGHTS, rrf_k=search_module.SEARCH_RRF_K)
    assert max(fused, key=fused.get) == "s:handbook"
    assert [h.doc_id for h in index.search(query, limit=3, floor=False)][:2] == ["s:canary", "s:handbook"]


def test_focus_leaves_scores_alone_without_directions(index):
    fused = {"missing:1": 0.03, "missing:2": 0.02}
    assert with_focus(index.store, fused, index.embedder.encode_query(["anything"])[0]) == fused


def _doc(path: str, source: str = "wiki") -> dict[str, str]:
    return {"path": path, "title": path, "source": source}


def test_page_name_is_the_last_part_without_extension_case_or_punctuation():
    assert page_name(_doc("Team/Lib/user_guide/selection/DropHighPSIFeatures")) == "drophighpsifeatures"
    assert page_name(_doc("docs/api/drop_high_psi_features.rst")) == "drophighpsifeatures"
    assert page_name({"path": "", "title": "Team/Lib/Getting Started/"}) == "gettingstarted"


def test_namesakes_of_a_leading_page_follow_it():
    docs = {"guide": _doc("T/Lib/guide/ensembles"), "other": _doc("T/Lib/guide/trees"),
            "api": _doc("T/Lib/api/ensembles"), "far": _doc("T/Lib/guide/boosting")}
    scores = {"guide": 0.040, "other": 0.039, "far": 0.038, "api": 0.020}
    out = namesakes_follow(scores, docs)
    assert sorted(out, key=lambda d: -out[d]) == ["guide", "api", "other", "far"]
    assert out["guide"] == scores["guide"] and out["other"] == scores["other"]


def test_a_name_many_candidates_share_is_no_subject():
    n = search_module.SIBLING_COMMON
    docs = {f"i{k}": _doc(f"T/Lib/part{k}/index") for k in range(n)} | {"lead": _doc("T/Lib/index/"),
                                                                      "x": _doc("T/Lib/x")}
    scores = {"lead": 0.05, "x": 0.04} | {f"i{k}": 0.01 for k in range(n)}
    assert namesakes_follow(scores, docs) == scores


def test_namesakes_below_the_leads_do_not_pull():
    docs = {f"d{k}": _doc(f"T/Lib/page{k}") for k in range(5)} | {"a": _doc("T/Lib/guide/topic"),
                                                                 "b": _doc("T/Lib/api/topic")}
    scores = {f"d{k}": 0.05 - k * 0.001 for k in range(5)} | {"a": 0.03, "b": 0.01}
    assert namesakes_follow(scores, docs) == scores


def test_a_passage_that_is_only_the_documents_name_is_name_only():
    notebook = {"path": "notebooks/trend_changepoints.ipynb", "title": "trend_changepoints.ipynb"}
    assert search_module.name_only("notebooks/trend_changepoints.ipynb\nnotebooks trend change points ipynb", notebook)
    assert not search_module.name_only("notebooks/trend_changepoints.ipynb\nChangepoints are picked from the "
                                       "first eighty percent of the history.", notebook)
    assert not search_module.name_only("", notebook)


def test_a_notebook_known_by_its_name_yields_to_the_page_about_it(tmp_path):
    docs = [
        # what a crawl keeps of a notebook whose content is not text: its path and the path's words
        Document(id="r:nb", source="r", team="T", kind="doc", title="seasonality_modes.ipynb",
                 path="notebooks/seasonality_modes.ipynb", text="notebooks seasonality modes ipynb"),
        Document(id="r:page", source="r", team="T", kind="doc", title="Multiplicative seasonality",
                 path="docs/multiplicative.md",
                 text="By default seasonality is additive. When the seasonal swings grow with the trend, set the "
                      "seasonality mode to multiplicative so that each seasonal effect scales the trend."),
        Document(id="r:other", source="r", team="T", kind="doc", title="Holidays", path="docs/holidays.md",
                 text="Holidays and special events are given as a table of dates with a window around each."),
    ]
    searcher = searcher_over(tmp_path, docs, "r", "T")
    try:
        query = "seasonality modes"
        fused, _ = searcher.ranked(query, weights=search_module.SEARCH_WEIGHTS, rrf_k=search_module.SEARCH_RRF_K)
        assert max(fused, key=fused.get) == "r:nb"  # its name holds both words
        assert [h.doc_id for h in searcher.search(query, limit=3, floor=False)][:2] == ["r:page", "r:nb"]
    finally:
        searcher.store.close()


def test_namesakes_in_another_source_do_not_follow():
    docs = {"guide": _doc("T/Lib/guide/ensembles"), "other": _doc("T/Lib/guide/trees"),
            "repo": _doc("docs/ensembles.rst", source="lib-repo")}
    scores = {"guide": 0.040, "other": 0.039, "repo": 0.020}
    assert namesakes_follow(scores, docs) == scores


def test_a_reference_stub_found_by_neither_retriever_follows_its_guide_page(tmp_path):
    docs = [
        Document(id="w:guide", source="w", team="T", kind="wiki_page", title="Lib/user_guide/PeriodicTransformer",
                 path="Lib/user_guide/PeriodicTransformer",
                 text="Hours of the day and days of the week wrap around: the last hour is next to the first. "
                      "Encoding each such variable with its sine and cosine keeps midnight beside eleven at night."),
        # an autodoc page: one directive, no word of the question
        Document(id="w:stub", source="w", team="T", kind="wiki_page", title="Lib/api_doc/PeriodicTransformer",
                 path="Lib/api_doc/PeriodicTransformer", text="PeriodicTransformer\n\n.. autoclass:: lib.PeriodicTransformer"),
        # the same name in another source is a coincidence, not the same subject
        Document(id="r:stub", source="r", team="T", kind="doc", title="PeriodicTransformer",
                 path="docs/periodic_transformer.rst", text=".. autoclass:: other.PeriodicTransformer"),
        Document(id="w:other", source="w", team="T", kind="wiki_page", title="Lib/user_guide/Imputation",
                 path="Lib/user_guide/Imputation",
                 text="Missing values are replaced by the median of the column, or by a constant you choose."),
    ] + [Document(id=f"w:p{k}", source="w", team="T", kind="wiki_page", title=f"Lib/user_guide/Topic{k}",
                  path=f"Lib/user_guide/Topic{k}", text=f"Report {k} plots the hour of day, its sine and its cosine.")
         for k in range(4)]
    searcher = searcher_over(tmp_path, docs, "w", "T")
    try:
        query = "encode hour of day with sine and cosine"
        few = 4  # chunks each retriever hands on: in a big index the stub is far below them
        fused, _ = searcher.ranked(query, few, weights=search_module.SEARCH_WEIGHTS, rrf_k=search_module.SEARCH_RRF_K)
        assert "w:stub" not in fused and "r:stub" not in fused  # neither retriever finds them
        hits = searcher.search(query, limit=5, candidates=few, floor=False)
        assert [h.doc_id for h in hits][:2] == ["w:guide", "w:stub"]
        assert searcher.store.documents(["r:stub"])["r:stub"]["source"] == "r"
        assert "r:stub" not in [h.doc_id for h in hits]
        assert "autoclass" in hits[1].snippet  # shown with its own passage
    finally:
        searcher.store.close()


def test_what_a_reference_stub_documents():
    subject = search_module.stub_subject
    assert subject("GammaFitter\n===========\n\n.. autoclass:: lib.fitters.gamma.GammaFitter\n   :members:") == "GammaFitter"
    assert subject("`OnlineVectorizer`\n\nlib.vectorizers.OnlineVectorizer") == "OnlineVectorizer"
    assert subject("::: lib.plots.ResidualsPlot") == "ResidualsPlot"
    assert subject("::: lib.plots.plot_residuals") == "plot_residuals"
    assert subject("::: lib.plots") is None  # a module named by a plain word: any page says "plots"
    assert subject("GammaFitter\n\nFits a gamma distribution to durations.") is None  # prose: a page, not a stub
    assert subject("../README.md") is None and subject("") is None


def test_the_stub_of_a_name_the_leading_page_uses_and_the_question_asks_about_follows_it(tmp_path):
    guide = ("Survival curves are estimated with the Nelson estimator: fit a NelsonCurveFitter to the durations "
             "and the observed events, then plot its cumulative hazard. A WeibullShapeFitter gives a smooth "
             "parametric curve instead. Every fitter of lib accepts censored observations. Lib itself is "
             "imported once. Hazard tables are printed by HazardTableText, HazardTableHtml or HazardTableLatex.")
    docs = [
        Document(id="w:guide", source="w", team="T", kind="wiki_page", title="Lib/Survival curves",
                 path="Lib/Survival curves", text=guide),
        Document(id="w:nelson", source="w", team="T", kind="wiki_page", title="Lib/api/univariate/NelsonCurveFitter",
                 path="Lib/api/univariate/NelsonCurveFitter",
                 text="NelsonCurveFitter\n=================\n\n.. autoclass:: lib.fitters.NelsonCurveFitter\n   :members:"),
        # named in the guide, but the question names no word of it
        Document(id="w:weibull", source="w", team="T", kind="wiki_page", title="Lib/api/univariate/WeibullShapeFitter",
                 path="Lib/api/univariate/WeibullShapeFitter",
                 text=".. autoclass:: lib.fitters.WeibullShapeFitter"),
        # the project's own entry point: every page uses it
        Document(id="w:lib", source="w", team="T", kind="wiki_page", title="Lib/api/Lib", path="Lib/api/Lib",
                 text="`Lib`\n\nlib.Lib"),
    ] + [  # a word many stubs' names share ties none of them to the question
        Document(id=f"w:table{form}", source="w", team="T", kind="wiki_page", title=f"Lib/api/HazardTable{form}",
                 path=f"Lib/api/HazardTable{form}", text=f".. autoclass:: lib.tables.HazardTable{form}")
        for form in ("Text", "Html", "Latex")
    ] + [Document(id=f"w:p{k}", source="w", team="T", kind="wiki_page", title=f"Lib/Topic{k}", path=f"Lib/Topic{k}",
                  text=f"Lib estimates cumulative hazard curves for cohort {k} of the durations study.")
         for k in range(4)]
    searcher = searcher_over(tmp_path, docs, "w", "T")
    try:
        query = "Nelson estimate of cumulative hazard with lib"
        few = 4
        fused, _ = searcher.ranked(query, few, weights=search_module.SEARCH_WEIGHTS, rrf_k=search_module.SEARCH_RRF_K)
        assert sorted(fused, key=lambda d: -fused[d]).index("w:nelson") > 2  # the retrievers rank it low
        hits = [h.doc_id for h in searcher.search(query, limit=6, candidates=few, floor=False)]
        assert hits[:2] == ["w:guide", "w:nelson"]
        assert "w:weibull" not in hits and "w:lib" not in hits
        assert not any(h.startswith("w:table") for h in hits)
    finally:
        searcher.store.close()


def test_a_page_whose_every_passage_is_about_the_question_is_more_about_it_than_a_readme():
    import numpy as np

    def unit(*xs: float) -> np.ndarray:
        v = np.asarray(xs, dtype="float32")
        return v / np.linalg.norm(v)

    q = unit(1, 0, 0, 0, 0)
    # a README: one passage on the question, four on the project's other topics, all near the project's sense
    readme = np.mean([unit(1, 0.2, 0, 0, 0)] + [unit(0.5, 0, 1, 0, 0), unit(0.5, 0, -1, 0, 0),
                                                 unit(0.5, 0, 0, 1, 0), unit(0.5, 0, 0, -1, 0)], axis=0)
    page = np.mean([unit(1, 0.6, 0, 0, 0.2), unit(1, 0.6, 0, 0, -0.2)], axis=0)  # every passage on it
    direction = {name: float(m @ q) / float(np.linalg.norm(m)) for name, m in (("readme", readme), ("page", page))}
    assert direction["readme"] > direction["page"]  # the README's mean points at the question better
    assert search_module.focus(page, q) > search_module.focus(readme, q)
    assert search_module.focus(np.zeros(5, dtype="float32"), q) == 0.0


def test_writing_that_touches_every_topic_yields_unless_the_question_asks_for_it():
    docs = {d: {"kind": "wiki_page", "path": f"Lib/{d}", "title": f"Lib/{d}"} for d in ("guide", "references", "changes")}
    traits = {"guide": {"genre": ""}, "references": {"genre": "bibliography"}, "changes": {"genre": "changelog"}}
    about = search_module.document_priors("detecting drift in deployed models", docs, traits)
    assert about["guide"] == 1.0
    assert about["references"] == search_module.GENRE_PRIOR["bibliography"] < 1.0
    assert about["changes"] == search_module.GENRE_PRIOR["changelog"] < 1.0
    papers = search_module.document_priors("which papers should I cite for drift detection", docs, traits)
    assert papers["references"] == 1.0 and papers["changes"] < 1.0
    release = search_module.document_priors("what changed in 2.0", docs, traits)
    assert release["changes"] == 1.0 and release["references"] < 1.0
    docs["index"], traits["index"] = {"kind": "wiki_page", "path": "Lib/index", "title": "Lib/index"}, {"genre": "contents"}
    assert search_module.document_priors("detecting drift", docs, traits)["index"] < 1.0  # its pages come first
    assert search_module.document_priors("an overview of drift detection", docs, traits)["index"] == 1.0


def test_a_name_many_documents_share_pulls_no_namesake_from_the_store(tmp_path):
    docs = [
        Document(id="w:guide", source="w", team="T", kind="wiki_page", title="Lib/guide/Overview",
                 path="Lib/guide/Overview",
                 text="Hours of the day wrap around: encode each with its sine and its cosine so midnight meets eleven."),
        Document(id="w:api", source="w", team="T", kind="wiki_page", title="Lib/api/Overview", path="Lib/api/Overview",
                 text=".. automodule:: lib.api"),
    ] + [Document(id=f"o{k}:overview", source=f"o{k}", team="T", kind="doc", title="Overview",  # other projects
                  path="docs/overview.md", text=f".. automodule:: other{k}") for k in range(4)
    ] + [Document(id=f"w:p{k}", source="w", team="T", kind="wiki_page", title=f"Lib/Topic{k}", path=f"Lib/Topic{k}",
                  text=f"Report {k} plots the hour of day, its sine and its cosine.") for k in range(4)]
    searcher = searcher_over(tmp_path, docs, "w", "T")
    try:
        hits = [h.doc_id for h in searcher.search("encode hour of day with sine and cosine", limit=6, candidates=4,
                                                   floor=False)]
        assert hits[0] == "w:guide" and "w:api" not in hits  # six pages are called Overview: no subject
    finally:
        searcher.store.close()
