#!/usr/bin/env python
"""Fit kbone's vitamin K PK, carboxylation and INR parameters to published points.

Reads the targets in src/kbone/data/model/targets.yaml, fits the stages in order
(MK-4 PK → K1 PK → MK-7 PK → carboxylation → INR vitamin K term) by weighted least squares on
log-parameters within the bounds declared in the spec files, and writes
src/kbone/data/model/fitted.yaml: fitted values, copied values, and for every target the observed
value, the prediction, the standardised residual and whether it was used in the fit. Targets with
|z| > 2 are listed as tensions. Re-run after changing a target or a spec:

    .venv/bin/python scripts/calibrate_pkpd.py [--stage pd] [--dry-run]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import sys

import numpy as np
import yaml
from scipy.optimize import least_squares

from kbone.model import calibration as cal
from kbone.model.library import FITTED_FILE, fitted, model_dir, spec, targets, use_fitted
from kbone.output import atomic_write


def stage_fun(stage: str, P: dict, ts: list[dict]):
    params = cal.FIT_PARAMETERS[stage]

    def fun(x: np.ndarray) -> np.ndarray:
        Q = copy.deepcopy(P)
        for (s, n), v in zip(params, np.exp(x), strict=True):
            Q.setdefault(s, {})[n] = float(v)
        res = []
        for t in ts:
            if t.get("kind") == "prior":
                res.append(cal.prior_residual(t, Q))
            else:
                res.append(cal.residual(t, cal.predict(t, Q)))
        return np.asarray(res, dtype=float)

    return fun


def fit_stage(stage: str, P: dict, ts: list[dict], verbose: bool = True) -> dict:
    params = cal.FIT_PARAMETERS[stage]
    x0, lo, hi = [], [], []
    for s, n in params:
        p = spec(s).parameters[n]
        b = p.bounds or (p.value / 1e3, p.value * 1e3)
        lo_b = max(b[0], 1e-9)
        x0.append(np.log(np.clip(cal.value(P, s, n), lo_b * 1.0001, b[1] * 0.9999)))
        lo.append(np.log(lo_b))
        hi.append(np.log(b[1]))
    fun = stage_fun(stage, P, ts)
    best = None
    starts = [np.array(x0)]
    if stage == "pd":   # hinge targets make this stage multimodal: add starts over the curve's shape
        names = [n for _s, n in params]
        for h in (0.5, 1.0, 2.0):
            for ec50 in (0.3, 1.0, 3.0):
                x = np.array(x0, dtype=float)
                x[names.index("h_carb")] = np.log(h)
                x[names.index("EC50_OC")] = np.log(ec50)
                x[names.index("EC50_MGP")] = np.log(3 * ec50)
                x[names.index("u_min")] = np.log(0.02)
                starts.append(np.clip(x, np.array(lo) + 1e-6, np.array(hi) - 1e-6))
    for start in starts:
        sol = least_squares(fun, start, bounds=(lo, hi), diff_step=1e-4, x_scale=1.0, max_nfev=60, ftol=1e-6, xtol=1e-6)
        if best is None or sol.cost < best.cost:
            best = sol
    out = copy.deepcopy(P)
    for (s, n), v in zip(params, np.exp(best.x), strict=True):
        out.setdefault(s, {})[n] = float(v)
    if verbose:
        print(f"[{stage}] cost {best.cost:.4g} after {best.nfev} evaluations ({best.message})")
        for (s, n), v in zip(params, np.exp(best.x), strict=True):
            print(f"    {s}.{n} = {v:.5g}")
    return out


def residual_table(P: dict) -> list[dict]:
    rows = []
    for t in targets():
        if t.get("kind") == "prior":
            z = cal.prior_residual(t, P)
            p = t["parameter"]
            rows.append({"id": t["id"], "stage": t["stage"], "used_in_fit": True, "kind": "prior",
                         "predicted": round(cal.value(P, p["spec"], p["name"]), 6),
                         "observed": round(cal.value(P, p["towards"]["spec"], p["towards"]["name"])
                                           if "towards" in p else float(t["value"]), 6),
                         "z": round(z, 3), "source": t["source"]})
            continue
        pred = cal.predict(t, P)
        z = cal.residual(t, pred)
        rows.append({
            "id": t["id"], "stage": t["stage"], "used_in_fit": t["stage"] != "validation",
            "kind": t.get("kind", "point"), "quantity": t["quantity"],
            "observed": t.get("value"), "predicted": round(float(pred), 6), "unit": t.get("unit"),
            "scale": t.get("scale"), "sd": t.get("sd"), "z": round(float(z), 3),
            "status": "tension" if abs(z) > 2 else "ok", "source": t["source"],
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stage", choices=cal.STAGES, help="refit only this stage (others from fitted.yaml)")
    ap.add_argument("--from-stage", choices=cal.STAGES, help="refit this stage and the ones after it")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write fitted.yaml")
    ap.add_argument("--residuals-only", action="store_true",
                    help="keep the fitted values, recompute the residual table (after editing checks)")
    args = ap.parse_args(argv)
    use_fitted(True)
    partial = args.stage or args.from_stage or args.residuals_only
    P: dict = copy.deepcopy(fitted().get("parameters") or {}) if partial else {}
    # a full run starts from the values in the spec files, never from an earlier fit
    use_fitted(False)
    ts_all = targets()
    for stage in cal.STAGES:
        if args.residuals_only:
            break
        if args.stage and stage != args.stage:
            continue
        if args.from_stage and cal.STAGES.index(stage) < cal.STAGES.index(args.from_stage):
            continue
        ts = [t for t in ts_all if t["stage"] == stage]
        P = fit_stage(stage, P, ts)
        cal._unit_act_cached.cache_clear()
    P = cal.complete(P)
    rows = residual_table(P)
    tensions = [f"{r['id']}: observed {r['observed']} {r.get('unit') or ''}, model {r['predicted']:.4g} (z = {r['z']})"
                for r in rows if r.get("status") == "tension"]
    fitted_params = {s: {n: float(f"{P[s][n]:.6g}") for n in sorted(P[s])} for s in sorted(P)}
    doc = {
        "generated_by": "scripts/calibrate_pkpd.py",
        "generated": dt.date.today().isoformat(),
        "note": ("Fitted and copied parameter values (spec name -> parameter -> value), merged over the "
                 "starting values in the spec files at load. residuals: z = standardised residual; "
                 "|z| > 2 is reported as a tension. Do not edit by hand; re-run the script."),
        "parameters": fitted_params,
        "copied": {f"{s}.{n}": f"{s2}.{n2}" for (s, n), (s2, n2) in cal.COPIES.items()},
        "residuals": rows,
        "tensions": tensions,
    }
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    print(f"{sum(1 for r in rows if r.get('status') == 'tension')} tension(s):")
    for tline in tensions:
        print("   ", tline)
    if not args.dry_run:
        atomic_write(model_dir() / FITTED_FILE, text)
        print(f"wrote {model_dir() / FITTED_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
