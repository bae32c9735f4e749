#!/usr/bin/env python3
"""Build the demo org's git repositories under examples/build/repos.

Every commit is scripted: author, email, date and Co-authored-by trailers, so the history is the
same on every machine. Planted on purpose:
- two teams (Home Feed and Marketplace) each built a recommender, unaware of each other;
- Priya Raman commits with her work email and, earlier, a personal one (linked by .mailmap in one
  repository only, and by name elsewhere);
- dependabot[bot] and a github-actions commit that must never become people;
- catalog owners from three places: feed-ranker has a .github/CODEOWNERS, similar-items a Backstage
  catalog-info.yaml, and drift-watch neither (its owners are its top contributors);
- mlkit, a monorepo shared by several teams: Mei Lin (ML Platform) makes most of its commits, but
  each module was built by someone else (the embedding cache by Tomás, batch scoring by Lena, the
  label review queue by Jo), so "who built the embedding cache?" must name Tomás, not Mei.

Usage: python examples/make_demo.py [--out DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

PEOPLE = {
    "priya": ("Priya Raman", "priya.raman@acme.example"),
    "priya_old": ("Priya Raman", "priya.r.dev@gmail.com"),
    "tomas": ("Tomás Ortega", "tomas.ortega@acme.example"),
    "lena": ("Lena Fischer", "lena.fischer@acme.example"),
    "omar": ("Omar Haddad", "omar.haddad@acme.example"),
    "mei": ("Mei Lin", "mei.lin@acme.example"),
    "sam": ("Sam Okafor", "sam.okafor@acme.example"),
    "jo": ("Jo Brandt", "jo.brandt@acme.example"),
    "dependabot": ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
    "actions": ("github-actions", "41898282+github-actions[bot]@users.noreply.github.com"),
}

FEED_RANKER = {
    "README.md": """# feed-ranker

The Home Feed recommender: ranks posts for every member's home feed.

feed-ranker trains a two-tower retrieval model on implicit feedback (clicks, dwell time, saves)
and re-ranks the candidates with a gradient-boosted ranker. It is our production recommender
system for the home feed and serves about 40 million recommendations a day.

## How it works

1. Candidate generation: approximate nearest neighbours over item embeddings.
2. Ranking: LightGBM LambdaRank over user, item and context features.
3. Business rules: freshness boost, author diversity, no repeated items within a session.

## Evaluation

Offline we report recall@50 for retrieval and nDCG@10 for ranking on a time-based split.
Online, the north-star metric is saves per active member.
""",
    "docs/cold-start.md": """---
title: Cold start for new members
author: Priya Raman <priya.raman@acme.example>
---
# Cold start for new members

New members have no interaction history, so collaborative filtering alone recommends nothing
useful. We fall back to popularity within the member's declared interests, then blend in the
two-tower model as soon as five interactions arrive. Item cold start uses content embeddings
from the post text so that new posts can be retrieved on their first day.
""",
    "docs/training.md": """# Training the two-tower model

Training data is a week of implicit feedback. Negatives are sampled in-batch with a
log-uniform correction. We train nightly on the ML platform's GPU pool and publish item
embeddings to the vector index used for candidate retrieval.
""",
    "feed_ranker/retrieval/two_tower.py": "class TwoTowerModel:\n    pass\n",
    "feed_ranker/ranking/lambdarank.py": "def train_ranker(features):\n    return None\n",
    "feed_ranker/features/user_features.py": "USER_FEATURES = []\n",
    "requirements.txt": "lightgbm\nfaiss-cpu\n",
}

SIMILAR_ITEMS = {
    "README.md": """# similar-items

Marketplace recommendations: "you may also like" and "similar listings" carousels.

similar-items is an item-to-item recommender built on matrix factorization of implicit
feedback (views, favourites, purchases) with alternating least squares, combined with
image and title embeddings for listings that have no history yet. It powers recommendations
on listing pages and in the weekly email.

## Serving

Nearest neighbours are precomputed nightly and stored in Redis; the API returns the top 20
similar listings in under 10 ms.
""",
    "docs/als.md": """# Alternating least squares on implicit feedback

