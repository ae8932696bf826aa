#!/usr/bin/env python3
"""citebot's hybrid retrieval against the peer a Python user would assemble:
bm25s over paragraphs, all-MiniLM-L6-v2 run by onnxruntime (the int8 ONNX
export, as fastembed does), one numpy matrix product, and reciprocal rank
fusion. Same corpus, same questions, same run, 2 cores.

    python3 -m venv /work/venv-peer        # a venv of its own: scipy beside bm25s slows it 2x
    /work/venv-peer/bin/pip install bm25s PyStemmer onnxruntime tokenizers numpy
    cargo build --release
    /work/venv-peer/bin/python scripts/compare_hybrid.py [--corpus ../shared/corpora/federalist] [--rounds 3]
        [--before OLD_CITEBOT] [--no-embedding]

Prints, best of `--rounds` on each side:
- corpus embedding throughput (tokens/s): `citebot index` into an empty
  index folder (its report line) against onnxruntime over the same
  corpus's sentences, batches of 32, padded per batch;
- per-question time, hybrid: batch `citebot ask --json` over the dev and own
  Federalist questions, four times over, minus the time of the same process
  with no questions (start-up), divided by the questions; against the
  peer's embed + bm25s top 20 + dense top 20 + RRF per question;
- cold `citebot ask` with an up-to-date index (process start to exit,
  model load included), median of 5;
- peak RSS of the batch run.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
MODEL = SHARED / "models/all-MiniLM-L6-v2"
ONNX = SHARED / "models/all-MiniLM-L6-v2-int8-onnx"


def citebot():
    return str(Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release/citebot")


def env():
    e = dict(os.environ, CITEBOT_MODEL=str(MODEL))
    e.pop("RUST_LOG", None)
    return e


def questions():
    qs = []
    for f in [SHARED / "eval/federalist-dev.jsonl", ROOT / "eval/federalist-own.jsonl"]:
        qs += [json.loads(l)["q"] for l in open(f) if l.strip()]
    return qs * 4


def paragraphs(corpus):
    """The corpus's paragraphs, as a Python user would split them: front matter off, blank lines."""
    out = []
    for path in sorted(Path(corpus).iterdir()):
        if path.suffix not in (".md", ".txt"):
            continue
        text = path.read_text()
        if text.startswith("+++") or text.startswith("---"):
            fence = text[:3]
            end = text.find("\n" + fence, 3)
            text = text[end + 4:] if end > 0 else text
        out += [p.strip() for p in re.split(r"\n\s*\n", text) if len(p.split()) > 3]
    return out


def sentences(paras):
    return [s for p in paras for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", p) if s.strip()]


def run_citebot(binary, args, stdin=""):
    """Runs citebot; returns (seconds, max RSS in KB, stdout, stderr)."""
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", binary, *args], input=stdin,
                       capture_output=True, text=True, env=env())
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"citebot {' '.join(args)} failed: {p.stderr[-800:]}")
    rss = int(p.stderr.strip().splitlines()[-1])
    return seconds, rss, p.stdout, p.stderr


