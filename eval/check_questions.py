#!/usr/bin/env python3
"""Validate an eval question file against a corpus folder.

usage: python3 check_questions.py QUESTIONS.jsonl CORPUS_DIR [--min-answerable N] [--min-null N]
                                 [--min-files N] [--min-per-file N]

Checks: every line is a JSON object with "q" (non-empty string) and "expect"
(string, list of strings, or null); every expect phrase occurs (after score.py's
norm) in exactly one paragraph of the corpus. Paragraphs are the blank-line
separated blocks of each .md file after the TOML front matter (+++ ... +++),
with lines joined by spaces. Also warns (without failing) when a phrase is
outside 6-15 words, spans a sentence boundary, contains markdown characters, or
when the question copies a run of 3+ content words from the answering paragraph.
The --min-* options fail the run when there are fewer answerable / unanswerable
questions, fewer corpus files with an answerable question, or a corpus file with
fewer answerable questions than asked. Prints per-question problems, the number
of answerable questions per file, and a summary; exits 1 on any problem."""
import html, json, os, re, sys
from collections import Counter


def norm(s):  # same as /work/shared/eval/score.py
    s = html.unescape(re.sub(r"<[^>]+>", "", s or ""))
    for a, b in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                 ("\u2014", "-"), ("\u2013", "-"), ("\u00a0", " "), ("\u2026", "...")):
        s = s.replace(a, b)
    return re.sub(r"\s+", " ", s).strip().lower()


STOP = set("""a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her
here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or
other our out over own really s same she should so some such t than that the their them then there these they this
those through to too under until up very was we were what when where which while who whom why will with would you
your yours according think thinks say says said author even ever way much many also one get got let us""".split())


def content_words(s):
    return [w for w in re.findall(r"[a-z0-9']+", norm(s)) if w not in STOP]


def shared_run(q, para, n=3):
    """Longest run of >= n consecutive content words of q that also occurs consecutively in para."""
    qa, pa = content_words(q), " " + " ".join(content_words(para)) + " "
    best = []
    for i in range(len(qa)):
        for j in range(i + n, len(qa) + 1):
            if " " + " ".join(qa[i:j]) + " " in pa:
                if j - i > len(best):
                    best = qa[i:j]
            else:
                break
    return best


def paragraphs(corpus):
    out = []  # (file, index, normalised text)
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(".md"):
            continue
        text = open(os.path.join(corpus, name), encoding="utf-8").read()
        if text.startswith("+++"):
            end = text.find("\n+++", 3)
            text = text[end + 4:] if end != -1 else text
        for i, block in enumerate(re.split(r"\n\s*\n", text)):
            block = " ".join(l.strip() for l in block.splitlines()).strip()
            if block:
                out.append((name, i, norm(block)))
    return out


def main():
    args = sys.argv[1:]
    opts = {"--min-answerable": 0, "--min-null": 0, "--min-files": 0, "--min-per-file": 0}
    for k in list(opts):
        if k in args:
            j = args.index(k)
            opts[k] = int(args[j + 1])
            del args[j:j + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    qfile, corpus = args
    paras = paragraphs(corpus)
    problems, n_ans, n_null, files = 0, 0, 0, Counter()
    seen_q = set()
    for ln, line in enumerate(open(qfile, encoding="utf-8"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            print(f"line {ln}: invalid JSON: {e}"); problems += 1; continue
        q, exp = obj.get("q") if isinstance(obj, dict) else None, obj.get("expect", "MISSING") if isinstance(obj, dict) else "MISSING"
        if not isinstance(q, str) or not q.strip() or exp == "MISSING" or set(obj) - {"q", "expect"}:
            print(f"line {ln}: need exactly keys q (string) and expect"); problems += 1; continue
        if norm(q) in seen_q:
            print(f"line {ln}: duplicate question"); problems += 1
        seen_q.add(norm(q))
        if exp is None:
            n_null += 1; continue
        phrases = exp if isinstance(exp, list) else [exp]
        if not phrases or not all(isinstance(p, str) and p.strip() for p in phrases):
            print(f"line {ln}: expect must be a non-empty string or list of strings"); problems += 1; continue
        n_ans += 1
        qfiles = set()
        for p in phrases:
            where = [(f, i) for f, i, t in paras if norm(p) in t]
            words = len(p.split())
            if len(where) == 1:
                para = next(t for f, i, t in paras if (f, i) == where[0])
                run = shared_run(q, para)
                if run:
                    print(f"line {ln}: warning: question copies {len(run)} content words from the passage: {' '.join(run)!r}")
            if len(where) != 1:
                print(f"line {ln}: phrase in {len(where)} paragraphs: {p!r} {where[:5]}"); problems += 1
            else:
                qfiles.add(where[0][0])
            if re.search(r"[.?!]\s", p.strip()):
                print(f"line {ln}: warning: phrase spans a sentence boundary: {p!r}")
            if re.search(r"[_*\[\]#]", p):
                print(f"line {ln}: warning: phrase contains markdown characters: {p!r}")
            if not 6 <= words <= 15:
                print(f"line {ln}: warning: phrase has {words} words: {p!r}")
        files.update(qfiles)
    for f in sorted(files):
        print(f"  {files[f]:3d}  {f}")
    corpus_files = sorted({f for f, _, _ in paras})
    for f in corpus_files:
        if opts["--min-per-file"] and files[f] < opts["--min-per-file"]:
            print(f"need --min-per-file {opts['--min-per-file']}: {f} has {files[f]}"); problems += 1
    for k, have in (("--min-answerable", n_ans), ("--min-null", n_null), ("--min-files", len(files))):
        if have < opts[k]:
            print(f"need {k} {opts[k]}, have {have}"); problems += 1
    print(f"{qfile}: {n_ans} answerable, {n_null} unanswerable, {len(files)}/{len(corpus_files)} files covered, {problems} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