We weight interactions by confidence (purchase > favourite > view) and factorize the
user-item matrix with ALS. Hyperparameters: 128 factors, regularization 0.05, 15 iterations.
Evaluation uses precision@10 on the last week of purchases.
""",
    "docs/cold-start-listings.md": """# Cold start for new listings

A listing without interactions gets its neighbours from content embeddings of its photos and
title. After twenty views the collaborative filtering neighbours take over.
""",
    "similar_items/als.py": "def fit_als(matrix):\n    return None\n",
    "similar_items/content_embeddings.py": "def embed_listing(listing):\n    return None\n",
    "similar_items/serve.py": "def similar(listing_id):\n    return []\n",
}

DRIFT_WATCH = {
    "README.md": """# drift-watch

Model monitoring for the Risk team's fraud models: data drift, prediction drift and
performance decay, with alerts to the on-call channel.

drift-watch computes the population stability index (PSI) and Kolmogorov-Smirnov tests per
feature every hour, compares prediction score distributions against the training baseline, and
opens an incident when drift crosses the configured threshold.
""",
    "docs/psi.rst": """Population stability index
==========================

The PSI compares the binned distribution of a feature today with its distribution in the
training window. Values above 0.2 signal significant drift. We use ten quantile bins fixed on
the training data so that the index is comparable from day to day.
""",
    "docs/alerting.md": """# Alerting on drift

Alerts go to the risk on-call channel with the drifted features, their PSI and a link to the
dashboard. A fraud model whose precision at the decision threshold drops by more than five
points is retrained automatically.
""",
    "drift_watch/psi.py": "def psi(expected, actual, bins=10):\n    return 0.0\n",
    "drift_watch/ks_test.py": "def ks_drift(a, b):\n    return 0.0\n",
    "drift_watch/alerts.py": "def send_alert(feature, value):\n    pass\n",
}

FEED_RANKER_CODEOWNERS = """# Home Feed reviews everything; Tomás also reviews features and docs.
*                        @acme/home-feed @priya-raman
/feed_ranker/features/   @tomas-ortega
/docs/                   @priya-raman @tomas-ortega
"""

SIMILAR_ITEMS_CATALOG_INFO = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: similar-items
  description: Item-to-item recommendations for marketplace listings, served from precomputed neighbours.
  tags: [recommendations, matrix-factorization, listings]
  links:
    - url: https://grafana.acme.example/d/similar-items
      title: Serving dashboard
spec:
  type: service
  lifecycle: production
  owner: group:marketplace-discovery
"""

