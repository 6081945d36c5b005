"""Benchmark: the whole claims pipeline (decode → normalise → extract → verify) per article, after start-up.

Builds synthetic articles from the two seed documents' sentences (exact original spans, OCR damage and web
boilerplate included), 10–45 sentences each, mixed from both seeds with paragraph breaks and, sometimes, the
seed's reference list. Times ``check_bytes`` on each and prints the per-article time (mean, median, p95, max),
the time per stage on a subset, and ratios against a baseline run in the same process: the two seed
articles themselves, checked as they are.

Usage: .venv/bin/python benchmarks/bench_claims.py [--articles 1000] [--seed 11]
Target: ≤ 200 ms per article after start-up (median and p95 are printed against it).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

TARGET_MS = 200.0
HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent / "tests" / "claims" / "seeds"


def seed_texts() -> list[str]:
    files = sorted(SEEDS.glob("*.txt"))
    if not files:
        sys.exit(f"no seed texts in {SEEDS}")
    return [f.read_text(encoding="utf-8") for f in files]


def seed_sentences(texts: list[str]) -> tuple[list[str], list[str]]:
    """(sentences as in the originals, reference-list lines)."""
    from kbone.claims.extract import split_sentences
    from kbone.claims.normalize import normalize

    sents, refs = [], []
    for t in texts:
        for s in split_sentences(normalize(t)):
            (refs if s.in_references else sents).append(s.text)
    return sents, refs


def make_articles(n: int, seed: int, sents: list[str], refs: list[str]) -> list[str]:
    rng = random.Random(seed)
    boiler = ["对此,您有什么看法?欢迎评论区一起讨论!", "© CopyRight 2020-=date(\"Y\",time());?> All Rights Reserved.",
              "本站资料均由网友自行发布提供,仅用于学习交流。"]
    out = []
    for _ in range(n):
        k = rng.randint(10, 45)
        body = []
        for s in rng.sample(sents, min(k, len(sents))):
            body.append(s)
            body.append("\n" if rng.random() < 0.3 else "")
        art = "".join(body)
        if rng.random() < 0.5:
            art += "\n参考资料:\n" + "\n".join(rng.sample(refs, min(len(refs), rng.randint(1, 6))))
        if rng.random() < 0.5:
            art += "\n" + "\n".join(rng.sample(boiler, rng.randint(1, len(boiler))))
        out.append(art)
    return out


def stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"mean": statistics.fmean(ms), "median": statistics.median(ms),
            "p95": ms[int(0.95 * (len(ms) - 1))], "max": ms[-1]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    from kbone.claims.check import check_bytes
    from kbone.claims.evidence import evidence_base
    from kbone.claims.extract import extract
    from kbone.claims.normalize import normalize
    from kbone.claims.verify import verify_claim

    texts = seed_texts()
    check_bytes(texts[0].encode("utf-8"))  # start-up: jieba, vocabulary, evidence base, patterns
    startup = time.perf_counter() - t0
    print(f"start-up (imports, jieba dictionary, vocabulary, {len(evidence_base().records)} records): {startup:.2f} s")

    # baseline in the same process: the seed articles as they are
    base_ms = []
    for _ in range(5):
        for t in texts:
            s = time.perf_counter()
            check_bytes(t.encode("utf-8"))
            base_ms.append((time.perf_counter() - s) * 1000)
    base = stats(base_ms)
    print(f"baseline — the {len(texts)} seed articles ({', '.join(str(len(t)) for t in texts)} chars), "
          f"per article: mean {base['mean']:.1f} ms, median {base['median']:.1f} ms")

    sents, refs = seed_sentences(texts)
    arts = make_articles(args.articles, args.seed, sents, refs)
    chars = statistics.fmean(len(a) for a in arts)
    ms, n_claims = [], 0
    for a in arts:
        s = time.perf_counter()
        rep = check_bytes(a.encode("utf-8"))
        ms.append((time.perf_counter() - s) * 1000)
        n_claims += len(rep.claims)
    st = stats(ms)
    print(f"{len(arts)} synthetic articles from {len(sents)} seed sentences (mean {chars:.0f} chars, "
          f"{n_claims / len(arts):.1f} claims each)")
    print(f"per article: mean {st['mean']:.1f} ms · median {st['median']:.1f} ms · p95 {st['p95']:.1f} ms · "
          f"max {st['max']:.1f} ms")
    print(f"ratio synthetic/baseline (median): {st['median'] / base['median']:.2f}")
    print(f"ratio to the {TARGET_MS:.0f} ms target: median {st['median'] / TARGET_MS:.2f} · p95 {st['p95'] / TARGET_MS:.2f}"
          f" → {'OK' if st['p95'] <= TARGET_MS else 'OVER TARGET'}")

    # where the time goes, on a subset
    eb = evidence_base()
    stage = {"normalise": [], "extract": [], "verify": []}
    for a in arts[:100]:
        s = time.perf_counter()
        n = normalize(a)
        s2 = time.perf_counter()
        ex = extract(n)
        s3 = time.perf_counter()
        ctx: dict = {"doc_groups": ex.doc_groups}
        for c in ex.claims:
            verify_claim(c, eb, context=ctx)
        s4 = time.perf_counter()
        stage["normalise"].append((s2 - s) * 1000)
        stage["extract"].append((s3 - s2) * 1000)
        stage["verify"].append((s4 - s3) * 1000)
    print("stages (mean ms, first 100 articles): " + " · ".join(f"{k} {statistics.fmean(v):.1f}" for k, v in stage.items()))
    return 0 if st["p95"] <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
