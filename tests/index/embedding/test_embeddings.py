"""Embedding backends: ONNX Runtime (fp32 and int8) against sentence-transformers on torch, the
export cache, and a question answered without importing torch."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from index.ingest.chunking import chunk_text
from index.embedding.embedder import (OPTIMIZED, Embedder, ModelError, OnnxEncoder, export_onnx, float_matmuls, model_identity,
                              onnx_file)

ROOT = Path(__file__).resolve().parents[3]
CACHE = Path(os.environ["GUILDBOT_MODEL_CACHE"])  # set by conftest: one export per test session


def project_texts() -> list[str]:
    """Real technical English of several lengths: the paragraphs of this project's own docs."""
    paras = []
    for doc in ("README.md", "docs/design.md"):
        paras += [p.strip() for p in (ROOT / doc).read_text().split("\n\n") if len(p.strip()) > 40]
    long = " ".join(paras)[:6000]  # past 256 word pieces: both backends must truncate alike
    return paras[:60] + [long, "who built a recommender?", "drift"]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return Embedder(backend="torch").encode(project_texts())


@pytest.mark.parametrize("backend, mean_floor, min_floor", [("onnx", 0.9999, 0.999), ("onnx-int8", 0.99, 0.98)])
def test_onnx_runtime_vectors_match_sentence_transformers(torch_vectors, backend, mean_floor, min_floor):
    vecs = Embedder(backend=backend, cache_dir=CACHE).encode(project_texts())
    assert vecs.shape == torch_vectors.shape and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    cos = (vecs * torch_vectors).sum(axis=1)
    assert cos.mean() >= mean_floor and cos.min() >= min_floor, (cos.mean(), cos.min())


@pytest.mark.parametrize("backend, floor", [("onnx", 0.99999), ("onnx-int8", 0.97)])
def test_the_order_and_batching_of_texts_barely_change_a_vector(backend, floor):
    """fp32 gives the same vector whatever the batch; dynamic int8 scales activations per batch,
    so a question encoded alone lands within quantisation noise of its batched twin."""
    embedder = Embedder(backend=backend, cache_dir=CACHE)
    texts = project_texts()[:20]
    together = embedder.encode(texts, batch_size=7)
    alone = np.vstack([embedder.encode([t]) for t in reversed(texts)])[::-1]
    assert (together * alone).sum(axis=1).min() >= floor


@pytest.mark.parametrize("backend", ["onnx", "bf16"])
def test_submitted_texts_get_the_vectors_encode_gives(backend):
    """A crawl submits texts and goes on chunking; the vectors are encode's, in the texts' order."""
    embedder = Embedder(backend=backend, cache_dir=CACHE)
    texts = project_texts()[:12]
    first, second = embedder.submit(texts), embedder.submit(texts[::-1])
    assert np.array_equal(first.result(), embedder.encode(texts))
    assert np.array_equal(second.result()[::-1], first.result()) and first.done() and second.done()


def test_torch_chunks_while_it_encodes_on_another_thread():
    """A fast tokenizer used by two threads at once raises "Already borrowed": chunking has its own."""
    embedder = Embedder(backend="torch")
    text = " ".join(project_texts())
    pending = embedder.submit(project_texts() * 3)
    chunked = 0
    while not pending.done() or not chunked:
        chunked += len(chunk_text("Title", text, embedder.tokenizer))
    assert pending.result().shape == (len(project_texts()) * 3, embedder.dim) and chunked


def test_the_vector_size_needs_no_model_and_the_question_model_loads_beside_a_crawl(tmp_path):
    """A crawl opens its vector index before any model is loaded; loading the documents' model
    starts the question model's export, which the crawl waits for at its end."""
    embedder = Embedder(backend="bf16", cache_dir=tmp_path)
    assert embedder.dim == 384 and not list(tmp_path.iterdir())  # nothing exported to learn it
    embedder.model
    embedder.wait_for_question_model()
    assert (tmp_path / "all-MiniLM-L6-v2-onnx" / "onnx" / "model.onnx").exists()
    assert embedder.encode_query(["drift monitoring"]).shape == (1, 384)


def test_chunks_are_the_same_whatever_the_backend():
    text = "\n\n".join(project_texts()[:40])
    onnx = chunk_text("Title", text, Embedder(cache_dir=CACHE).tokenizer)
    torch = chunk_text("Title", text, Embedder(backend="torch").tokenizer)
    assert len(onnx) > 3 and onnx == torch


