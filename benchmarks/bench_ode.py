"""Benchmark: the nonlinear (ODE) path — MK-4 45 mg/day for 14 days, the simulation a new person's
assessment runs for the MK-4 option (50 virtual people), and the same for a larger population.

Compared in one process, on the same population and doses (kbone.model.system.Individualised.solve):

- baseline: scipy ``solve_ivp`` RK45 on the stacked system (the solver before the Rosenbrock kernel),
- ROS4 numpy: the batched Rosenbrock integrator, per-subject step sizes (``KBONE_JIT=0``),
- ROS4 compiled: the same method in the numba kernel generated from the spec (the default).

Accuracy: the maximum difference in concentration (relative to its maximum) against RK45 at rtol 1e-10.

    .venv/bin/python benchmarks/bench_ode.py [--subjects 50 500] [--days 14] [--dose-ug 45000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from kbone.model.pk import Dose, FormPK
from kbone.model.population import make_population


def setup(n: int, days: int, dose_ug: float, jit: bool):
    os.environ["KBONE_JIT"] = "1" if jit else "0"
    pop = make_population(n, seed=0, profile="han_chinese", age=68, sex="female", weight=56,
                          intake={"K1": 120.0, "MK-4": 10.0, "MK-7": 2.0})
    pk = FormPK("MK-4", pop)
    boluses, rates = pk.inputs_for([Dose(24.0 * d, dose_ug) for d in range(days)])
    rates = rates + [pk.diet_rate(0.0, pop.intake["MK-4"])]
    return pk.model, boluses, rates, pk.baseline_state()


def timed(fn, repeat: int = 1):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def compare(n: int, t: np.ndarray, days: int, dose_ug: float) -> None:
    """One population size: baseline, numpy and compiled Rosenbrock, with their errors."""
    m, b, r, x0 = setup(n, days, dose_ug, jit=True)
    ref = m.solve(t, boluses=b, rates=r, x0=x0, method="RK45", rtol=1e-10, atol=1e-10)
    scale = np.max(np.abs(ref[:, 1, :]))

    def err(y):
        return float(np.max(np.abs(y[:, 1, :] - ref[:, 1, :])) / scale)

    base_s, y = timed(lambda: m.solve(t, boluses=b, rates=r, x0=x0, method="RK45", rtol=1e-6, atol=1e-9))
    print(f"{n:>8} {'RK45 (base)':<14} {base_s:>9.3f} {1.0:>11.1f} {err(y):>15.2e}")
    mn, bn, rn, xn = setup(n, days, dose_ug, jit=False)
    s, y = timed(lambda: mn.solve(t, boluses=bn, rates=rn, x0=xn), repeat=3)
    print(f"{n:>8} {'ROS4 numpy':<14} {s:>9.3f} {base_s / s:>11.1f} {err(y):>15.2e}")
    m.solve(t, boluses=b, rates=r, x0=x0)                  # load the compiled kernel outside the timing
    s, y = timed(lambda: m.solve(t, boluses=b, rates=r, x0=x0), repeat=3)
    print(f"{n:>8} {'ROS4 compiled':<14} {s:>9.3f} {base_s / s:>11.1f} {err(y):>15.2e}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=int, nargs="+", default=[50, 500])
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--dose-ug", type=float, default=45000.0)
    args = ap.parse_args()
    t = np.arange(0.0, args.days * 24.0 + 1e-9, 24.0)
    print(f"MK-4 {args.dose_ug:g} µg/day × {args.days} days, daily outputs; best of 3 (baseline: 1 run)")
    print(f"{'subjects':>8} {'method':<14} {'seconds':>9} {'× baseline':>11} {'max rel. error':>15}")
    for n in args.subjects:
        compare(n, t, args.days, args.dose_ug)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
