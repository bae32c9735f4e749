"""index/embedding/bert.py against transformers' BertModel, on the packaged model's real weights."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from index.embedding.bert import load_bert
from index.embedding.embedder import model_location, truncating_tokenizer
from test_embeddings import project_texts

FOLDER = Path(model_location("all-MiniLM-L6-v2"))


@pytest.fixture(scope="module")
def reference():
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(FOLDER), local_files_only=True).eval()


def padded(texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    tokenizer, _ = truncating_tokenizer(FOLDER)
    encs = tokenizer.encode_batch(texts)
    width = max(len(e.ids) for e in encs)
    ids = torch.zeros((len(encs), width), dtype=torch.int64)
    mask = torch.zeros_like(ids)
    for row, e in enumerate(encs):
        ids[row, :len(e.ids)] = torch.tensor(e.ids)
        mask[row, :len(e.ids)] = 1
    return ids, mask


def test_the_hidden_states_are_bertmodels_with_and_without_padding(reference):
    bert = load_bert(FOLDER, torch.float32)
    ids, mask = padded(project_texts()[:8] + ["drift monitoring"])
    with torch.inference_mode():
        want = reference(input_ids=ids, attention_mask=mask).last_hidden_state
        got = bert(ids, mask)
        real = mask.bool()
        assert torch.allclose(got[real], want[real], atol=2e-5)  # padded positions are never pooled
        one = ids[:1, :int(mask[0].sum())]
        assert torch.allclose(bert(one), reference(input_ids=one).last_hidden_state, atol=2e-5)


def test_other_architectures_and_checkpoints_go_to_transformers(tmp_path):
    for change in ({"model_type": "roberta"}, {"hidden_act": "relu"}, {"position_embedding_type": "relative_key"}):
        folder = tmp_path / next(iter(change.values()))
        folder.mkdir()
        config = json.loads((FOLDER / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, **change}))
        shutil.copy(FOLDER / "model.safetensors", folder / "model.safetensors")
        assert load_bert(folder, torch.float32) is None
    assert load_bert(tmp_path / "missing", torch.float32) is None
