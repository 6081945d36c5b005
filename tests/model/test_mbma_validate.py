"""Leave-one-trial-out: honest bookkeeping and held-out predictions that never see the held-out trial."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kbone.evidence.loader import load_records
from kbone.model.mbma.data import extract
from kbone.model.mbma.fit import fit_mbma
from kbone.model.validate import loo


@pytest.fixture(scope="module")
def report():
    return loo()


def test_every_usable_trial_is_held_out_once(report):
    ext = extract(load_records())
    assert {r.record for r in report.rows} == set(ext.trials)
    assert report.n_trials == len(ext.trials)


def test_summary_numbers_recount_from_rows(report):
    ls = [r for r in report.rows if r.kind == "bmd" and r.site == "lumbar_spine" and r.primary]
    assert report.coverage_lumbar_spine == pytest.approx(np.mean([r.pi_lower <= r.observed <= r.pi_upper for r in ls]))
    assert report.median_pi_width_lumbar_spine == pytest.approx(np.median([r.pi_upper - r.pi_lower for r in ls]))
    bmd = [r for r in report.rows if r.kind == "bmd"]
    assert report.rmse_bmd == pytest.approx(np.sqrt(np.mean([(r.observed - r.predicted) ** 2 for r in bmd])))
    assert report.coverage_target_met == (report.coverage_lumbar_spine >= 0.9)
    # a PI for an observed result is never narrower than that trial's own sampling error allows
    for r in bmd:
        assert r.pi_width >= 2 * 1.959 * r.se_observed


def test_cheung_and_two_other_trials_inside_their_held_out_intervals(report):
    inside = {r.record for r in report.rows if r.kind == "bmd" and r.primary and r.inside}
    assert "cheung2008" in inside
    assert len(inside - {"cheung2008"}) >= 2


def test_held_out_prediction_ignores_the_held_out_trial():
    """Excluding a trial removes every trace of it (its SDs included): same as a base without its record."""
    recs = load_records()
    ctx = next(o for o in extract(recs).bmd if o.record == "cheung2008").context
    a = fit_mbma(recs, exclude=["cheung2008"])
    b = fit_mbma([r for r in recs if r.id != "cheung2008"])
    full = fit_mbma(recs)
    pa, pb = a.predict_bmd(ctx, "lumbar_spine", 104), b.predict_bmd(ctx, "lumbar_spine", 104)
    assert pa.mean == pytest.approx(pb.mean, rel=1e-12)
    assert pa.interval() == pytest.approx(pb.interval(), rel=1e-9)
    assert full.predict_bmd(ctx, "lumbar_spine", 104).mean != pytest.approx(pa.mean)


def test_validate_cli_json_prints_both_numbers(cli, tmp_path):
    png = tmp_path / "cal.png"
    code, out, _ = cli("trial", "validate", "--json", "--plot", str(png))
    assert code == 0
    d = json.loads(out)
    assert 0 <= d["coverage_lumbar_spine"] <= 1
    assert d["median_pi_width_lumbar_spine"] > 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