class Peer:
    def __init__(self, paras):
        import bm25s
        import numpy as np
        import onnxruntime as ort
        import Stemmer
        from tokenizers import Tokenizer

        self.np = np
        self.bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("english")
        self.paras = paras
        self.retriever = bm25s.BM25(k1=0.9, b=0.4)
        self.retriever.index(bm25s.tokenize(paras, stopwords="en", stemmer=self.stemmer, show_progress=False),
                             show_progress=False)
        self.tok = Tokenizer.from_file(str(ONNX / "tokenizer.json"))
        self.tok.enable_truncation(256)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        self.session = ort.InferenceSession(str(ONNX / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self.matrix = None

    def encode(self, texts, batch=32):
        np = self.np
        out, tokens = [], 0
        for i in range(0, len(texts), batch):
            self.tok.enable_padding()
            enc = self.tok.encode_batch(texts[i:i + batch])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            tokens += int(mask.sum())
            h = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            v = (h * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out.append(v / np.linalg.norm(v, axis=1, keepdims=True))
        return np.concatenate(out), tokens

    def ask(self, q, k=20, top=3):
        np = self.np
        ids = self.bm25s.tokenize([q], stopwords="en", stemmer=self.stemmer, show_progress=False)
        docs, _scores = self.retriever.retrieve(ids, k=k, show_progress=False, n_threads=1)
        v, _ = self.encode([q], batch=1)
        dense = self.matrix @ v[0]
        order = np.argpartition(-dense, k)[:k]
        order = order[np.argsort(-dense[order])]
        fused = {}
        for rank, d in enumerate(docs[0]):
            fused[int(d)] = fused.get(int(d), 0) + 1 / (60 + rank + 1)
        for rank, d in enumerate(order):
            fused[int(d)] = fused.get(int(d), 0) + 1 / (60 + rank + 1)
        return sorted(fused, key=lambda d: -fused[d])[:top]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(SHARED / "corpora/federalist"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--binary", default=citebot(), help="the citebot to measure (default: target/release)")
    ap.add_argument("--before", help="another citebot binary, timed per question in the same rounds")
    ap.add_argument("--no-embedding", action="store_true", help="skip the corpus-embedding row (10 minutes)")
    a = ap.parse_args()
    qs = questions()
    paras = paragraphs(a.corpus)
    sents = sentences(paras)
    peer = Peer(paras)

    rows = []
    # Corpus embedding.
    best_c = best_p = 0.0
    for _ in range(0 if a.no_embedding else a.rounds):
        with tempfile.TemporaryDirectory() as index:
            _, _, out, _ = run_citebot(a.binary, ["index", "--corpus", a.corpus, "--index", index])
            m = re.search(r"embedded (\d+) tokens in ([\d.]+) s", out)
            best_c = max(best_c, int(m.group(1)) / float(m.group(2)))
        start = time.perf_counter()
        _, tokens = peer.encode(sents)
        best_p = max(best_p, tokens / (time.perf_counter() - start))
    if not a.no_embedding:
        rows.append(("embedding the corpus, tokens/s (higher is better)", best_c, best_p))
    peer.matrix, _ = peer.encode(paras)

    with tempfile.TemporaryDirectory() as index:
        run_citebot(a.binary, ["index", "--corpus", a.corpus, "--index", index])
        base = ["ask", "--json", "--corpus", a.corpus, "--index", index]
        per_c, per_b, per_p, rss = [], [], [], 0
        for _ in range(a.rounds):
            for binary, times in [(a.before, per_b), (a.binary, per_c)]:
                if binary is None:
                    continue
                empty, _, _, _ = run_citebot(binary, base, "")
                full, r, out, _ = run_citebot(binary, base, "\n".join(qs) + "\n")
                assert all(json.loads(l)["retrieval"] == "hybrid" for l in out.splitlines())
                if binary == a.binary:
                    rss = max(rss, r)
                times.append((full - empty) / len(qs))
            start = time.perf_counter()
            for q in qs:
                peer.ask(q)
            per_p.append((time.perf_counter() - start) / len(qs))
        rows.append(("per question, hybrid, batch ask --json (ms)", min(per_c) * 1e3, min(per_p) * 1e3))
        if a.before:
            rows.append(("  the --before binary, same rounds (ms)", min(per_b) * 1e3, min(per_p) * 1e3))
        cold = sorted(run_citebot(a.binary, ["ask", "--corpus", a.corpus, "--index", index, qs[0]])[0] for _ in range(5))
        rows.append(("cold ask, index up to date, model load included (ms)", statistics.median(cold) * 1e3, None))
        rows.append(("peak RSS of the batch run (MB)", rss / 1024, None))
        vec = Path(index) / "vectors.bin"
        rows.append(("vectors on disk (bytes)", vec.stat().st_size, None))

    print(f"{'':58} {'citebot':>12} {'peer':>12} {'ratio':>8}")
    for name, c, p in rows:
        if p is None:
            print(f"{name:58} {c:12.2f}")
        else:
            print(f"{name:58} {c:12.2f} {p:12.2f} {c / p:7.2f}x")


if __name__ == "__main__":
    main()