# (repo, author, iso date, message, {path: content or None to delete}, [co-author keys])
HISTORY = [
    ("feed-ranker", "priya_old", "2023-02-01T10:00:00+00:00", "Start the home feed recommender",
     {"README.md": FEED_RANKER["README.md"], "requirements.txt": FEED_RANKER["requirements.txt"]}, []),
    ("feed-ranker", "priya_old", "2023-03-15T09:30:00+00:00", "Two-tower retrieval model",
     {"feed_ranker/retrieval/two_tower.py": FEED_RANKER["feed_ranker/retrieval/two_tower.py"],
      "docs/training.md": FEED_RANKER["docs/training.md"]}, []),
    ("feed-ranker", "priya", "2023-06-01T14:00:00+00:00", "LambdaRank re-ranking stage",
     {"feed_ranker/ranking/lambdarank.py": FEED_RANKER["feed_ranker/ranking/lambdarank.py"]}, ["tomas"]),
    ("feed-ranker", "tomas", "2023-07-10T11:00:00+00:00", "User features for the ranker",
     {"feed_ranker/features/user_features.py": FEED_RANKER["feed_ranker/features/user_features.py"]}, []),
    ("feed-ranker", "priya", "2024-01-20T16:00:00+00:00", "Cold start for new members",
     {"docs/cold-start.md": FEED_RANKER["docs/cold-start.md"]}, []),
    ("feed-ranker", "dependabot", "2024-02-02T03:00:00+00:00", "Bump lightgbm from 3.3 to 4.1",
     {"requirements.txt": "lightgbm>=4.1\nfaiss-cpu\n"}, []),
    ("feed-ranker", "priya", "2024-05-05T10:00:00+00:00", "Document offline evaluation in the README",
     {"README.md": FEED_RANKER["README.md"] + "\nSee docs/training.md for the nightly training job.\n"}, ["mei"]),
    ("feed-ranker", "priya", "2024-05-06T09:00:00+00:00", "Add CODEOWNERS",
     {".github/CODEOWNERS": FEED_RANKER_CODEOWNERS}, []),
    ("similar-items", "omar", "2023-04-03T08:00:00+00:00", "Item-to-item recommender with ALS",
     {"README.md": SIMILAR_ITEMS["README.md"], "similar_items/als.py": SIMILAR_ITEMS["similar_items/als.py"],
      "docs/als.md": SIMILAR_ITEMS["docs/als.md"]}, []),
    ("similar-items", "omar", "2023-05-20T12:00:00+00:00", "Serve precomputed neighbours from Redis",
     {"similar_items/serve.py": SIMILAR_ITEMS["similar_items/serve.py"]}, []),
    ("similar-items", "lena", "2023-09-12T15:00:00+00:00", "Content embeddings for new listings",
     {"similar_items/content_embeddings.py": SIMILAR_ITEMS["similar_items/content_embeddings.py"],
      "docs/cold-start-listings.md": SIMILAR_ITEMS["docs/cold-start-listings.md"]}, ["omar"]),
    ("similar-items", "omar", "2024-03-01T09:00:00+00:00", "Tune ALS regularization",
     {"docs/als.md": SIMILAR_ITEMS["docs/als.md"] + "\nRegularization was tuned on a held-out month.\n"}, []),
    ("similar-items", "actions", "2024-03-02T00:00:00+00:00", "Update generated API docs", {"API.txt": "similar(listing_id)\n"}, []),
    ("similar-items", "lena", "2024-03-04T11:00:00+00:00", "Register similar-items in the service catalog",
     {"catalog-info.yaml": SIMILAR_ITEMS_CATALOG_INFO}, []),
    ("drift-watch", "sam", "2023-01-10T10:00:00+00:00", "Drift monitoring for fraud models",
     {"README.md": DRIFT_WATCH["README.md"], "drift_watch/psi.py": DRIFT_WATCH["drift_watch/psi.py"],
      "docs/psi.rst": DRIFT_WATCH["docs/psi.rst"]}, []),
    ("drift-watch", "sam", "2023-02-14T10:00:00+00:00", "Kolmogorov-Smirnov drift test",
     {"drift_watch/ks_test.py": DRIFT_WATCH["drift_watch/ks_test.py"]}, ["jo"]),
    ("drift-watch", "jo", "2023-08-08T13:00:00+00:00", "Alert the on-call channel on drift",
     {"drift_watch/alerts.py": DRIFT_WATCH["drift_watch/alerts.py"], "docs/alerting.md": DRIFT_WATCH["docs/alerting.md"]}, []),
    ("drift-watch", "priya_old", "2024-04-01T10:00:00+00:00", "Share feature drift checks with the feed ranker",
     {"drift_watch/ks_test.py": DRIFT_WATCH["drift_watch/ks_test.py"] + "# used by feed-ranker too\n"}, ["sam"]),
]

MAILMAP = {"feed-ranker": "Priya Raman <priya.raman@acme.example> <priya.r.dev@gmail.com>\n"}


def git(repo: Path, *args: str, env: dict | None = None) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, **(env or {})})


MLKIT_README = """# mlkit

The shared ML monorepo: libraries and jobs that several teams contribute to and deploy from.
ML Platform keeps the core (configuration, logging, CI); each module belongs to the team that
built it.
"""

