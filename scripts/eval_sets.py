#!/usr/bin/env python3
"""Scores every question set (the dev sets in ../shared/eval and eval/*.jsonl)
as ../shared/eval/score.py does, with the model and without it, and adds
what score.py leaves out: how many answerable questions were refused.

    cargo build --release
    python3 scripts/eval_sets.py [--model DIR] [--markdown]

CITEBOT=path/to/citebot scores another binary. One line per set and mode:
hit@1, hit@3, quote@1, MRR@10, answerable questions refused, unanswerable
questions abstained. The phrase matching is score.py's own (imported)."""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
spec = importlib.util.spec_from_file_location("score", SHARED / "eval" / "score.py")
score = importlib.util.module_from_spec(spec)
spec.loader.exec_module(score)


def corpus_of(name):
    if name.startswith("federalist"):
        return SHARED / "corpora" / "federalist"
    if name.startswith("essays"):
        return SHARED / "corpora" / "essays"
    return ROOT / "corpus"


def run(binary, questions, corpus, model):
    r = subprocess.run(
        [binary, "ask", "--json", "--top", "10", "--corpus", str(corpus)],
        input="\n".join(q["q"] for q in questions) + "\n",
        capture_output=True, text=True, env=dict(os.environ, CITEBOT_MODEL=model),
    )
    lines = [l for l in r.stdout.split("\n") if l.strip()]
    if r.returncode != 0 or len(lines) != len(questions):
        sys.exit(f"{binary}: expected {len(questions)} lines, got {len(lines)}, rc={r.returncode}\n{r.stderr[-500:]}")
    return [json.loads(l) for l in lines]


def figures(questions, answers):
    n = h1 = h3 = q1 = refused = nulls = abstained = 0
    rr = 0.0
    for q, out in zip(questions, answers):
        hits = out["hits"]
        if q["expect"] is None:
            nulls += 1
            abstained += out["answered"] is False and not hits
            continue
        n += 1
        refused += not hits
        wants = [score.norm(w) for w in (q["expect"] if isinstance(q["expect"], list) else [q["expect"]])]
        rank = next((i for i, h in enumerate(hits[:10], 1) if any(w in score.norm(h["passage"]) for w in wants)), None)
        if rank:
            h1 += rank == 1
            h3 += rank <= 3
            rr += 1 / rank
        q1 += bool(hits) and any(w in score.norm(hits[0]["quote"]) for w in wants)
    return dict(n=n, hit1=h1 / n, hit3=h3 / n, quote1=q1 / n, mrr=rr / n, refused=refused, nulls=nulls, abstained=abstained)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(SHARED / "models" / "all-MiniLM-L6-v2"))
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    binary = os.environ.get("CITEBOT", str(ROOT / "target" / "release" / "citebot"))
    # followups.jsonl pairs a first question with its follow-up; examples/followups.rs scores it.
    own = [p for p in sorted((ROOT / "eval").glob("*.jsonl")) if p.stem != "followups"]
    sets = [SHARED / "eval" / "seeds-dev.jsonl", SHARED / "eval" / "federalist-dev.jsonl", *own]
    if args.markdown:
        print("| set | retrieval | hit@1 | hit@3 | quote@1 | MRR@10 | answerable refused | unanswerable abstained |")
        print("|---|---|---|---|---|---|---|---|")
    for path in sets:
        questions = [json.loads(l) for l in open(path) if l.strip()]
        name = path.stem
        for label, model in (("hybrid", args.model), ("lexical", "off")):
            f = figures(questions, run(binary, questions, corpus_of(name), model))
            if args.markdown:
                print(f"| {name} ({f['n']}+{f['nulls']}) | {label} | {f['hit1']:.3f} | {f['hit3']:.3f} | {f['quote1']:.3f} | {f['mrr']:.3f} | {f['refused']}/{f['n']} | {f['abstained']}/{f['nulls']} |")
            else:
                print(f"{name:22} {label:8} hit@1={f['hit1']:.3f} hit@3={f['hit3']:.3f} quote@1={f['quote1']:.3f} "
                      f"mrr@10={f['mrr']:.3f} refused={f['refused']}/{f['n']} abstained={f['abstained']}/{f['nulls']}")


if __name__ == "__main__":
    main()