def test_int8_keeps_attention_products_and_feed_forward_outputs_in_float():
    layer = "/encoder/layer.3"
    names = [f"{layer}/attention/self/query/MatMul", f"{layer}/attention/self/key/MatMul",
             f"{layer}/attention/self/value/MatMul", f"{layer}/attention/self/MatMul", f"{layer}/attention/self/MatMul_1",
             f"{layer}/attention/output/dense/MatMul", f"{layer}/intermediate/dense/MatMul", f"{layer}/output/dense/MatMul"]
    assert float_matmuls(names) == [f"{layer}/attention/self/MatMul", f"{layer}/attention/self/MatMul_1",
                                    f"{layer}/output/dense/MatMul"]
    assert float_matmuls(["/pooler/dense/MatMul"]) == []
    assert "keep-attn-ffnout" in model_identity("all-MiniLM-L6-v2", "onnx-int8")  # a scheme change re-embeds


def test_identity_names_the_backend_and_torch_keeps_the_bare_name():
    assert model_identity("all-MiniLM-L6-v2", "torch") == "all-MiniLM-L6-v2"
    assert model_identity("all-MiniLM-L6-v2", "onnx") == "all-MiniLM-L6-v2+onnx"
    assert model_identity("all-MiniLM-L6-v2", "onnx-int8").startswith("all-MiniLM-L6-v2+onnx-int8-")
    with pytest.raises(ModelError, match="unknown embedding backend"):
        Embedder(backend="tensorflow")


def test_a_model_that_is_not_a_local_folder_cannot_be_exported(tmp_path):
    with pytest.raises(ModelError, match="not a local folder"):
        export_onnx(str(tmp_path / "no-such-model"), "onnx", tmp_path / "cache")


def test_two_processes_exporting_at_once_leave_one_whole_export(tmp_path):
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        from pathlib import Path
        from index.embedding.embedder import Embedder
        e = Embedder(backend="onnx", cache_dir=Path({str(cache)!r}))
        print(e.encode(["hello there"])[0][:4].tolist())
    """)
    env = {**os.environ, "GUILDBOT_MODEL_CACHE": ""}
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    assert outs[0][0] == outs[1][0]
    assert [p.name for p in cache.iterdir()] == ["all-MiniLM-L6-v2-onnx"]  # no temporary folder left
    assert onnx_file(cache / "all-MiniLM-L6-v2-onnx") is not None
    assert (cache / "all-MiniLM-L6-v2-onnx" / OPTIMIZED).exists()  # the graph optimised once, at export
    plain = Embedder(backend="onnx", cache_dir=tmp_path / "plain")
    plain.__dict__["model"] = OnnxEncoder(cache / "all-MiniLM-L6-v2-onnx")
    (cache / "all-MiniLM-L6-v2-onnx" / OPTIMIZED).unlink()  # the same export, optimised at every load
    again = OnnxEncoder(cache / "all-MiniLM-L6-v2-onnx")
    texts = project_texts()[:8]
    assert np.allclose(plain.encode(texts), again.encode(texts), atol=1e-5)


def write_guild(root: Path, backend: str | None) -> Path:
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    for n, para in enumerate(project_texts()[:6]):
        (docs / f"page{n}.md").write_text(f"# Page {n}\n\n{para}\n")
    line = f'backend = "{backend}"\n' if backend else ""
    cfg = root / "guild.toml"
    cfg.write_text(f'[guild]\nname = "t"\ndata_dir = "{root / "data"}"\n{line}\n[[teams]]\nname = "T"\n\n'
                   f'[[sources]]\nkind = "files"\nname = "docs"\nteam = "T"\npath = "{docs}"\n')
    return cfg


def test_a_question_is_answered_without_importing_torch(tmp_path):
    from guildbot import Guild

    guild = Guild.from_config(write_guild(tmp_path, None))
    guild.crawl()
    guild.close()
    script = textwrap.dedent(f"""
        import sys
        from guildbot.cli.main import main
        code = main(["--config", {str(tmp_path / "guild.toml")!r}, "search", "design", "--json"])
        heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers", "bs4") if m in sys.modules)
        print("HEAVY", heavy, code)
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "HEAVY [] 0" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]
    assert '"url"' in out.stdout  # it did answer


def test_changing_the_backend_embeds_stored_text_again_once(tmp_path):
    from guildbot import Guild

    guild = Guild.from_config(write_guild(tmp_path, "torch"))
    first = guild.crawl()
    assert first.total("chunks_embedded") > 0 and first.refreshed == 0
    before = {r["id"]: r["vector"] for r in guild.store.query("SELECT id, vector FROM chunks")}
    guild.close()
    guild = Guild.from_config(write_guild(tmp_path, "onnx-int8"))
    changed = guild.crawl()
    assert changed.refreshed == 6 and changed.total("chunks_embedded") == 0
    after = {r["id"]: r["vector"] for r in guild.store.query("SELECT id, vector FROM chunks")}
    assert len(after) == len(before) and set(after.values()).isdisjoint(before.values())
    assert guild.store.get_meta("embedding_model") == guild.embedder.name
    assert guild.crawl().refreshed == 0
    assert guild.search("design")  # the rebuilt index answers
    guild.close()
