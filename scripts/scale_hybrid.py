#!/usr/bin/env python3
"""Hybrid retrieval against corpus size: issue 8's 100k rows and its plot.

    /work/venv-peer/bin/python scripts/scale_hybrid.py [--sizes 1k,10k,100k] [--rounds 3]

Embedding 100k generated passages with the real model takes hours on 2
cores, so the generated corpora get a *stand-in encoder*, as the issue
allows: a model folder in all-MiniLM-L6-v2's format with the real
tokenizer, random word, position and type embeddings (seeded), and no
transformer layers. citebot loads and runs it like any model, so the
vectors (one per sentence, 384 wide), their file, the dense search, the
fusion and the memory are the real ones; only the question's embedding is
nearly free. The real model's cost per question, which does not depend on
the corpus, is measured on Federalist (hybrid with the real model minus
hybrid with the stand-in) and added to the stand-in line to give the
"hybrid, real model" estimate.

The peer is `compare_hybrid.py`'s: bm25s over paragraphs, the real
all-MiniLM-L6-v2 int8 ONNX for the question, a numpy matrix product over
one vector per paragraph (random unit vectors here, as citebot's), RRF.

Per size it prints: per-question time (batch `ask --json`, (time of N
questions - time of none) / N, best of `--rounds`) lexical and hybrid, the
peer's, peak RSS of the hybrid batch, vectors on disk per passage, and
the stand-in's indexing time. Writes `docs/hybrid_scale.svg`.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_bm25s as cb  # noqa: E402
import compare_hybrid as ch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FEDERALIST = ch.SHARED / "corpora/federalist"


def standin_model(dest):
    """A 0-layer BERT in the Hub's layout: real tokenizer, random embeddings."""
    import numpy as np

    if (dest / "model.safetensors").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    config = json.loads((ch.MODEL / "config.json").read_text())
    config["num_hidden_layers"] = 0
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                 "sentence_bert_config.json", "modules.json"]:
        shutil.copy(ch.MODEL / name, dest / name)
    (dest / "1_Pooling").mkdir(exist_ok=True)
    shutil.copy(ch.MODEL / "1_Pooling/config.json", dest / "1_Pooling/config.json")
    rng = np.random.default_rng(8)
    hidden = config["hidden_size"]
    tensors = {
        "embeddings.word_embeddings.weight": rng.standard_normal((config["vocab_size"], hidden), dtype=np.float32),
        "embeddings.position_embeddings.weight": 0.1 * rng.standard_normal((config["max_position_embeddings"], hidden), dtype=np.float32),
        "embeddings.token_type_embeddings.weight": np.zeros((config.get("type_vocab_size", 2), hidden), dtype=np.float32),
        "embeddings.LayerNorm.weight": np.ones(hidden, dtype=np.float32),
        "embeddings.LayerNorm.bias": np.zeros(hidden, dtype=np.float32),
    }
    header, data, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        data.append(b)
        offset += len(b)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(dest / "model.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in data:
            f.write(b)
    return dest


def run(args, model, stdin=""):
    """citebot with `model`; (seconds, max RSS KiB, stdout, stderr)."""
    e = dict(os.environ, CITEBOT_MODEL=str(model))
    e.pop("RUST_LOG", None)
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", ch.citebot(), *args], input=stdin,
                       capture_output=True, text=True, env=e)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"citebot {' '.join(args)} failed: {p.stderr[-800:]}")
    return seconds, int(p.stderr.strip().splitlines()[-1]), p.stdout, p.stderr


def per_question(corpus, index, model, qs, rounds):
    """Best of `rounds` of (time for qs - time for none) / len(qs), and the peak RSS (KiB)."""
    args = ["ask", "--json", "--corpus", str(corpus), "--index", str(index)]
    best, rss = None, 0
    for _ in range(rounds):
        empty, _, _, _ = run(args, model, "")
        full, kib, out, _ = run(args, model, "\n".join(qs) + "\n")
        assert len(out.splitlines()) == len(qs), "one answer per question"
        t = (full - empty) / len(qs)
        best = t if best is None else min(best, t)
        rss = max(rss, kib)
    return best, rss


def paragraphs(corpus):
    out = []
    for path in sorted(Path(corpus).rglob("*")):
        if path.suffix in (".md", ".txt") and path.is_file():
            text = path.read_text()
            if text.startswith("+++") or text.startswith("---"):
                end = text.find("\n" + text[:3], 3)
                text = text[end + 4:] if end > 0 else text
            out += [p.strip() for p in re.split(r"\n\s*\n", text) if len(p.split()) > 3]
    return out


def peer_per_question(corpus, qs, rounds):
    import numpy as np

    peer = ch.Peer(paragraphs(corpus))
    rng = np.random.default_rng(9)
    m = rng.standard_normal((len(peer.paras), 384), dtype=np.float32)
    peer.matrix = m / np.linalg.norm(m, axis=1, keepdims=True)
    best = None
    for _ in range(rounds):
        start = time.perf_counter()
        for q in qs:
            peer.ask(q)
        t = (time.perf_counter() - start) / len(qs)
        best = t if best is None else min(best, t)
    return best, len(peer.paras)


