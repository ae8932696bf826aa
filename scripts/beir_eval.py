#!/usr/bin/env python3
"""citebot on a public IR benchmark in the BEIR format, beside plain bm25s.

    python3 -m venv /work/venv-bm25s && /work/venv-bm25s/bin/pip install bm25s PyStemmer numpy
    cargo build --release
    /work/venv-bm25s/bin/python scripts/beir_eval.py ../shared/beir/scifact [--split train]

A BEIR folder holds `corpus.jsonl` ({"_id", "title", "text"}), `queries.jsonl`
({"_id", "text"}) and `qrels/<split>.tsv` (query-id, corpus-id, score). The
script writes each document as one essay (`d<_id>.md`, the title in its front
matter, the text as its body) into a work folder outside the repository (the
data's licence may forbid copying it in: SciFact's is CC BY-NC), then asks
every query of the split through one batch `citebot ask --json --top 10`,
with the model off and on (`--model`), and scores as the BEIR tables do:
for each query the ranked list of distinct documents (first 10), nDCG@10 with
the qrels' scores as gains, recall@10, averaged over the queries that have
qrels. An abstention is an empty list and scores 0.

bm25s runs on the same documents (title + text, English Snowball stemmer and
stop words, its default BM25 "lucene" variant) in the same run, when it is
installed; `--no-bm25s` skips it.

`--dump FILE` writes every query's ranked ids per mode as JSON, for
significance tests or fitting elsewhere.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def toml_string(s):
    """A TOML basic string (JSON's escapes, minus the ones TOML lacks)."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t":
            out.append(" ")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(" ")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def essay_id(doc_id):
    """The essay id citebot derives from `d<_id>.md` (lowercase slug)."""
    return "d" + "".join(c if c.isalnum() else "-" for c in doc_id.lower())


def write_corpus(docs, folder):
    """One essay per document; skipped when the folder is already complete."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / ".complete"
    if stamp.exists() and stamp.read_text() == str(len(docs)):
        return
    for doc in docs:
        title = (doc.get("title") or "").strip() or doc["_id"]
        body = " ".join((doc.get("text") or "").split())
        if not body:
            body = title
        (folder / f"d{doc['_id']}.md").write_text(
            f"+++\ntitle = {toml_string(title)}\n+++\n\n{body}\n", encoding="utf-8"
        )
    stamp.write_text(str(len(docs)))


def ndcg_at_10(ranked, gains):
    dcg = sum(gains.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(gains.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_10(ranked, gains):
    relevant = {d for d, g in gains.items() if g > 0}
    return len(relevant & set(ranked[:10])) / len(relevant) if relevant else 0.0


def score(runs, qrels):
    n = len(qrels)
    ndcg = sum(ndcg_at_10(runs.get(q, []), g) for q, g in qrels.items()) / n
    recall = sum(recall_at_10(runs.get(q, []), g) for q, g in qrels.items()) / n
    abstained = sum(1 for q in qrels if not runs.get(q))
    return ndcg, recall, abstained


def run_citebot(binary, corpus, index, model, queries):
    env = dict(os.environ, CITEBOT_MODEL=model)
    started = time.perf_counter()
    r = subprocess.run(
        [binary, "ask", "--json", "--top", "10", "--corpus", str(corpus), "--index", str(index)],
        input="\n".join(" ".join(q["text"].split()) for q in queries) + "\n",
        capture_output=True, text=True, env=env,
    )
    elapsed = time.perf_counter() - started
    lines = [l for l in r.stdout.split("\n") if l.strip()]
    if r.returncode != 0 or len(lines) != len(queries):
        sys.exit(f"citebot: expected {len(queries)} lines and exit 0, got {len(lines)}, rc={r.returncode}\n{r.stderr[-800:]}")
    runs, retrieval = {}, set()
    for q, line in zip(queries, lines):
        out = json.loads(line)
        retrieval.add(out["retrieval"])
        ranked = []
        for hit in out["hits"]:
            if hit["essay_id"] not in ranked:
                ranked.append(hit["essay_id"])
        runs[q["_id"]] = ranked
    return runs, retrieval, elapsed


def run_bm25s(docs, queries):
    try:
        import bm25s
        import Stemmer
    except ImportError:
        return None
    stemmer = Stemmer.Stemmer("english")
    texts = [((d.get("title") or "") + " " + (d.get("text") or "")) for d in docs]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    tokens = bm25s.tokenize([q["text"] for q in queries], stopwords="en", stemmer=stemmer, show_progress=False)
    results, _ = retriever.retrieve(tokens, k=10, show_progress=False)
    return {q["_id"]: [essay_id(docs[i]["_id"]) for i in row] for q, row in zip(queries, results)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a BEIR folder: corpus.jsonl, queries.jsonl, qrels/")
    parser.add_argument("--split", default="train", help="the qrels file: qrels/<split>.tsv")
    parser.add_argument("--work", type=Path, default=Path("/tmp/citebot-beir"), help="where the essays and index go")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="model folder or repo id for the hybrid run")
    parser.add_argument("--modes", default="off,model", help="comma-separated: off, model")
    parser.add_argument("--no-bm25s", action="store_true")
    parser.add_argument("--dump", type=Path, help="write the ranked ids of every mode as JSON")
    args = parser.parse_args()

    binary = os.environ.get("CITEBOT", str(ROOT / "target" / "release" / "citebot"))
    docs = read_jsonl(args.folder / "corpus.jsonl")
    qrels = {}
    with open(args.folder / "qrels" / f"{args.split}.tsv", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0] == "query-id":
                continue
            qrels.setdefault(parts[0], {})[essay_id(parts[1])] = int(parts[2])
    queries = [q for q in read_jsonl(args.folder / "queries.jsonl") if q["_id"] in qrels]
    name = args.folder.resolve().name
    corpus = args.work / name / "essays"
    write_corpus(docs, corpus)
    print(f"{name} {args.split}: {len(docs)} documents, {len(queries)} queries with qrels")

    dump = {}
    rows = []
    if not args.no_bm25s:
        started = time.perf_counter()
        runs = run_bm25s(docs, queries)
        if runs is None:
            print("bm25s is not installed: skipped (see the usage above)")
        else:
            dump["bm25s"] = runs
            rows.append(("bm25s (title + text)", *score(runs, qrels), time.perf_counter() - started))
    for mode in args.modes.split(","):
        model = "off" if mode == "off" else args.model
        index = args.work / name / f"index-{mode}"
        runs, retrieval, elapsed = run_citebot(binary, corpus, index, model, queries)
        dump[f"citebot-{mode}"] = runs
        label = f"citebot, model {'off' if mode == 'off' else 'on'} ({'/'.join(sorted(retrieval))})"
        rows.append((label, *score(runs, qrels), elapsed))
    print(f"{'':34} {'nDCG@10':>8} {'R@10':>7} {'abstained':>10} {'seconds':>8}")
    for label, ndcg, recall, abstained, seconds in rows:
        print(f"{label:34} {ndcg:8.3f} {recall:7.3f} {abstained:6}/{len(queries):<4} {seconds:8.1f}")
    if args.dump:
        args.dump.write_text(json.dumps(dump))


if __name__ == "__main__":
    main()
