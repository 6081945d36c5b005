"""Benchmark: virtual-trial replicates per second, in-process vs a local Dask cluster.

Builds the prediction for a design (default: the MK-7 180 ug/day example), then times
``run_replicates`` on the in-process backend (the baseline, same process) and on a real
dask.distributed LocalCluster (2 worker processes, 1 thread each; cluster start-up timed separately),
checks that both give identical replicates for the same seed, and prints replicates/s and the ratio.

Usage: .venv/bin/python benchmarks/bench_trial.py [--replicates 20000] [--design FILE] [--seed 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicates", type=int, default=20000)
    ap.add_argument("--design", default=str(ROOT / "examples" / "trials" / "mk7_180ug_3y.yaml"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    from kbone.evidence.loader import load_records
    from kbone.model import trial
    from kbone.model.mbma.fit import fit_mbma

    recs = load_records()
    t0 = time.perf_counter()
    fit = fit_mbma(recs)
    t_fit = time.perf_counter() - t0
    pred = trial.predict(fit, trial.load_design(a.design), recs)
    spec = trial.replicate_spec(pred)
    n = a.replicates
    print(f"design: {a.design}  n per arm {spec.n_per_arm}  replicates {n}  (fit: {t_fit * 1000:.0f} ms)")

    t0 = time.perf_counter()
    base = trial.run_replicates(spec, n, a.seed)
    t_in = time.perf_counter() - t0
    print(f"in-process (baseline): {n / t_in:10.0f} replicates/s  ({t_in:.2f} s)")

    t0 = time.perf_counter()
    with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            Client(cl) as client:
        t_up = time.perf_counter() - t0
        trial.run_replicates(spec, 2 * trial.BLOCK, a.seed, backend="dask", client=client)  # warm the workers
        t1 = time.perf_counter()
        dk = trial.run_replicates(spec, n, a.seed, backend="dask", client=client)
        t_dk = time.perf_counter() - t1
    same = np.array_equal(base, dk)
    print(f"dask ({a.workers} workers):      {n / t_dk:10.0f} replicates/s  ({t_dk:.2f} s; cluster start {t_up:.2f} s)")
    print(f"ratio dask / in-process: {t_in / t_dk:.2f}x   identical results: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
