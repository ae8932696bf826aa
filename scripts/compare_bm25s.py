#!/usr/bin/env python3
"""citebot against bm25s, side by side, on the same passages and questions.

    pip install bm25s PyStemmer
    python3 scripts/compare_bm25s.py --sizes 1k,10k,100k,1M

For every size, the script generates the corpus if needed (`examples/gen_corpus`,
the same corpora `cargo bench --bench scale` uses), starts
`examples/bench_ask --serve` on it, which opens citebot's index and dumps its
passages, and indexes those very passages with bm25s (English stop words
and Snowball stemmer, as citebot). It then alternates rounds: one round of every
question through citebot's full `Engine::ask(q, 3)` (search, re-ranking,
quote selection, citation), timed inside the Rust process, then the same
questions through bm25s `retrieve(k=3)`, tokenization included, timed here.
Loading and indexing are not timed on either side. Because the two engines
run in the same minutes, their ratio holds on a noisy machine even when the
absolute figures move.

Prints, per size, p50 and p99 per-question latency of both and the
distribution of the per-question ratio citebot / bm25s (median over rounds,
per question); `--per-query` prints every question's ratio. Writes the
figures as JSON and the latency plot as SVG (`docs/latency.svg`), drawn by
hand: no plotting library needed.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def count(size):
    """1k, 10k, 1M or a number."""
    units = {"k": 1_000, "K": 1_000, "m": 1_000_000, "M": 1_000_000}
    if size[-1] in units:
        return int(size[:-1]) * units[size[-1]]
    return int(size)


def percentile(values, p):
    """Nearest-rank percentile, as the Rust side computes it."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def build_examples():
    subprocess.run(
        ["cargo", "build", "--release", "--example", "gen_corpus", "--example", "bench_ask"],
        cwd=ROOT,
        check=True,
    )