MLKIT = {
    "mlkit/core/config.py": "def load_config(path):\n    return {}\n",
    "mlkit/core/logging.py": "def get_logger(name):\n    return None\n",
    "mlkit/embedding_cache/__init__.py": '"""Embedding cache: keeps item and member embedding vectors in memory close to the\n'
                                         'rankers, refreshed from the vector index, with LRU eviction."""\n',
    "mlkit/embedding_cache/store.py": "class EmbeddingCache:\n    pass\n",
    "mlkit/embedding_cache/eviction.py": "def evict_lru(cache):\n    pass\n",
    "mlkit/embedding_cache/refresh.py": "def refresh_from_index(cache):\n    pass\n",
    "mlkit/batch_scoring/README.md": "# Batch scoring\n\nNightly batch inference jobs: score every listing or member with a\n"
                                     "registered model on the Spark cluster and write the scores to the warehouse.\n",
    "mlkit/batch_scoring/job.py": "def run_scoring_job(model, table):\n    pass\n",
    "mlkit/batch_scoring/partitions.py": "def partition_by_day(table):\n    return []\n",
    "mlkit/label_review/__init__.py": '"""Label review queue: fraud analysts confirm or overturn model decisions; the\n'
                                      'reviewed labels feed the next training run."""\n',
    "mlkit/label_review/queue.py": "def next_case(queue):\n    return None\n",
    "mlkit/label_review/sampling.py": "def sample_for_review(decisions):\n    return []\n",
}

# (author, iso date, message, {path: content}, [co-author keys]); Mei's chores touch every module once
MLKIT_HISTORY = [
    ("mei", "2023-01-05T09:00:00+00:00", "Start the shared ML monorepo", {"README.md": MLKIT_README}, []),
    ("mei", "2023-01-06T09:00:00+00:00", "Shared configuration loader", {"mlkit/core/config.py": MLKIT["mlkit/core/config.py"]}, []),
    ("mei", "2023-01-09T09:00:00+00:00", "Shared structured logging", {"mlkit/core/logging.py": MLKIT["mlkit/core/logging.py"]}, []),
    ("tomas", "2023-02-01T10:00:00+00:00", "Add an in-memory embedding cache for the rankers",
     {p: MLKIT[p] for p in ("mlkit/embedding_cache/__init__.py", "mlkit/embedding_cache/store.py")}, []),
    ("tomas", "2023-02-20T10:00:00+00:00", "LRU eviction for the embedding cache",
     {"mlkit/embedding_cache/eviction.py": MLKIT["mlkit/embedding_cache/eviction.py"]}, []),
    ("tomas", "2023-03-15T10:00:00+00:00", "Refresh cached embeddings from the vector index",
     {"mlkit/embedding_cache/refresh.py": MLKIT["mlkit/embedding_cache/refresh.py"]}, ["priya"]),
    ("lena", "2023-04-03T10:00:00+00:00", "Nightly batch scoring job on the Spark cluster",
     {p: MLKIT[p] for p in ("mlkit/batch_scoring/README.md", "mlkit/batch_scoring/job.py")}, []),
    ("lena", "2023-04-28T10:00:00+00:00", "Partition batch scores by day",
     {"mlkit/batch_scoring/partitions.py": MLKIT["mlkit/batch_scoring/partitions.py"]}, []),
    ("omar", "2023-05-10T10:00:00+00:00", "Score listings in batch scoring too",
     {"mlkit/batch_scoring/job.py": MLKIT["mlkit/batch_scoring/job.py"] + "# listings\n"}, []),
    ("jo", "2023-06-01T10:00:00+00:00", "Label review queue for fraud analysts",
     {p: MLKIT[p] for p in ("mlkit/label_review/__init__.py", "mlkit/label_review/queue.py")}, []),
    ("jo", "2023-06-20T10:00:00+00:00", "Sample model decisions for label review",
     {"mlkit/label_review/sampling.py": MLKIT["mlkit/label_review/sampling.py"]}, ["sam"]),
    ("mei", "2023-07-03T09:00:00+00:00", "CI: run the tests of every module",
     {".ci/pipeline.yml": "steps: [lint, test]\n"}, []),
    ("mei", "2023-08-01T09:00:00+00:00", "Use the shared logger everywhere",
     {p: MLKIT[p] + "# logging: mlkit.core.logging\n" for p in ("mlkit/embedding_cache/store.py",
                                                                  "mlkit/batch_scoring/job.py", "mlkit/label_review/queue.py")}, []),
    ("mei", "2023-09-12T09:00:00+00:00", "Configuration from environment variables",
     {"mlkit/core/config.py": MLKIT["mlkit/core/config.py"] + "# env\n"}, []),
    ("mei", "2024-01-15T09:00:00+00:00", "Release notes for 2024", {"CHANGELOG.md": "# Changes\n\n2024: shared logger.\n"}, []),
    ("mei", "2024-02-01T09:00:00+00:00", "CI: cache dependencies", {".ci/pipeline.yml": "steps: [lint, test]\ncache: true\n"}, []),
]