def svg(rows, path):
    """Per-question time (log) against passages (log), one line per series."""
    series = [("lexical", "lexical", "#1f77b4"), ("hybrid_search", "hybrid, stand-in encoder (search path)", "#2ca02c"),
              ("hybrid_real", "hybrid, real model (estimate)", "#d62728"), ("peer", "peer: bm25s + onnxruntime + numpy + RRF", "#7f7f7f")]
    import math

    W, H, L, B, T, R = 640, 400, 70, 50, 20, 20
    xs = [r["passages"] for r in rows]
    ys = [r[k] for r in rows for k, _, _ in series]
    x0, x1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    px = lambda x: L + (math.log10(x) - x0) / (x1 - x0) * (W - L - R)  # noqa: E731
    py = lambda y: H - B - (math.log10(y) - y0) / (y1 - y0) * (H - B - T)  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    for e in range(y0, y1 + 1):
        y = py(10 ** e)
        label = f"{10 ** e * 1e3:g} ms"
        out += [f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>',
                f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>']
    for x in xs:
        out += [f'<text x="{px(x):.1f}" y="{H - B + 18}" text-anchor="middle">{x:,}</text>']
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 10}" text-anchor="middle">passages</text>')
    for i, (key, name, colour) in enumerate(series):
        points = " ".join(f"{px(r['passages']):.1f},{py(r[key]):.1f}" for r in rows)
        out += [f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>',
                f'<text x="{L + 10}" y="{T + 14 + 16 * i}" fill="{colour}">{name}</text>']
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1k,10k,100k")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--svg", type=Path, default=ROOT / "docs" / "hybrid_scale.svg")
    a = parser.parse_args()
    cb.build_examples()
    bench = cb.target_dir() / "citebot-bench"
    bench.mkdir(parents=True, exist_ok=True)
    standin = standin_model(bench / "standin-model")

    # The real model's cost per question, constant in corpus size.
    fed_qs = ch.questions()
    fed_index = bench / "index-hybrid-federalist"
    run(["index", "--corpus", str(FEDERALIST), "--index", str(fed_index)], ch.MODEL)
    real, _ = per_question(FEDERALIST, fed_index, ch.MODEL, fed_qs, a.rounds)
    fed_standin = bench / "index-standin-federalist"
    run(["index", "--corpus", str(FEDERALIST), "--index", str(fed_standin)], standin)
    stand, _ = per_question(FEDERALIST, fed_standin, standin, fed_qs, a.rounds)
    embed_cost = max(real - stand, 0.0)
    print(f"Federalist: hybrid {real * 1e3:.2f} ms per question with the real model, "
          f"{stand * 1e3:.2f} ms with the stand-in: the model's question costs {embed_cost * 1e3:.2f} ms")

    rows = []
    for size in a.sizes.split(","):
        corpus = cb.generated(size, bench)
        qs = [json.loads(l)["q"] for l in open(corpus / ".queries.jsonl") if l.strip()][:200]
        index = bench / f"index-standin-{size}"
        shutil.rmtree(index, ignore_errors=True)
        seconds, build_kib, _, err = run(["index", "--corpus", str(corpus), "--index", str(index)], standin)
        passages = int(re.search(r"(\d+) passages", err).group(1)) if re.search(r"(\d+) passages", err) else cb.count(size)
        vector_bytes = sum((index / f).stat().st_size for f in ["vectors.bin", "vectors.json"])
        lexical, _ = per_question(corpus, index, "off", qs, a.rounds)
        hybrid, rss = per_question(corpus, index, standin, qs, a.rounds)
        peer, peer_paras = peer_per_question(corpus, qs, a.rounds)
        row = dict(size=size, passages=cb.count(size), citebot_passages=passages, peer_paragraphs=peer_paras,
                   index_seconds=seconds, index_rss_mib=build_kib / 1024, lexical=lexical, hybrid_search=hybrid,
                   hybrid_real=hybrid + embed_cost, peer=peer, hybrid_rss_mib=rss / 1024,
                   vector_bytes_per_passage=vector_bytes / max(passages, 1))
        rows.append(row)
        print(json.dumps(row))

    print()
    print("| passages | lexical | hybrid, stand-in (search path) | hybrid, real model (estimate) | peer | hybrid / peer | "
          "peak RSS, hybrid batch | vectors on disk per passage | indexing with the stand-in |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['passages']:,} | {r['lexical'] * 1e3:.2f} ms | {r['hybrid_search'] * 1e3:.2f} ms | "
              f"{r['hybrid_real'] * 1e3:.2f} ms | {r['peer'] * 1e3:.2f} ms | {r['hybrid_real'] / r['peer']:.2f}× | "
              f"{r['hybrid_rss_mib']:.0f} MiB | {r['vector_bytes_per_passage']:.0f} B | {r['index_seconds']:.1f} s |")
    a.svg.parent.mkdir(parents=True, exist_ok=True)
    svg(rows, a.svg)
    (cb.target_dir() / "citebot-bench" / "hybrid_scale.json").write_text(
        json.dumps(dict(embed_cost=embed_cost, rows=rows), indent=2))
    print(f"\nwrote {a.svg}")


if __name__ == "__main__":
    main()
