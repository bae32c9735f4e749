"""Chunks fit the model: about 200 word pieces, title first, small overlap."""
import pytest

from index.ingest.chunking import MAX_TOKENS, chunk_text
from index.embedding.embedder import Embedder


@pytest.fixture(scope="module")
def tokenizer():
    return Embedder().tokenizer


def count(tokenizer, text):
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_short_text_is_one_chunk_with_title(tokenizer):
    assert chunk_text("Title", "A short body.", tokenizer) == ["Title\nA short body."]


def test_long_text_is_split_within_the_model_window(tokenizer):
    sentences = [f"Sentence number {i} talks about feature drift and monitoring." for i in range(200)]
    chunks = chunk_text("Drift guide", " ".join(sentences), tokenizer)
    assert len(chunks) > 5
    for c in chunks:
        assert c.startswith("Drift guide\n")
        assert count(tokenizer, c) <= 256 - 2  # [CLS] and [SEP]
        assert count(tokenizer, c.split("\n", 1)[1]) <= MAX_TOKENS
    # chunks end at sentence boundaries and overlap a little
    assert all(c.rstrip().endswith(".") for c in chunks[:-1])
    assert chunks[1].split("\n", 1)[1][:20] in chunks[0]


def test_every_word_is_covered(tokenizer):
    words = [f"w{i}" for i in range(1500)]
    chunks = chunk_text("", " ".join(words), tokenizer)
    joined = " ".join(chunks)
    assert all(w in joined for w in words)


def test_empty_text(tokenizer):
    assert chunk_text("Only title", "", tokenizer) == ["Only title"]
    assert chunk_text("", "  ", tokenizer) == []


# -- sections ------------------------------------------------------------------------------------------
def test_a_passage_is_placed_in_its_section_by_the_outline(tokenizer):
    from index.ingest.chunking import passage_section, section_at

    text = "\n\n".join(["Guide", "Intro words.", "Install", "Run pip.", "On Linux", "Use apt ==== then pip.",
                        "Usage", "Call it."])
    outline = [[1, "Guide"], [2, "Install"], [3, "On Linux"], [2, "Missing heading"], [2, "Usage"]]
    assert section_at("Guide", text, outline, text.index("Intro")) == []  # a heading equal to the title adds nothing
    assert section_at("Guide", text, outline, text.index("Use apt")) == ["Install", "On Linux"]
    assert section_at("Guide", text, outline, text.index("Call it")) == ["Usage"]
    chunks = chunk_text("Guide", text, tokenizer, max_tokens=6, overlap=0)
    where = {c.split("\n", 1)[1][:8]: passage_section("Guide", text, outline, c) for c in chunks}
    assert where.get("Use apt") == ["Install", "On Linux"] or any(v == ["Install", "On Linux"] for v in where.values())
    assert passage_section("Guide", text, None, chunks[0]) == []
    assert passage_section("Guide", text, [["x", None], "bad"], chunks[-1]) == []


def test_the_model_reads_the_words_inside_identifiers():
    from index.ingest.chunking import embedding_input
    assert embedding_input("Api\n.. autoclass:: implicit.als.AlternatingLeastSquares") == \
        "Api\n.. autoclass:: implicit.als.AlternatingLeastSquares\nalternating least squares"
    assert embedding_input("Plain words only.") == "Plain words only."


def test_a_page_made_of_a_class_name_is_found_by_meaning_in_words(tmp_path):
    """An API page that only names its class answers a question in words through the semantic retriever too."""
    from connectors.base import Document
    from support.indexes import searcher_over
    pages = [Document("api", "s", "T", "doc", "models/als", ".. autoclass:: implicit.cpu.als.AlternatingLeastSquares\n"
                      "   :members:\n   :show-inheritance:", path="api/models/als.rst")]
    pages += [Document(f"d{i}", "s", "T", "doc", t, x, path=f"docs/d{i}.md") for i, (t, x) in enumerate([
        ("Install", "pip install the package with conda or from source."),
        ("Evaluation", "Precision at k and ranking metrics for recommendations."),
        ("Nearest neighbours", "Approximate nearest neighbour search with annoy and faiss."),
        ("Datasets", "Movielens and lastfm datasets are downloaded on first use.")])]
    searcher = searcher_over(tmp_path, pages)
    try:
        vector = searcher.embedder.encode_query(["alternating least squares"])[0]
        ranked = [searcher.store.chunk_rows([c])[c]["doc_id"] for c, _ in searcher.vectors.search(vector, 5)]
        assert ranked[0] == "api"
    finally:
        searcher.store.close()
