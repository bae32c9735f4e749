"""What every encoder shares: the model folder's tokenizer, pooling and error, and the token budget.

Split from embedder.py so the backends (bf16.py) and the Embedder that chooses among them both
build on it without importing each other.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

TOKEN_BUDGET = 16384  # padded tokens per ONNX run: a batch of short texts holds more of them


class ModelError(Exception):
    pass


class Tokenizer:
    """The model's fast tokenizer (`tokenizers`), called like a transformers tokenizer where
    chunking needs it: `tok(text, add_special_tokens=False, return_offsets_mapping=True)`."""

    def __init__(self, path: Path):
        from tokenizers import Tokenizer as Raw

        self.raw = Raw.from_file(str(path))
        self.raw.no_truncation()
        self.raw.no_padding()

    def __call__(self, text: str, add_special_tokens: bool = True, return_offsets_mapping: bool = False,
                 **_: Any) -> dict[str, Any]:
        enc = self.raw.encode(text, add_special_tokens=add_special_tokens)
        out: dict[str, Any] = {"input_ids": enc.ids, "attention_mask": enc.attention_mask}
        if return_offsets_mapping:
            out["offset_mapping"] = enc.offsets
        return out


def truncating_tokenizer(folder: Path) -> tuple[Any, int]:
    """The folder's raw fast tokenizer, cutting texts at the model's max_seq_length, and that length."""
    config = json.loads((folder / "sentence_bert_config.json").read_text()) \
        if (folder / "sentence_bert_config.json").exists() else {}
    max_tokens = int(config.get("max_seq_length") or 256)
    raw = Tokenizer(folder / "tokenizer.json").raw
    raw.enable_truncation(max_length=max_tokens)
    return raw, max_tokens


def mean_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over each text's real tokens, then unit length: the model's Pooling and Normalize."""
    m = mask[:, :, None].astype("float32")
    pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype("float32")


def pooling_config(folder: Path) -> dict[str, Any]:
    """The model's pooling settings; only mean pooling is served here (MiniLM's)."""
    path = folder / "1_Pooling" / "config.json"
    config = json.loads(path.read_text()) if path.exists() else {}
    if config.get("pooling_mode", "mean") != "mean" and not config.get("pooling_mode_mean_tokens"):
        raise ModelError(f"the model in {folder} pools by {config.get('pooling_mode')!r}; the ONNX and bf16 "
                         'backends mean-pool only: set [guild] backend = "torch" for this model')
    return config
