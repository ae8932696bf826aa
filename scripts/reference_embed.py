#!/usr/bin/env python3
"""A plain numpy implementation of all-MiniLM-L6-v2 (BERT, mean pooling,
L2-normalised), straight from the safetensors weights: the reference that
citebot's candle encoder is checked against (crates/core/tests/fixtures/embeddings.json).

usage: scripts/reference_embed.py MODEL_DIR < sentences.txt > embeddings.json
needs: pip install numpy safetensors tokenizers
"""
import json, math, sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer


def layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def encode(model_dir, text, max_len=256):
    cfg = json.load(open(f"{model_dir}/config.json"))
    w = load_file(f"{model_dir}/model.safetensors")
    p = "" if "embeddings.word_embeddings.weight" in w else "bert."
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(max_len)
    ids = np.array(tok.encode(text).ids)
    n = len(ids)
    h = (w[p + "embeddings.word_embeddings.weight"][ids]
         + w[p + "embeddings.position_embeddings.weight"][:n]
         + w[p + "embeddings.token_type_embeddings.weight"][0])
    h = layer_norm(h, w[p + "embeddings.LayerNorm.weight"], w[p + "embeddings.LayerNorm.bias"])
    heads = cfg["num_attention_heads"]
    d = cfg["hidden_size"] // heads
    for i in range(cfg["num_hidden_layers"]):
        a = f"{p}encoder.layer.{i}."
        lin = lambda x, name: x @ w[a + name + ".weight"].T + w[a + name + ".bias"]
        q = lin(h, "attention.self.query").reshape(n, heads, d).transpose(1, 0, 2)
        k = lin(h, "attention.self.key").reshape(n, heads, d).transpose(1, 0, 2)
        v = lin(h, "attention.self.value").reshape(n, heads, d).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, heads * d)
        h = layer_norm(lin(ctx, "attention.output.dense") + h,
                       w[a + "attention.output.LayerNorm.weight"], w[a + "attention.output.LayerNorm.bias"])
        f = gelu(lin(h, "intermediate.dense"))
        h = layer_norm(lin(f, "output.dense") + h, w[a + "output.LayerNorm.weight"], w[a + "output.LayerNorm.bias"])
    e = h.mean(0)
    return (e / np.linalg.norm(e)).tolist(), n


if __name__ == "__main__":
    out = []
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line:
            vec, n = encode(sys.argv[1], line)
            out.append({"text": line, "tokens": n, "embedding": [round(x, 6) for x in vec]})
    json.dump(out, sys.stdout, indent=0)
