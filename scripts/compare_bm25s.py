#!/usr/bin/env python3
"""citebot against bm25s, side by side, on the same passages and questions.

    python3 -m venv /work/venv-bm25s && /work/venv-bm25s/bin/pip install bm25s PyStemmer numpy
    /work/venv-bm25s/bin/python scripts/compare_bm25s.py                 # the table of issue 11
    /work/venv-bm25s/bin/python scripts/compare_bm25s.py --sizes 1k,10k,100k,1M   # and the latency sweep

bm25s gets a virtualenv of its own, without scipy: with scipy installed beside
it, bm25s takes another code path and runs about 2x slower.

With no option, the script prints the table of issue 11, every row with
citebot beside bm25s, measured in the same run, best of 3 on each side:

- per question, batch `citebot ask --json` on Federalist (1,955 passages)
  and on the 100k generated corpus: (time of one process answering N
  questions - time of one answering none) / N, so search, re-ranking, quote,
  citation and JSON output, without start-up; bm25s: the same questions
  through `tokenize` + `retrieve(k=3)`, N of them in a loop, / N;
- p99 per question: citebot's `ask` + JSON timed inside
  `examples/bench_ask --serve`, rounds interleaved with bm25s's;
- cold `citebot ask` with an up-to-date index, process start to exit;
- full index build (`citebot index` into an empty folder), passages/s; bm25s:
  tokenize + index of the same passages; `--build-1m` adds the 1M corpus;
- peak RSS of the batch process at 100k (which counts the touched pages of
  the memory-mapped index), and its heap alone (RssAnon of bench_ask after
  its rounds).

With `--sizes`, for every size, the script generates the corpus if needed
(`examples/gen_corpus`, the same corpora `cargo bench --bench scale` uses), starts
`examples/bench_ask --serve` on it, which opens citebot's index and dumps its
passages, and indexes those very passages with bm25s (English stop words
and Snowball stemmer, as citebot). It then alternates rounds: one round of every
question through citebot's full `Engine::ask(q, 3)` and JSON output,
timed inside the Rust process, then the same
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
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
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
        ["cargo", "build", "--release", "--bin", "citebot", "--example", "gen_corpus", "--example", "bench_ask"],
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
        retriever = bm25s.BM25(k1=0.9, b=0.4)
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


# ---------------------------------------------------------------- issue 11's table

FEDERALIST = ROOT.parent / "shared" / "corpora" / "federalist"
FEDERALIST_DEV = ROOT.parent / "shared" / "eval" / "federalist-dev.jsonl"
TRIES = 3


def citebot_bin():
    return target_dir() / "release" / "citebot"


def run_citebot(args, stdin=""):
    """Runs the citebot binary to completion; wall seconds."""
    started = time.perf_counter()
    p = subprocess.Popen(
        [citebot_bin(), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, err = p.communicate(stdin)
    elapsed = time.perf_counter() - started
    if p.returncode != 0:
        sys.exit(f"citebot {' '.join(map(str, args))} failed: {err[-500:]}")
    return elapsed


def peak_rss_mib(args, stdin=""):
    """Runs citebot once; its peak RSS (VmHWM, which counts touched mapped pages) in MiB."""
    with tempfile.TemporaryFile("w+") as feed:
        feed.write(stdin)
        feed.seek(0)
        pid = os.fork()
        if pid == 0:
            os.dup2(feed.fileno(), 0)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execv(str(citebot_bin()), [str(citebot_bin()), *map(str, args)])
        _, _, usage = os.wait4(pid, 0)
    return usage.ru_maxrss / 1024


def questions_of(path):
    return [json.loads(line)["q"] for line in Path(path).open(encoding="utf-8") if line.strip()]


class Bm25s:
    """bm25s over the passages citebot holds, with citebot's tokenization choices."""

    def __init__(self, texts):
        import bm25s
        import Stemmer

        self.bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("english")
        self.texts = texts
        self.index_seconds = min(self.build() for _ in range(TRIES))
        self.k = min(3, len(texts))

    def build(self):
        started = time.perf_counter()
        tokens = self.bm25s.tokenize(self.texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
        retriever = self.bm25s.BM25(k1=0.9, b=0.4)
        retriever.index(tokens, show_progress=False)
        self.retriever = retriever
        return time.perf_counter() - started

    def ask(self, q):
        query = self.bm25s.tokenize(q, stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False)
        if query[0]:
            self.retriever.retrieve(query, k=self.k, show_progress=False, n_threads=1)

    def round(self, queries):
        micros = []
        for q in queries:
            t0 = time.perf_counter()
            self.ask(q)
            micros.append((time.perf_counter() - t0) * 1e6)
        return micros

    def batch(self, queries):
        """Seconds per question over the whole list, in one loop."""
        started = time.perf_counter()
        for q in queries:
            self.ask(q)
        return (time.perf_counter() - started) / len(queries)


def table_row(name, corpus, index, questions_file, repeat, bench_dir):
    """Per-question batch figures, p99, cold start and RSS for one corpus."""
    examples = target_dir() / "release" / "examples"
    queries = questions_of(questions_file)
    corpus_args = ["--corpus", corpus, "--index", index]
    run_citebot(["index", *corpus_args])  # up to date from here on
    dump = bench_dir / f"passages-{name}.jsonl"
    server = subprocess.Popen(
        [examples / "bench_ask", *corpus_args, "--queries", questions_file, "--dump", dump, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    hello = json.loads(server.stdout.readline())
    texts = [json.loads(line)["text"] for line in dump.open(encoding="utf-8")]
    dump.unlink()
    print(f"{name}: {hello['passages']} passages, {len(queries)} questions", file=sys.stderr, flush=True)
    theirs = Bm25s(texts)
    del texts

    def citebot_round():
        server.stdin.write("round\n")
        server.stdin.flush()
        return json.loads(server.stdout.readline())

    citebot_round(), theirs.round(queries)  # warm-up
    p99_ours, p99_theirs = [], []
    # Each try is the p99 of several rounds, so that a small question set has
    # a tail to speak of; the rounds of the two engines alternate.
    rounds = max(5, 1000 // len(queries))
    for _ in range(TRIES):
        ours, bm = [], []
        for _ in range(rounds):
            ours += citebot_round()
            bm += theirs.round(queries)
        p99_ours.append(percentile(ours, 99))
        p99_theirs.append(percentile(bm, 99))
    server.stdin.write("memory\n")
    server.stdin.flush()
    memory = json.loads(server.stdout.readline())
    server.stdin.write("quit\n")
    server.stdin.flush()
    server.wait(timeout=600)

    batch = queries * repeat
    stdin = "\n".join(batch) + "\n"
    ask = ["ask", "--json", *corpus_args]
    nothing = min(run_citebot(ask, "") for _ in range(TRIES))
    ours, bm = [], []
    for _ in range(TRIES):
        ours.append((run_citebot(ask, stdin) - nothing) / len(batch))
        bm.append(theirs.batch(batch))
    cold = sorted(run_citebot([*ask, queries[0]]) for _ in range(TRIES))
    return {
        "name": name,
        "passages": hello["passages"],
        "questions": len(batch),
        "citebot_batch_us": min(ours) * 1e6,
        "citebot_batch_runs_us": [x * 1e6 for x in ours],
        "bm25s_batch_us": min(bm) * 1e6,
        "bm25s_batch_runs_us": [x * 1e6 for x in bm],
        "citebot_p99_us": min(p99_ours),
        "bm25s_p99_us": min(p99_theirs),
        "cold_ms": cold[0] * 1e3,
        "cold_runs_ms": [x * 1e3 for x in cold],
        "rss_peak_mib": peak_rss_mib(ask, stdin),
        "rss_anon_mib": memory["rss_anon_mib"],
        "bm25s_index_seconds": theirs.index_seconds,
        "bm25s_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def build_rate(corpus, bench_dir, passages):
    """citebot's full build into an empty folder, best of 3: passages/s and peak RSS."""
    best, rss = None, None
    for _ in range(TRIES):
        index = bench_dir / "index-build-scratch"
        shutil.rmtree(index, ignore_errors=True)
        seconds = run_citebot(["index", "--corpus", corpus, "--index", index])
        best = seconds if best is None else min(best, seconds)
    shutil.rmtree(index, ignore_errors=True)
    rss = peak_rss_mib(["index", "--corpus", corpus, "--index", index])
    shutil.rmtree(index, ignore_errors=True)
    return passages / best, rss


def generated(size, bench_dir):
    corpus = bench_dir / f"corpus-{size}"
    subprocess.run(
        [target_dir() / "release" / "examples" / "gen_corpus", "--passages", str(count(size)), "--out", corpus],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return corpus


def issue_table(bench_dir, build_1m):
    big = generated("100k", bench_dir)
    big_questions = bench_dir / "questions-100k.jsonl"
    with big_questions.open("w", encoding="utf-8") as out:
        for path in [big / ".queries.jsonl", FEDERALIST_DEV]:
            out.writelines(line for line in path.open(encoding="utf-8") if line.strip())
    fed = table_row("federalist", FEDERALIST, bench_dir / "index-federalist", FEDERALIST_DEV, 100, bench_dir)
    k100 = table_row("100k", big, bench_dir / "index-100k", big_questions, 10, bench_dir)
    builds = {"100k": (k100["passages"], big, k100["bm25s_index_seconds"])}
    if build_1m:
        builds["1M"] = (count("1M"), generated("1M", bench_dir), None)
    rates = {}
    for size, (passages, corpus, bm_seconds) in builds.items():
        print(f"build {size}…", file=sys.stderr, flush=True)
        rate, rss = build_rate(corpus, bench_dir, passages)
        rates[size] = {"citebot_per_s": rate, "citebot_rss_mib": rss,
                       "bm25s_per_s": passages / bm_seconds if bm_seconds else None}

    def ratio(a, b):
        return f"{a / b:.2f}×"

    lines = [
        "| | citebot | bm25s | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for r, target in [(fed, "≤ 0.5×"), (k100, "≤ 0.25×")]:
        lines.append(
            f"| per question, batch `ask --json`, {r['name']} ({r['passages']:,} passages), best of 3 "
            f"| {r['citebot_batch_us']:.0f} µs | {r['bm25s_batch_us']:.0f} µs "
            f"| {ratio(r['citebot_batch_us'], r['bm25s_batch_us'])} | {target} |"
        )
        lines.append(
            f"| p99 per question, {r['name']} (`ask` + JSON in process), best of 3 "
            f"| {r['citebot_p99_us']:.0f} µs | {r['bm25s_p99_us']:.0f} µs "
            f"| {ratio(r['citebot_p99_us'], r['bm25s_p99_us'])} | ≤ 1× |"
        )
    for r, target in [(k100, "≤ 50 ms"), (fed, "≤ 15 ms")]:
        runs = ", ".join(f"{x:.0f}" for x in r["cold_runs_ms"])
        lines.append(
            f"| cold `citebot ask` with an up-to-date index, {r['name']} "
            f"| {r['cold_ms']:.0f} ms (runs: {runs}) | | | {target} |"
        )
    for size, b in rates.items():
        theirs = f"{b['bm25s_per_s'] / 1000:.1f}k/s" if b["bm25s_per_s"] else "not run"
        lines.append(
            f"| full index build, {size} passages (peak RSS {b['citebot_rss_mib']:.0f} MiB) "
            f"| {b['citebot_per_s'] / 1000:.1f}k passages/s | {theirs} | | ≥ 30k/s |"
        )
    lines.append(
        f"| peak RSS, batch `ask --json` at 100k: all / heap alone (RssAnon) "
        f"| {k100['rss_peak_mib']:.0f} / {k100['rss_anon_mib']:.0f} MiB "
        f"| {k100['bm25s_rss_mib']:.0f} MiB (the Python process) | | ≤ 150 MB |"
    )
    print("\n".join(lines))
    return {"federalist": fed, "100k": k100, "builds": rates}



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
    parser.add_argument("--sizes", default="", help="also the latency sweep, comma-separated: 1k,10k,100k,1M")
    parser.add_argument("--no-table", action="store_true", help="skip issue 11's table")
    parser.add_argument("--build-1m", action="store_true", help="the table also times a build of 1M passages")
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
        sys.exit(
            "needs bm25s and PyStemmer, without scipy: python3 -m venv /work/venv-bm25s && "
            "/work/venv-bm25s/bin/pip install bm25s PyStemmer numpy"
        )
    try:
        import scipy  # noqa: F401

        print("warning: scipy is installed beside bm25s, which then runs ~2x slower", file=sys.stderr)
    except ImportError:
        pass
    # Issue 11 measures the lexical path: with the default model setting,
    # every citebot process would first look for the model (and try the Hub).
    os.environ["CITEBOT_MODEL"] = "off"
    bench_dir = args.bench_dir or Path(os.environ.get("CITEBOT_BENCH_DIR", target_dir() / "citebot-bench"))
    bench_dir.mkdir(parents=True, exist_ok=True)
    build_examples()
    figures = {}
    if not args.no_table:
        figures["table"] = issue_table(bench_dir, args.build_1m)
    rows = []
    for size in filter(None, args.sizes.split(",")):
        print(f"{size}: measuring…", file=sys.stderr, flush=True)
        rows.append(measure(size.strip(), args.rounds, bench_dir, args.per_query))
    if rows:
        print()
        print("| passages | citebot p50 | citebot p99 | bm25s p50 | bm25s p99 | citebot / bm25s per question: median (p90, max) |")
        print("|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(
                f"| {r['passages']} | {r['citebot_p50_us']:.0f} µs | {r['citebot_p99_us']:.0f} µs "
                f"| {r['bm25s_p50_us']:.0f} µs | {r['bm25s_p99_us']:.0f} µs "
                f"| {r['ratio_median']:.3f}× ({r['ratio_p90']:.3f}×, {r['ratio_max']:.3f}×) |"
            )
        figures["sweep"] = rows
        svg(rows, args.svg)
    json_path = args.json or bench_dir / "compare.json"
    json_path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {json_path}" + (f" and {args.svg}" if rows else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
