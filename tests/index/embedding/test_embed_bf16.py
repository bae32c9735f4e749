"""index/embedding/bf16.py: documents in bfloat16 on PyTorch, questions through ONNX float32."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.embedding import embedder as embeddings
from index.embedding.bf16 import Bf16Encoder
from index.embedding.embedder import Embedder, ModelError, OnnxEncoder, model_location
from test_embeddings import project_texts

CACHE = Path(os.environ["GUILDBOT_MODEL_CACHE"])  # set by conftest: one export per test session


@pytest.fixture(scope="module")
def encoder() -> Bf16Encoder:
    return Bf16Encoder(Path(model_location("all-MiniLM-L6-v2")))


def test_bfloat16_vectors_stay_within_a_ten_thousandth_of_float32(encoder):
    texts = project_texts()
    reference = Embedder(backend="torch").encode(texts)
    vecs = encoder.encode(texts)
    assert vecs.dtype == np.float32 and vecs.shape == reference.shape
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)  # normalised in float32, not bfloat16
    cos = (vecs * reference).sum(axis=1)
    assert cos.mean() >= 0.9999 and cos.min() >= 0.999, (cos.mean(), cos.min())


def test_a_text_gets_the_same_bits_alone_or_in_any_batch(encoder):
    """Padding would change a bfloat16 vector (0.001 apart): a recovered crawl must equal an
    uninterrupted one, so texts are batched only with texts of their own length."""
    texts = project_texts()[:30] + ["drift detection", "drift monitoring"]  # two texts of one length
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    shuffled = encoder.encode(texts[::-1])[::-1]
    assert np.array_equal(together, alone) and np.array_equal(together, shuffled)


def test_batches_hold_one_length_and_stay_within_the_token_budget(encoder, monkeypatch):
    shapes: list[tuple[int, int]] = []
    real = encoder._run
    monkeypatch.setattr(encoder, "_run", lambda ids: (shapes.append(ids.shape), real(ids))[1])
    monkeypatch.setattr("index.embedding.bf16.BATCH_TOKENS", 20)
    texts = ["the same words here"] * 5 + ["a longer text than the others, with more words in it"] * 2
    vecs = encoder.encode(texts)  # 6 and 14 word pieces with [CLS] and [SEP]
    assert sorted(shapes) == [(1, 14), (1, 14), (2, 6), (3, 6)]  # 20 // 6 = 3 rows a run, 20 // 14 = 1
    assert np.array_equal(vecs[0], vecs[4]) and np.array_equal(vecs[5], vecs[6])


def test_questions_go_through_onnx_and_documents_through_bfloat16():
    embedder = Embedder(backend="bf16", cache_dir=CACHE)
    assert isinstance(embedder.query_model, OnnxEncoder)
    assert isinstance(embedder.model, Bf16Encoder) == embeddings.native_bf16()
    texts = project_texts()[:10]
    cos = (embedder.encode(texts) * embedder.encode_query(texts)).sum(axis=1)
    assert cos.min() >= 0.999  # one vector space: stored chunks and questions compare as before
    assert embedder.name == "all-MiniLM-L6-v2+bf16" and embedder.dim == 384 and embedder.max_tokens == 256


def test_without_native_bfloat16_documents_go_through_onnx_float32(monkeypatch):
    monkeypatch.setattr(embeddings, "native_bf16", lambda: False)
    embedder = Embedder(backend="bf16", cache_dir=CACHE)
    assert embedder.model is embedder.query_model and isinstance(embedder.model, OnnxEncoder)


def test_a_model_without_a_fast_tokenizer_is_refused_with_the_fix(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(model_location("all-MiniLM-L6-v2"), folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match='backend = "torch"'):
        Bf16Encoder(folder)


def test_the_traced_model_gives_the_eager_models_bits_on_shapes_it_was_not_traced_on(encoder):
    import torch

    from index.embedding.bert import load_bert

    eager = load_bert(encoder.folder, torch.bfloat16)
    for text, rows in (("a short one", 1), (" ".join(project_texts()[:5]), 4)):  # the second is cut at 256
        ids = torch.tensor([encoder.encoder.encode(text).ids] * rows, dtype=torch.int64)
        with torch.inference_mode():
            assert torch.equal(encoder.forward(ids), eager(ids))


def test_a_model_index_bert_does_not_reproduce_runs_through_transformers(encoder, tmp_path):
    """gelu_new (tanh GELU) is not plain BERT: transformers' model runs it, traced the same way."""
    import json

    for path in encoder.folder.rglob("*"):
        if path.is_file():
            (tmp_path / path.relative_to(encoder.folder)).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path.relative_to(encoder.folder)).symlink_to(path)
    config = json.loads((encoder.folder / "config.json").read_text())
    (tmp_path / "config.json").unlink()
    (tmp_path / "config.json").write_text(json.dumps({**config, "hidden_act": "gelu_new"}))
    other = Bf16Encoder(tmp_path, workers=1)
    assert type(other.forward).__name__ in ("TopLevelTracedModule", "RecursiveScriptModule")
    texts = project_texts()[:6]
    assert (other.encode(texts) * encoder.encode(texts)).sum(axis=1).min() > 0.999


def test_several_workers_give_the_bits_of_one(encoder):
    texts = project_texts()
    one = Bf16Encoder(encoder.folder, workers=1).encode(texts)
    assert encoder.workers >= 1 and np.array_equal(Bf16Encoder(encoder.folder, workers=3).encode(texts), one)
