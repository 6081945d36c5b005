"""Predictions, power and replicates: analytic formulas by hand, simulation vs analysis, backends."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from kbone.evidence.loader import load_records
from kbone.model import trial
from kbone.model.mbma.fit import fit_mbma

EX = "examples/trials/"


@pytest.fixture(scope="module")
def recs():
    return load_records()


@pytest.fixture(scope="module")
def fit(recs):
    return fit_mbma(recs)


def _pred(fit, recs, **kw):
    d = trial.load_design({"population": {"terms": ["postmenopausal"], "region": "western"}, "n_per_arm": 80,
                           "duration_weeks": 104, "intervention": {"form": "MK-7", "amount": 180, "unit": "ug"},
                           "site": "lumbar_spine", "dropout": 0.2, "sd_percent": 3.0, **kw})
    return trial.predict(fit, d, recs)


def test_power_at_mean_and_n_for_target_match_hand_formulas(fit, recs):
    p = _pred(fit, recs)
    mu = p.mean_mix.mean
    se = 3.0 * math.sqrt(2 / (80 * 0.8))
    z = stats.norm.isf(0.025)
    assert p.se == pytest.approx(se)
    power, _ = trial.power_at(p, 80)
    assert power == pytest.approx(stats.norm.sf(z - mu / se), rel=1e-9)
    n_pow, _, _ = trial.n_for_power(p, 0.8)
    n_hand = 2 * 3.0**2 * (z + stats.norm.ppf(0.8)) ** 2 / mu**2 / 0.8
    assert n_pow == math.ceil(n_hand) or abs(n_pow - n_hand) < 1.01


def test_simulated_success_matches_analytic_assurance(fit, recs):
    p = _pred(fit, recs)
    sim, sims = trial.simulate(p, 3000, seed=7)
    _, assurance = trial.power_at(p, 80)
    # Welch t vs normal and binomial dropout: agreement within Monte Carlo error (+ a small model gap)
    assert abs(sim.success_rate - assurance) < 4 * sim.success_mc_se + 0.01
    # the simulated observed effects follow the predictive distribution: ~95 % inside the PI
    assert 0.93 < sim.observed_coverage_of_pi < 0.97
    assert sims.shape == (7, 3000)


def test_same_seed_same_result_and_blocks_independent_of_backend_order(fit, recs):
    p = _pred(fit, recs)
    spec = trial.replicate_spec(p)
    a = trial.run_replicates(spec, 600, seed=5)
    b = trial.run_replicates(spec, 600, seed=5)
    c = trial.run_replicates(spec, 600, seed=6)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # block k depends only on (seed, k): the first 500 of 600 equal the 500 of a 500-replicate run
    assert np.array_equal(trial.run_replicates(spec, 500, seed=5), a[:, :500])


def test_dask_backend_identical_to_inprocess(fit, recs):
    from dask.distributed import Client, LocalCluster

    p = _pred(fit, recs)
    spec = trial.replicate_spec(p)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, Client(cl) as client:
        d = trial.run_replicates(spec, 900, seed=11, backend="dask", client=client)
    assert np.array_equal(d, trial.run_replicates(spec, 900, seed=11))


def test_fracture_design_rr_and_simulation(fit, recs):
    d = trial.load_design(EX + "mk4_45mg_vertebral_fracture.yaml")
    p = trial.predict(fit, d, recs)
    sim, sims = trial.simulate(p, 2000, seed=3)
    r = trial.result(fit, p, simulated=sim)
    assert r.unit == "risk ratio" and r.pi_lower < r.effect < r.pi_upper
    # replicate rows 4, 5 are completers; rows 0 the observed log RR: the mean control risk is the design's
    assert np.mean(sims[4]) == pytest.approx(d.n_per_arm * (1 - d.dropout), rel=0.01)
    _, assurance = trial.power_at(p, d.n_per_arm)
    assert abs(sim.success_rate - assurance) < 4 * sim.success_mc_se + 0.02


def test_cheung_design_held_out_interval_contains_reported_result(cli):
    code, out, _ = cli("trial", "simulate", EX + "cheung2008_k1_osteopenic.yaml", "--exclude-study", "cheung2008",
                       "--replicates", "200", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["pi_lower"] <= -0.06 <= d["pi_upper"]         # ECKO: -0.06 (95% CI -0.67 to 0.54)
    assert "cheung2008" not in d["trials_used"] and d["excluded_on_request"] == ["cheung2008"]
    assert d["unit"].startswith("percentage points")


def test_intervals_nest_observed_outside_mean(cli):
    code, out, _ = cli("trial", "simulate", EX + "mk4_45mg_osteoporosis.yaml", "--exclude-study", "shiraki2000",
                       "--replicates", "100", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["mean_pi_lower"] <= d["effect"] <= d["mean_pi_upper"]
    assert d["pi_lower"] <= d["mean_pi_lower"] and d["pi_upper"] >= d["mean_pi_upper"]


def test_mk7_power_gives_n_and_curve_plot(cli, tmp_path):
    png = tmp_path / "power.png"
    code, out, _ = cli("trial", "power", EX + "mk7_180ug_3y.yaml", "--target", "0.8", "--plot", str(png), "--json")
    assert code == 0
    d = json.loads(out)
    assert png.read_bytes()[:4] == b"\x89PNG"
    if d["n_for_target"] is None:
        assert d["target_note"]
    else:
        assert d["n_for_target"] > 0
    curve = d["power_curve"]
    assert all(b["power"] >= a["power"] - 1e-12 for a, b in zip(curve, curve[1:], strict=False))
    assert all(b["assurance"] >= a["assurance"] - 1e-12 for a, b in zip(curve, curve[1:], strict=False))
