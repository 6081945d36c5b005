"""Fit the bone-outcome MBMA to the evidence base and write the fitted parameters with provenance.

    .venv/bin/python scripts/fit_mbma.py [--exclude-study ID ...] [--include-flagged] [--include-retracted]
                                          [--out src/kbone/data/model/mbma_fit.json]

The fit is exact and deterministic (grid posterior, no sampling): re-running on the same evidence
gives the same file. The file records the evidence content hash, the configuration files' hashes, the
exposure method, every trial used with its data flags, and every exclusion with its reason.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import date
from pathlib import Path

from kbone.evidence.loader import content_hash, load_records, yaml_files
from kbone.model.mbma import exposure
from kbone.model.mbma.fit import fit_mbma
from kbone.output import atomic_write, dumps
from kbone.paths import data_path

DEFAULT_OUT = data_path("model", "mbma_fit.json")


def provenance_hashes() -> dict:
    out = {"evidence": content_hash(yaml_files())}
    for name in ("mbma_config.yaml", "bmd_loss_rates.yaml"):
        out[name] = hashlib.sha256(data_path("model", name).read_bytes()).hexdigest()[:16]
    return out


def build(exclude: list[str], include_flagged: bool, include_retracted: bool) -> dict:
    records = load_records()
    fit = fit_mbma(records, exclude=exclude, include_flagged=include_flagged, include_retracted=include_retracted)
    ext = fit.data
    return {
        "model": "kbone bone-outcome MBMA (see data/model/mbma_config.yaml for the equations)",
        "script": "scripts/fit_mbma.py",
        "fitted_on": date.today().isoformat(),
        "hashes": provenance_hashes(),
        "options": fit.options,
        "exposure_method": exposure.method(),
        "parameters": fit.parameters(),
        "sd_imputation": ext.sd_imputed,
        "bmd_observations": [
            {"record": o.record, "outcome": o.outcome, "comparison": o.comparison, "site": o.site, "t_weeks": o.t_weeks,
             "difference": o.y, "se": o.se, "n_t": o.n_t, "n_c": o.n_c, "integrity": o.integrity,
             "context": o.context.summary(), "flags": o.flags}
            for o in ext.bmd],
        "fracture_observations": [
            {"record": o.record, "outcome": o.outcome, "fracture": o.fracture, "t_weeks": o.t_weeks, "log_rr": o.y,
             "se": o.se, "events": [o.events_t, o.events_c], "n": [o.n_t, o.n_c], "flags": o.flags}
            for o in ext.fractures],
        "excluded": [e.model_dump() for e in ext.excluded],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exclude-study", action="append", default=[])
    ap.add_argument("--include-flagged", action="store_true")
    ap.add_argument("--include-retracted", action="store_true")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args(argv)
    out = build(a.exclude_study, a.include_flagged, a.include_retracted)
    atomic_write(a.out, dumps(out) + "\n")
    p = out["parameters"]["bmd"]
    print(f"wrote {a.out}: {p['n_observations']} BMD results from {p['n_trials']} trials, "
          f"{out['parameters']['fracture']['n_observations']} fracture results; exposure {out['exposure_method']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