def measure(size, rounds, bench_dir, per_query):
    import bm25s
    import Stemmer

    examples = target_dir() / "release" / "examples"
    corpus = bench_dir / f"corpus-{size}"
    index = bench_dir / f"index-{size}"
    dump = bench_dir / f"passages-{size}.jsonl"
    subprocess.run(
        [examples / "gen_corpus", "--passages", str(count(size)), "--out", corpus],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    citebot = subprocess.Popen(
        [examples / "bench_ask", "--corpus", corpus, "--index", index, "--dump", dump, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        hello = json.loads(citebot.stdout.readline())
        queries = hello["queries"]

        texts = [json.loads(line)["text"] for line in dump.open(encoding="utf-8")]
        stemmer = Stemmer.Stemmer("english")
        started = time.perf_counter()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        bm25s_index_seconds = time.perf_counter() - started
        del texts, tokens
        k = min(3, hello["passages"])

        def bm25s_round():
            micros = []
            for q in queries:
                t0 = time.perf_counter()
                query = bm25s.tokenize(
                    q, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
                )
                if query[0]:
                    retriever.retrieve(query, k=k, show_progress=False, n_threads=1)
                micros.append((time.perf_counter() - t0) * 1e6)
            return micros

        def citebot_round():
            citebot.stdin.write("round\n")
            citebot.stdin.flush()
            return json.loads(citebot.stdout.readline())

        citebot_round(), bm25s_round()  # warm-up
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(citebot_round())
            theirs.append(bm25s_round())
        citebot.stdin.write("quit\n")
        citebot.stdin.flush()
    finally:
        citebot.wait(timeout=600)
        dump.unlink(missing_ok=True)

    per_q_ours = [statistics.median(r[i] for r in ours) for i in range(len(queries))]
    per_q_theirs = [statistics.median(r[i] for r in theirs) for i in range(len(queries))]
    ratios = [a / b for a, b in zip(per_q_ours, per_q_theirs)]
    all_ours = [x for r in ours for x in r]
    all_theirs = [x for r in theirs for x in r]
    if per_query:
        for q, a, b, r in zip(queries, per_q_ours, per_q_theirs, ratios):
            print(f"  {r:6.3f}  {a:9.0f} µs  {b:9.0f} µs  {q}")
    return {
        "size": size,
        "passages": hello["passages"],
        "queries": len(queries),
        "rounds": rounds,
        "citebot_p50_us": percentile(all_ours, 50),
        "citebot_p99_us": percentile(all_ours, 99),
        "bm25s_p50_us": percentile(all_theirs, 50),
        "bm25s_p99_us": percentile(all_theirs, 99),
        "ratio_median": statistics.median(ratios),
        "ratio_geomean": math.exp(sum(math.log(r) for r in ratios) / len(ratios)),
        "ratio_p90": percentile(ratios, 90),
        "ratio_max": max(ratios),
        "bm25s_index_seconds": bm25s_index_seconds,
        "citebot_open_seconds": hello["open_seconds"],
    }


def svg(rows, path):
    """Latency against corpus size, log-log, as a hand-written SVG."""
    width, height = 640, 400
    left, right, top, bottom = 70, 170, 30, 50
    xs = [r["passages"] for r in rows]
    series = [
        ("citebot p50", "citebot_p50_us", "#1f77b4", ""),
        ("citebot p99", "citebot_p99_us", "#1f77b4", "6,4"),
        ("bm25s p50", "bm25s_p50_us", "#d62728", ""),
        ("bm25s p99", "bm25s_p99_us", "#d62728", "6,4"),
    ]
    ys = [r[key] for r in rows for _, key, _, _ in series]
    x0, x1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)

    def px(x):
        return left + (math.log10(x) - x0) / (x1 - x0) * (width - left - right)

    def py(y):
        return height - bottom - (math.log10(y) - y0) / (y1 - y0) * (height - top - bottom)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14">Query latency against corpus size '
        "(log-log, same machine, same run)</text>",
    ]
    for e in range(x0, x1 + 1):
        x = px(10**e)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}" stroke="#ddd"/>')
        label = {3: "1k", 4: "10k", 5: "100k", 6: "1M", 7: "10M"}.get(e, f"1e{e}")
        out.append(f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="middle">{label}</text>')
    for e in range(y0, y1 + 1):
        y = py(10**e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>')
        label = f"{10**e} µs" if e < 3 else f"{10 ** (e - 3)} ms"
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    out.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">passages</text>'
    )
    for n, (name, key, colour, dash) in enumerate(series):
        points = " ".join(f"{px(r['passages']):.1f},{py(r[key]):.1f}" for r in rows)
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="{dash}"/>'
        )
        for r in rows:
            out.append(f'<circle cx="{px(r["passages"]):.1f}" cy="{py(r[key]):.1f}" r="3" fill="{colour}"/>')
        ly = top + 20 + 20 * n
        lx = width - right + 15
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 30}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        out.append(f'<text x="{lx + 36}" y="{ly + 4}">{name}</text>')
    out.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1k,10k", help="comma-separated: 1k,10k,100k,1M")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bench-dir", type=Path, default=None)
    parser.add_argument("--svg", type=Path, default=ROOT / "docs" / "latency.svg")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--per-query", action="store_true", help="print every question's ratio")
    args = parser.parse_args()
    try:
        import bm25s  # noqa: F401
        import Stemmer  # noqa: F401
    except ImportError:
        sys.exit("needs bm25s and PyStemmer: pip install bm25s PyStemmer")
    bench_dir = args.bench_dir or Path(os.environ.get("CITEBOT_BENCH_DIR", target_dir() / "citebot-bench"))
    bench_dir.mkdir(parents=True, exist_ok=True)
    build_examples()
    rows = []
    for size in args.sizes.split(","):
        print(f"{size}: measuring…", file=sys.stderr, flush=True)
        rows.append(measure(size.strip(), args.rounds, bench_dir, args.per_query))
    print()
    print("| passages | citebot p50 | citebot p99 | bm25s p50 | bm25s p99 | citebot / bm25s per question: median (p90, max) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['passages']} | {r['citebot_p50_us']:.0f} µs | {r['citebot_p99_us']:.0f} µs "
            f"| {r['bm25s_p50_us']:.0f} µs | {r['bm25s_p99_us']:.0f} µs "
            f"| {r['ratio_median']:.3f}× ({r['ratio_p90']:.3f}×, {r['ratio_max']:.3f}×) |"
        )
    json_path = args.json or bench_dir / "compare.json"
    json_path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    svg(rows, args.svg)
    print(f"\nwrote {json_path} and {args.svg}", file=sys.stderr)


if __name__ == "__main__":
    main()
