"""A hit names its best section and links it: the section of the document's outline its best
passage lies in (the part holding the question's words), at the #anchor in the style of the page's
site (MediaWiki or a Markdown host)."""
from __future__ import annotations

import pytest

from connectors.base import Document
from index.retrieval.search import anchor
from support.indexes import searcher_over

FILLER = " ".join(f"Sentence {i} is about the deployment pipeline and its stages." for i in range(60))
TEXT = "\n\n".join(["How the service is deployed.", "Build stage", FILLER, "Retry policy",
                    "A failed upload is retried three times with exponential backoff before the release is "
                    "abandoned and the on-call engineer is paged."])
OUTLINE = [[2, "Build stage"], [2, "Retry policy"]]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    root = tmp_path_factory.mktemp("sections")
    docs = [Document(id="w:1", source="w", team="Ops", kind="wiki_page", title="Ops/Deploy guide", text=TEXT,
                     url="http://wiki.example/index.php/Ops/Deploy_guide", path="Ops/Deploy guide",
                     metadata={"outline": OUTLINE}),
            Document(id="r:1", source="r", team="Ops", kind="doc", title="Release notes of the uploader",
                     text="The uploader writes artifacts to the bucket. " * 5, url="http://git.example/r/uploader.md",
                     path="docs/uploader.md")]
    searcher = searcher_over(root, docs, "s", "Ops")
    yield searcher
    searcher.store.close()


def test_the_hit_names_and_links_its_best_section(searcher):
    # floor=False: two documents are too few to judge a floor by (tests/index/retrieval/test_floor.py does)
    hits = searcher.search("failed upload retried with exponential backoff", limit=5, floor=False)
    hit = next(h for h in hits if h.doc_id == "w:1")
    assert hit.section == "Retry policy"
    assert hit.url == "http://wiki.example/index.php/Ops/Deploy_guide"  # the document's own address
    assert hit.link == "http://wiki.example/index.php/Ops/Deploy_guide#Retry_policy"
    assert "retried three times" in hit.snippet and "Retry policy" not in hit.snippet.split(" ")[0]


def test_anchors_follow_the_site():
    assert anchor("Retry policy", "wiki_page") == "Retry_policy"
    assert anchor("Install `pkg` (Linux)", "doc") == "install-pkg-linux"
