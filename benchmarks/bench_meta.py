"""Random-effects meta-analyses of k = 30 studies per second: kbone vs statsmodels ``combine_effects``.

Both run on the same simulated inputs in this process. statsmodels' ``combine_effects`` computes the DL
("chi2") and Paule-Mandel ("iterated") estimators; kbone is timed on the same two and on REML (metafor's
default, which statsmodels does not offer). Prints analyses/second for each and the ratio kbone/statsmodels.

    .venv/bin/python benchmarks/bench_meta.py [--n 2000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from statsmodels.stats.meta_analysis import combine_effects

from kbone.evidence.meta.estimators import rma

K = 30


def datasets(n: int, seed: int = 2024) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        v = rng.uniform(0.01, 0.3, K)
        y = rng.normal(-0.2, np.sqrt(0.05 + v))
        out.append((y, v))
    return out


def rate(fn, data) -> float:
    fn(*data[0])  # warm-up
    t0 = time.perf_counter()
    for y, v in data:
        fn(y, v)
    return len(data) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="analyses per timing run")
    n = ap.parse_args().n
    data = datasets(n)
    # same answers first: DL and PM agree with statsmodels on these inputs
    y, v = data[0]
    sm = combine_effects(y, v, method_re="chi2")
    assert abs(rma(y, v, method="DL").estimate - sm.mean_effect_re) < 1e-10
    print(f"random-effects meta-analyses of k = {K} studies per second ({n} analyses each)")
    print(f"{'estimator':<10}{'kbone':>12}{'statsmodels':>14}{'ratio':>8}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, method, sm_method in (("DL", "DL", "chi2"), ("PM", "PM", "iterated")):
            ours = rate(lambda y, v, m=method: rma(y, v, method=m).predict(), data)
            theirs = rate(lambda y, v, m=sm_method: combine_effects(y, v, method_re=m).summary_frame(), data)
            print(f"{name:<10}{ours:>12.0f}{theirs:>14.0f}{ours / theirs:>8.2f}")
        ours = rate(lambda y, v: rma(y, v, method="REML").predict(), data)
        print(f"{'REML':<10}{ours:>12.0f}{'—':>14}{'':>8}")
        ours = rate(lambda y, v: rma(y, v, method="REML", test="knha").predict(), data)
        print(f"{'REML+KH':<10}{ours:>12.0f}{'—':>14}{'':>8}")


if __name__ == "__main__":
    main()
