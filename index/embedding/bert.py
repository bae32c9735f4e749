"""BERT's encoder in plain PyTorch, loaded straight from a model folder's safetensors.

The bf16 backend and the ONNX export use it for BERT models (all-MiniLM-L6-v2 is one): importing
transformers took 3.7 s of every crawl's start (torch itself 1.3 s), and this forward pass, with
one matrix product for query, key and value, ran 3% faster than transformers' BertModel traced in
bfloat16, its vectors as close to float32 (docs/benchmarks.md). Other architectures, and BERT
variants this does not reproduce, go through transformers: `load_bert` then returns None.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

WEIGHTS = "model.safetensors"


def load_bert(folder: Path, dtype: torch.dtype) -> "Bert | None":
    """The folder's BERT in `dtype`, or None when its config or weights are not plain BERT's."""
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return None
    plain = (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
             and config.get("position_embedding_type", "absolute") == "absolute")
    if not plain or not (folder / WEIGHTS).exists():
        return None
    from safetensors.torch import load_file

    weights = load_file(str(folder / WEIGHTS))
    prefix = "bert." if any(k.startswith("bert.") for k in weights) else ""
    weights = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    try:
        return Bert(config, weights, dtype).eval()
    except KeyError:  # a checkpoint laid out otherwise
        return None


class Bert(torch.nn.Module):
    """ids (and an optional 0/1 mask over them) -> the last hidden state, as BertModel computes it."""

    def __init__(self, config: dict[str, Any], weights: dict[str, torch.Tensor], dtype: torch.dtype):
        super().__init__()
        self.heads, self.width = int(config["num_attention_heads"]), int(config["hidden_size"])  # constants in a trace
        self.eps = float(config.get("layer_norm_eps", 1e-12))

        def w(name: str) -> torch.nn.Parameter:
            return torch.nn.Parameter(weights[name].to(dtype), requires_grad=False)

        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.token_type = torch.nn.Parameter(weights["embeddings.token_type_embeddings.weight"][0].to(dtype),
                                             requires_grad=False)  # one segment: type 0
        self.norm = torch.nn.ParameterList([w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias")])
        self.layers = torch.nn.ModuleList()
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv = [p + f"attention.self.{part}" for part in ("query", "key", "value")]
            layer = torch.nn.ParameterList([
                torch.nn.Parameter(torch.cat([weights[n + ".weight"] for n in qkv]).to(dtype), requires_grad=False),
                torch.nn.Parameter(torch.cat([weights[n + ".bias"] for n in qkv]).to(dtype), requires_grad=False),
                *(w(p + name) for name in (
                    "attention.output.dense.weight", "attention.output.dense.bias",
                    "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
                    "intermediate.dense.weight", "intermediate.dense.bias",
                    "output.dense.weight", "output.dense.bias",
                    "output.LayerNorm.weight", "output.LayerNorm.bias"))])
            self.layers.append(layer)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        batch, length = ids.shape[0], ids.shape[1]
        x = self.word[ids] + self.position[:length] + self.token_type
        width = self.width
        x = F.layer_norm(x, [width], self.norm[0], self.norm[1], self.eps)
        attend = None if mask is None else mask[:, None, None, :].bool()  # padded keys get no attention
        for (qkv_w, qkv_b, out_w, out_b, norm1_w, norm1_b, up_w, up_b, down_w, down_b,
             norm2_w, norm2_b) in self.layers:
            qkv = F.linear(x, qkv_w, qkv_b).view(batch, length, 3, self.heads, width // self.heads)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=attend).transpose(1, 2).reshape(batch, length, width)
            x = F.layer_norm(F.linear(a, out_w, out_b) + x, [width], norm1_w, norm1_b, self.eps)
            h = F.gelu(F.linear(x, up_w, up_b))
            x = F.layer_norm(F.linear(h, down_w, down_b) + x, [width], norm2_w, norm2_b, self.eps)
        return x
