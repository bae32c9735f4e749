"""A document's language is judged at crawl time by py3langid (index/ingest/traits.py), stored beside
it, and preferred by search: a translated tutorial does not outrank the English one for an English
question. A document crawled while no detector was installed is judged at the next crawl."""
from __future__ import annotations

from conftest import write_config
from guildbot import Guild
from index.ingest import traits
from index.storage import documents as documents_store

ENGLISH = """# Retraining the churn model

The churn model is retrained every Monday from the last ninety days of subscriptions. The training
job reads the feature store, fits a gradient boosted model, and writes its metrics next to the
previous week's so that a drop in recall is visible before the model is promoted.
"""

FRENCH = """# Réentraîner le modèle d'attrition

Le modèle d'attrition est réentraîné chaque lundi à partir des quatre-vingt-dix derniers jours
d'abonnements. La tâche d'entraînement lit le magasin de variables, ajuste un modèle de gradient
boosting et écrit ses métriques à côté de celles de la semaine précédente.
"""


def _crawl(tmp_path, repo):
    config = write_config(tmp_path, [{"kind": "git", "name": "churn", "team": "Retention", "url": str(repo.path)}])
    guild = Guild.from_config(config)
    report = guild.crawl()
    assert not report.failed, [s.error for s in report.failed]
    return guild


def _languages(guild) -> dict[str, str | None]:
    hits = {h.path: h.doc_id for h in guild.search("churn model retraining", limit=10)}
    stored = documents_store.traits_of(guild.store, hits.values())
    return {path: stored[doc_id]["lang"] for path, doc_id in hits.items() if path.endswith(".md")}


def test_language_is_judged_later_when_the_detector_was_missing_and_english_questions_prefer_english(
        tmp_path, make_repo, monkeypatch):
    repo = make_repo("churn")
    repo.commit("Ada Lovelace", "ada@example.com", {"docs/retraining.md": ENGLISH, "docs/fr/retraining.md": FRENCH})

    traits._detector.cache_clear()
    monkeypatch.setattr(traits, "_detector", lambda: None)  # a machine without py3langid
    guild = _crawl(tmp_path, repo)
    try:
        assert set(_languages(guild).values()) == {None}  # not judged, not "unknown"
    finally:
        guild.close()

    monkeypatch.undo()
    traits._detector.cache_clear()
    guild = _crawl(tmp_path, repo)  # nothing changed in the repository: only the backfill judges them
    try:
        assert _languages(guild) == {"docs/retraining.md": "en", "docs/fr/retraining.md": "fr"}
        ranked = [h.path for h in guild.search("how often is the churn model retrained?", limit=10)]
        assert ranked.index("docs/retraining.md") < ranked.index("docs/fr/retraining.md")
    finally:
        guild.close()


def test_a_question_wakes_the_detector_only_when_candidates_differ_in_language(monkeypatch):
    from index.retrieval import search

    woken = []
    monkeypatch.setattr(search, "language", lambda text, **kw: woken.append(text) or "fr")
    assert search.question_language("how often is the churn model retrained?", ["en", "en", "", None]) == ""
    assert woken == []  # one language among the candidates: nothing to prefer, no detector loaded
    assert search.question_language("à quelle fréquence le modèle est-il réentraîné ?", ["en", "fr", "en"]) == "fr"
    assert len(woken) == 1
