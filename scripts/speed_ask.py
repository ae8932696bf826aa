#!/usr/bin/env python3
"""Batch `ask --json` per question on Federalist for one or more citebot
binaries, beside bm25s, in the same run.

    /work/venv-bm25s/bin/python scripts/speed_ask.py target/release/citebot [OTHER_BINARY ...]
    MODEL=../shared/models/all-MiniLM-L6-v2 REPEAT=10 .../python scripts/speed_ask.py ...   # hybrid

Per binary: (time of one process answering the federalist-dev questions
REPEAT times (200 by default) - time of one answering none) / questions,
five runs, median; the binaries' runs and bm25s's (tokenize + retrieve(k=3)
of the same questions, one loop) alternate, so their ratios hold on a noisy
machine. Each binary runs from /tmp, so that an older binary does not read
this repository's config."""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_bm25s  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
CORPUS = SHARED / "corpora" / "federalist"


def main():
    binaries = [str(Path(b).resolve()) for b in sys.argv[1:]] or [str(compare_bm25s.citebot_bin())]
    questions = [json.loads(l)["q"] for l in open(SHARED / "eval" / "federalist-dev.jsonl") if l.strip()]
    batch = questions * int(os.environ.get("REPEAT", "200"))
    stdin = "\n".join(batch) + "\n"
    texts = []
    for essay in sorted(CORPUS.glob("*.md")):
        body = essay.read_text(encoding="utf-8").split("+++", 2)[-1]
        texts += [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    theirs = compare_bm25s.Bm25s(texts)
    model = os.environ.get("MODEL", "off")
    indexes = {b: tempfile.mkdtemp() for b in binaries}

    def run(binary, text):
        started = time.perf_counter()
        r = subprocess.run(
            [binary, "ask", "--json", "--corpus", str(CORPUS), "--index", indexes[binary]],
            input=text, cwd="/tmp", capture_output=True, text=True,
            env=dict(os.environ, CITEBOT_MODEL=model),
        )
        if r.returncode != 0:
            sys.exit(f"{binary}: {r.stderr[-300:]}")
        return time.perf_counter() - started

    for b in binaries:
        run(b, questions[0] + "\n")  # builds the index (and vectors)
    ours = {b: [] for b in binaries}
    bm = []
    for _ in range(5):
        for b in binaries:
            nothing = run(b, "")
            ours[b].append((run(b, stdin) - nothing) / len(batch) * 1e6)
        bm.append(theirs.batch(batch) * 1e6)
    for b in binaries:
        print(f"{b}: median {statistics.median(ours[b]):.0f} µs per question, runs {[round(x) for x in ours[b]]}")
    print(f"bm25s: median {statistics.median(bm):.0f} µs per question, runs {[round(x) for x in bm]}")


if __name__ == "__main__":
    main()
