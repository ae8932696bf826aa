#!/usr/bin/env python3
"""Times the citebot binary the way a user runs it, on the Federalist corpus.

usage: python3 scripts/bench_cli.py [--corpus DIR] [--rounds N]
Builds target/release/citebot first if it is missing (cargo build --release).

Prints medians over several runs, each in a fresh process:
  build   full index build into an empty folder (`citebot index`)
  cold    one `citebot ask` with an up-to-date index (process start to exit)
  ask     batch `ask --json`: (time for N questions - time for none) / N
  cite    batch `cite --json`: the same, per quote
  rss     peak resident memory of each of those processes
The dev questions are repeated to make N large; per-question figures
include search, quote selection, citation and JSON output.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("CITEBOT", os.path.join(ROOT, "target", "release", "citebot"))


def run(args, stdin=""):
    """Runs citebot to completion; returns wall-clock seconds."""
    start = time.perf_counter()
    p = subprocess.Popen([BIN, *args], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    _, err = p.communicate(stdin)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"citebot {' '.join(args)} failed: {err[-500:]}")
    return elapsed


def peak_rss_mb(args, stdin=""):
    """Runs citebot once, feeding stdin from a helper process; returns its peak RSS in MB."""
    pid = os.fork()
    if pid == 0:
        r, w = os.pipe()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        if os.fork() == 0:
            os.close(r)
            os.write(w, stdin.encode())
            os._exit(0)
        os.close(w)
        os.dup2(r, 0)
        os.execv(BIN, [BIN, *args])
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "corpora", "federalist"))
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    if not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    questions = [json.loads(l)["q"] for l in open(os.path.join(ROOT, "..", "shared", "eval", "federalist-dev.jsonl"))]
    batch = "\n".join(questions * 200) + "\n"
    n = len(questions) * 200
    quotes = [
        "If men were angels, no government would be necessary.",
        "If all men were angels, no government would be needed",
        "Ambition must be made to check ambition",
        "the accumulation of all powers, legislative, executive, and judiciary, in the same hands",
        "The price of liberty is eternal vigilance",
        "Factions are the natural enemy of every free republic and must be abolished",
        "A government of the people, by the people, for the people",
        "the latent causes of faction are thus sown in the nature of man",
    ]
    quote_batch = "\n".join(quotes * 250) + "\n"
    nq = len(quotes) * 250
    with tempfile.TemporaryDirectory() as tmp:
        index = os.path.join(tmp, "index")
        base = ["--corpus", a.corpus, "--index", index]
        builds = []
        for i in range(a.rounds):
            fresh = os.path.join(tmp, f"build{i}")
            builds.append(run(["index", "--corpus", a.corpus, "--index", fresh]))
        build_rss = peak_rss_mb(["index", "--corpus", a.corpus, "--index", os.path.join(tmp, "rss")])
        run(["index", *base])
        cold = [run(["ask", *base, "How old must a senator be?"]) for _ in range(a.rounds * 2)]
        empty = [run(["ask", "--json", *base], "") for _ in range(a.rounds)]
        full = [run(["ask", "--json", *base], batch) for _ in range(a.rounds)]
        cites = [run(["cite", "--json", *base], quote_batch) for _ in range(a.rounds)]
        ask_rss = peak_rss_mb(["ask", "--json", *base], batch)
        cite_rss = peak_rss_mb(["cite", "--json", *base], quote_batch)
    med = statistics.median
    print(f"corpus: {a.corpus}")
    print(f"index build (fresh):   median {med(builds) * 1000:7.1f} ms   peak RSS {build_rss:5.1f} MB")
    print(f"cold ask (up to date): median {med(cold) * 1000:7.1f} ms")
    print(f"batch ask --json:      median {(med(full) - med(empty)) / n * 1e6:7.1f} µs/question over {n}   peak RSS {ask_rss:5.1f} MB")
    print(f"batch cite --json:     median {(med(cites) - med(empty)) / nq * 1e6:7.1f} µs/quote over {nq}   peak RSS {cite_rss:5.1f} MB")


if __name__ == "__main__":
    main()