def commit(repo: Path, author: str, date: str, message: str, files: dict, co: list[str]) -> None:
    """Write `files` (None deletes) and commit them as `author` on `date`, crediting co-authors."""
    for path, content in files.items():
        target = repo / path
        if content is None:
            target.unlink()
            git(repo, "rm", "-q", path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        git(repo, "add", path)
    name, email = PEOPLE[author]
    trailers = "".join(f"\nCo-authored-by: {PEOPLE[c][0]} <{PEOPLE[c][1]}>" for c in co)
    body = message + ("\n" + trailers if trailers else "")
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": date}
    git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", body, env=env)


def build_monorepo(out: Path) -> Path:
    """The mlkit monorepo: modules built by people of different teams, chores by its top committer."""
    repo = out / "mlkit"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for author, date, message, files, co in MLKIT_HISTORY:
        commit(repo, author, date, message, files, co)
    return repo


def build(out: Path) -> list[Path]:
    """Create the demo repositories under `out` (replacing any previous build)."""
    if out.exists():
        shutil.rmtree(out)
    repos: dict[str, Path] = {}
    for repo_name, author, date, message, files, co in HISTORY:
        repo = repos.get(repo_name)
        if repo is None:
            repo = repos[repo_name] = out / repo_name
            repo.mkdir(parents=True)
            git(repo, "init", "-q", "-b", "main")
            if repo_name in MAILMAP:
                (repo / ".mailmap").write_text(MAILMAP[repo_name])
                git(repo, "add", ".mailmap")
        commit(repo, author, date, message, files, co)
    return list(repos.values()) + [build_monorepo(out)]


# -- recent history, dated relative to today, so every section of the weekly digest has news ---------
# (weeks back, ISO weekday, hour): 1 is the week that just ended, in the digest's zone
DEMO_TZ = "Europe/London"
TRAINING_PIPELINES = {
    "README.md": """# training-pipelines

ML Platform's nightly training pipelines: every team's models are retrained on the shared GPU
pool from versioned data snapshots, evaluated against the last release and registered in the
model registry before they are promoted.
""",
    "docs/model-registry.md": """# The model registry

Every trained model is registered with its data snapshot, code version, metrics and owner.
Promotion to production needs a better offline score than the current release and a sign-off
from the owning team. Rollback is one command.
""",
    "training_pipelines/schedule.py": "def nightly(job):\n    return job\n",
}
RECENT = [  # (repo, author, (weeks back, weekday, hour), message, files, co-authors)
    ("drift-watch", "sam", (3, 2, 10), "Drift checks for the new device features",
     {"docs/device-features.md": "# Drift checks for device features\n\nDevice fingerprint features drift with every "
                                 "app release; we compare them per release instead of per hour.\n"}, []),
    ("similar-items", "lena", (27, 4, 11), "Offline evaluation of similar listings",  # dormant again last week
     {"docs/evaluation.md": "# Offline evaluation\n\nSimilar listings are judged by precision@10 on the purchases "
                            "of the following week, per category.\n"}, []),
    ("training-pipelines", "mei", (1, 2, 9), "Nightly training pipelines on the GPU pool",
     {k: v for k, v in TRAINING_PIPELINES.items() if k != "docs/model-registry.md"}, []),
    ("training-pipelines", "mei", (1, 4, 15), "Document the model registry",
     {"docs/model-registry.md": TRAINING_PIPELINES["docs/model-registry.md"]}, ["tomas"]),
    ("drift-watch", "mei", (1, 3, 14), "Feature drift checks for the training pipelines",
     {"docs/training-drift.md": "# Drift between training snapshots\n\nBefore a nightly retrain, the pipeline compares "
                                "the new snapshot with the last one using the PSI and stops on significant drift.\n",
      "docs/alerting.md": DRIFT_WATCH["docs/alerting.md"] + "\nTraining pipelines alert the owning team's channel "
                                                             "instead of the risk on-call.\n"}, ["sam"]),
]
WIKI_DATES = {  # page -> (weeks back, weekday, hour): the files connector dates a page by its mtime
    "home-feed/ranker-experiments.md": (1, 2, 16), "marketplace/recommendations-roadmap.md": (1, 4, 11),
    "ml-platform/feature-store.md": (2, 1, 10), "risk/fraud-model.md": (2, 4, 13), "ml-platform/gpu-pool.html": (3, 3, 9),
    "ml-platform/ml-guild.md": (4, 2, 12), "risk/incident-runbook.html": (5, 1, 15), "home-feed/onboarding.md": (6, 3, 10),
}
QUESTIONS = [  # asked last week: (asker's Slack id, question, (weeks back, weekday, hour), marked "Not helpful")
    ("U01PRIYA", "how do we autoscale spark clusters on kubernetes?", (1, 1, 10), False),
    ("U06SAM", "how do I rotate the kafka certificates?", (1, 2, 11), False),
    ("U03LENA", "how do I rotate the kafka certificates?", (1, 3, 15), False),
    ("U04OMAR", "who knows about the feature store?", (1, 4, 9), True),
]


def when(weeks_back: int, weekday: int, hour: int, today=None):
    """A moment `weeks_back` ISO weeks before this one, on `weekday` (1 = Monday) at `hour`, in DEMO_TZ, as UTC."""
    from datetime import datetime, time, timedelta, timezone
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(DEMO_TZ)
    local = (today or datetime.now(timezone.utc)).astimezone(zone)
    monday = local.date() - timedelta(days=local.isoweekday() - 1)
    day = monday - timedelta(weeks=weeks_back) + timedelta(days=weekday - 1)
    return datetime.combine(day, time(hour), zone).astimezone(timezone.utc)


def build_recent(out: Path, wiki: Path = HERE / "wiki", today=None) -> None:
    """Add recent history to the built repositories and date the wiki pages, relative to today:
    a new project (training-pipelines), one that came back (drift-watch), one that went dormant
    last week (similar-items), new and edited pages, and a person joining another team's project."""
    for repo_name, author, (weeks, weekday, hour), message, files, co in RECENT:
        repo = out / repo_name
        if not repo.exists():
            repo.mkdir(parents=True)
            git(repo, "init", "-q", "-b", "main")
        for path, content in files.items():
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(content)
            git(repo, "add", path)
        date = when(weeks, weekday, hour, today).isoformat()
        name, email = PEOPLE[author]
        trailers = "".join(f"\nCo-authored-by: {PEOPLE[c][0]} <{PEOPLE[c][1]}>" for c in co)
        env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
               "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": date}
        git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message + ("\n" + trailers if trailers else ""), env=env)
    for page, (weeks, weekday, hour) in WIKI_DATES.items():
        if (wiki / page).exists():
            stamp = when(weeks, weekday, hour, today).timestamp()
            os.utime(wiki / page, (stamp, stamp))


