"""Chunks fit the model: about 200 word pieces, title first, small overlap."""
import pytest

from index.ingest.chunking import MAX_TOKENS, Section, chunk_text, section_of, sections
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
def section_text(paragraphs: int, topic: str) -> str:
    return " ".join(f"Paragraph {i} explains {topic} in some detail for the reader." for i in range(paragraphs))


def test_chunks_never_span_two_sections_and_carry_the_breadcrumb(tokenizer):
    text = "\n\n".join(["An introduction to the service.", "Install", section_text(30, "installing the package"),
                        "Configure", section_text(30, "the configuration file"),
                        "Timeouts", section_text(5, "timeouts")])
    outline = [[2, "Install"], [2, "Configure"], [3, "Timeouts"]]
    chunks = chunk_text("Guide", text, tokenizer, outline=outline)
    heads = [c.split("\n", 1)[0] for c in chunks]
    assert heads[0] == "Guide"  # the part before the first heading
    assert "Guide › Install" in heads and "Guide › Configure" in heads and "Guide › Configure › Timeouts" in heads
    for c in chunks:
        head, body = c.split("\n", 1)
        if head.endswith("Install"):
            assert "installing" in body and "configuration" not in body and "timeouts" not in body
        if head.endswith("Configure"):
            assert "configuration" in body and "installing" not in body and "Paragraph 0 explains timeouts" not in body
    assert all(count(tokenizer, c.split("\n", 1)[1]) <= MAX_TOKENS for c in chunks)
    assert section_of(chunks[-1]) == ["Configure", "Timeouts"] and section_of(chunks[0]) == []


def test_small_sibling_sections_share_a_chunk_under_their_parent(tokenizer):
    text = "\n\n".join(["Options", "alpha", "Sets the alpha.", "beta", "Sets the beta.", "gamma", "Sets the gamma.",
                        "Examples", "Run it."])
    outline = [[2, "Options"], [3, "alpha"], [3, "beta"], [3, "gamma"], [2, "Examples"]]
    chunks = chunk_text("Tool", text, tokenizer, outline=outline)
    assert chunks == ["Tool › Options\nalpha\nSets the alpha.\n\nbeta\nSets the beta.\n\ngamma\nSets the gamma.",
                      "Tool › Examples\nRun it."]


def test_headings_not_found_and_a_heading_equal_to_the_title_are_ignored(tokenizer):
    text = "Guide\n\nIntro words.\n\nUsage\n\nCall it."
    assert sections("Guide", text, [[1, "Guide"], [2, "Missing heading"], [2, "Usage"]]) == [
        Section([], "Intro words."), Section(["Usage"], "Call it.")]
    assert chunk_text("Guide", "Just words.", tokenizer, outline=[[2, "Nowhere"]]) == ["Guide\nJust words."]
    assert chunk_text("Guide", "Just words.", tokenizer, outline=[["x", None], "bad"]) == ["Guide\nJust words."]

