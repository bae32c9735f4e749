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