def seed_questions(config: Path) -> int:
    """Log last week's demo questions (after a crawl), dated like the rest, with one "Not helpful" vote."""
    sys.path.insert(0, str(HERE.parent))
    from guildbot import Guild
    from index.retrieval import querylog
    from index.retrieval.feedback import record_feedback

    guild = Guild.from_config(config)
    try:
        for asker, question, (weeks, weekday, hour), unhelpful in QUESTIONS:
            hits = guild.search(question, limit=5, surface=None)
            strength = querylog.strength(guild.store, guild.embedder.encode([question])[0], [h.doc_id for h in hits])
            querylog.record(guild.store, question, "slack", "search+experts", strength, len(hits), asker=asker,
                            now=when(weeks, weekday, hour))
            if unhelpful and hits:
                record_feedback(guild.store, hits[0].doc_id, question, -1, asker)
        return len(QUESTIONS)
    finally:
        guild.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=HERE / "build" / "repos")
    ap.add_argument("--questions", type=Path, metavar="GUILD_TOML",
                    help="after a crawl: log last week's demo questions into that guild's query log")
    args = ap.parse_args()
    if args.questions:
        print(f"logged {seed_questions(args.questions)} questions")
        return
    for repo in build(args.out):
        print(f"built {repo}")
    build_recent(args.out)
    print(f"built {args.out / 'training-pipelines'}; added recent history, dated relative to today")


if __name__ == "__main__":
    main()
