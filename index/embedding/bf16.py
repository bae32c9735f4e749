"""Document embedding in bfloat16 on PyTorch, for CPUs that multiply bfloat16 natively.

On the 2-core AMD EPYC (AVX512-BF16) the model's matrix products run 2.2x faster in bfloat16 than
in float32, and the vectors stay within 1e-4 cosine of float32 (worst crawl chunk 0.9999), where
int8 lost 0.003 on average and 0.02 on the evaluation's documents recall (docs/benchmarks.md).
Pooling and normalisation stay in float32.

A text is batched only with texts of exactly its token length, so nothing is padded and every
row of a batch is computed as if alone: a text's vector is the same bits whatever it was embedded
with (measured, and tested), so a re-crawl, a recovery after a crash and a first crawl agree.

Parallel by batches, not inside them: one single-threaded worker per core, each running whole
batches. PyTorch's own two threads per operation stalled whenever another process or the crawl's
reader thread took a core (a 2-thread run of 200 chunks went from 5 s to 25-30 s under load 3).
The model is traced to TorchScript, whose forward pass runs without the GIL: run eagerly, every
operation waits for the GIL, and a reader thread parsing HTML made embedding 4.7x slower
(7.5 s -> 35.7 s; traced, 7.5 s -> 10.1 s).
"""
from __future__ import annotations

import logging
import os
import warnings
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np

from index.embedding.model import TOKEN_BUDGET, ModelError, Tokenizer, mean_normalise, pooling_config, truncating_tokenizer

WORKERS = max(1, min(os.cpu_count() or 1, 8))  # one single-threaded worker per core
BATCH_TOKENS = 4096  # tokens per batch
log = logging.getLogger(__name__)


class Bf16Encoder:
    """The transformer of a local sentence-transformers folder in bfloat16, mean-pooled.

    Loading it sets PyTorch to one thread per operation for the whole process (see above)."""

    def __init__(self, folder: Path, workers: int = WORKERS):
        if not (folder / "tokenizer.json").exists():
            raise ModelError(f"the model in {folder} has no tokenizer.json (a fast tokenizer); "
                             'set [guild] backend = "torch" for this model')
        pooling = pooling_config(folder)
        self.folder, self.workers = folder, workers
        self.encoder, self.max_tokens = truncating_tokenizer(folder)
        import torch

        torch.set_num_threads(1)  # before any inference: a forked child then inherits no thread pool
        self.torch = torch
        model = hidden_states(torch, folder)
        dim = pooling.get("word_embedding_dimension")
        if not dim:  # one short text, tokenized by the model's own vocabulary
            dim = model(torch.tensor([self.encoder.encode("size").ids])).shape[-1]
        self.dim = int(dim)
        self.forward = traced_forward(torch, model, self.encoder)
        self._pool: tuple[int, ThreadPoolExecutor] | None = None

    @cached_property
    def tokenizer(self) -> Tokenizer:
        """The untruncated tokenizer chunking measures text with (loaded once: 17 ms a load)."""
        return Tokenizer(self.folder / "tokenizer.json")

    def encode(self, texts: list[str], batch_size: int = 0) -> np.ndarray:
        """`batch_size` is ignored: batches hold up to BATCH_TOKENS tokens of one length."""
        return self.submit(texts).result()

    def submit(self, texts: list[str]) -> "Batches":
        """Queue `texts` to the workers and return at once: a crawl submits the next texts before
        these are done, so no worker waits at the end of a call for the other one's last batch."""
        encs = self.encoder.encode_batch(texts)
        by_length: dict[int, list[int]] = defaultdict(list)
        for i, e in enumerate(encs):
            by_length[len(e.ids)].append(i)
        batches = []
        for length, rows in sorted(by_length.items(), reverse=True):  # longest first: workers finish together
            step = max(1, BATCH_TOKENS // max(length, 1))
            batches += [rows[start:start + step] for start in range(0, len(rows), step)]
        pool = self._executor()
        futures = [(rows, pool.submit(self._run, np.asarray([encs[i].ids for i in rows], dtype="int64")))
                   for rows in batches]
        return Batches(len(texts), self.dim, futures)

    def _executor(self) -> ThreadPoolExecutor:
        """The worker threads of this process (a forked child starts its own: threads don't fork)."""
        if self._pool is None or self._pool[0] != os.getpid():
            self._pool = (os.getpid(), ThreadPoolExecutor(self.workers, thread_name_prefix="bf16-embed"))
        return self._pool[1]

    def _run(self, ids: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            hidden = self.forward(self.torch.from_numpy(ids)).float().numpy()
        return mean_normalise(hidden, np.ones(ids.shape, dtype="float32"))


def hidden_states(torch: Any, folder: Path) -> Any:
    """The folder's transformer in bfloat16 as a module ids -> last hidden state: index/embedding/bert.py's
    for a plain BERT (no transformers import), else transformers' own model."""
    from index.embedding.bert import load_bert

    bert = load_bert(folder, torch.bfloat16)
    if bert is not None:
        return bert
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    model = AutoModel.from_pretrained(str(folder), dtype=torch.bfloat16, local_files_only=True).eval()

    class LastHidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, ids):
            return self.model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state

    return LastHidden().eval()


def traced_forward(torch: Any, model: Any, tokenizer: Any) -> Callable[[Any], Any]:
    """ids -> last hidden state, through the model traced to TorchScript when the trace gives the
    eager model's very bits on two shapes (else eagerly, with a warning: slower beside a reader)."""
    samples = [torch.tensor([e.ids], dtype=torch.int64) for e in
               tokenizer.encode_batch(["drift monitoring", "who has built a recommender for the home feed?"])]
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = torch.jit.trace(model, (samples[0],), strict=False, check_trace=False)
            if all(torch.equal(graph(s), model(s)) for s in [*samples, samples[1].repeat(3, 1)]):
                return graph
    except Exception as e:  # noqa: BLE001 - a model TorchScript cannot trace still runs eagerly
        log.debug("tracing the bf16 model failed: %s", e)
    log.warning("the bf16 model could not be traced to TorchScript; it runs eagerly (slower beside a crawl's reader)")
    return model


class Batches:
    """The vectors of one `submit`, in the order of its texts, once every batch is done."""

    def __init__(self, n: int, dim: int, futures: list[tuple[list[int], Future]]):
        self.n, self.dim, self.futures = n, dim, futures
        self._out: np.ndarray | None = None

    def done(self) -> bool:
        return all(f.done() for _, f in self.futures)

    def result(self) -> np.ndarray:
        if self._out is None:
            out = np.zeros((self.n, self.dim), dtype="float32")
            for rows, future in self.futures:
                out[rows] = future.result()
            self._out = out
        return self._out
