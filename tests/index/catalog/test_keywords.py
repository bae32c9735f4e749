"""Key phrases: candidate n-grams as written, nested phrases, maximal marginal relevance, and the real model."""
import numpy as np
import pytest

from index.catalog.keywords import merge_forms, mmr, nested, phrase_candidates, phrase_key
from index.catalog.content import rank_phrases


def test_candidates_are_written_phrases_that_never_cross_punctuation_or_stopwords():
    c = phrase_candidates("Matrix factorization for implicit feedback. Install with pip; the ALS solver, "
                          "and we shipped it.")
    assert c["Matrix factorization"] == 1 and c["implicit feedback"] == 1 and c["ALS solver"] == 1
    assert "factorization implicit" not in c  # 'for' is a stopword: no phrase spans it
    assert "feedback Install" not in c  # nor a full stop
    assert "pip" not in c and "Install" not in c  # generic documentation words alone are no candidates
    assert "shipped" not in c  # a past form says what happened, not what the project is about


def test_written_forms_merge_case_and_plurals_but_keep_acronyms():
    counts, shown = merge_forms(phrase_candidates("Recommendations. recommendations engine. ALS and ALS. "
                                                  "recommendation"))
    assert counts[phrase_key("recommendation")] == 3 and shown[phrase_key("recommendation")] == "recommendations"
    assert shown[phrase_key("ALS")] == "ALS"


def test_nested_phrases():
    assert nested("cold", "cold start") and nested("population stability index", "stability index")
    assert not nested("cold start", "start cold") and not nested("drift", "data pipeline")


def test_mmr_trades_relevance_for_variety_and_skips_nested_phrases():
    names = ["drift detection", "drift", "data drift detection", "alerting"]
    v = np.asarray([[1, 0, 0], [0.99, 0.14, 0], [0.98, 0.2, 0], [0.6, 0, 0.8]], dtype="float32")
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    picked = [p for p, _ in mmr(names, v, np.asarray([0.9, 0.85, 0.8, 0.5], dtype="float32"), 2, diversity=0.5)]
    assert picked == ["drift detection", "alerting"]  # the near-copies lose to a different topic
    picked = [p for p, _ in mmr(names, v, np.asarray([0.9, 0.85, 0.8, 0.5], dtype="float32"), 3, diversity=0.0)]
    assert "drift" not in picked  # inside 'drift detection': never both


@pytest.fixture(scope="module")
def embedder():
    from index.embedding.embedder import Embedder
    return Embedder()


def test_key_phrases_with_the_model_are_about_the_content_not_generic(embedder):
    text = ("Item-to-item recommendations with matrix factorization of implicit feedback. "
            "Released under the Apache License. Collaborative filtering recommends similar listings. "
            "Matrix factorization learns latent factors. Set up a virtual environment first.")
    counts, forms = merge_forms(phrase_candidates(text))
    vecs = {forms[k]: v for k, v in zip(counts, embedder.encode([forms[k] for k in counts]))}
    direction = embedder.encode(["recommender systems built on matrix factorization and collaborative filtering"])[0]
    centre = embedder.encode(["install the package in a virtual environment; licensed under a software licence"])[0]
    cands, picked = rank_phrases(counts, forms, vecs, direction, centre, limit=3)
    assert "matrix factorization" in picked or "collaborative filtering" in picked
    assert not {"Apache License", "virtual environment", "Apache"} & set(picked)
    assert cands[phrase_key("matrix factorization")][1] > cands[phrase_key("virtual environment")][1]
