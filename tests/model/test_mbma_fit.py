"""The MBMA fit: hand computations and recovery of known parameters from simulated trials."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kbone.model.mbma.config import load_config
from kbone.model.mbma.context import make_context
from kbone.model.mbma.data import BmdObs
from kbone.model.mbma.fit import WEEKS_PER_YEAR, Mixture, fit_bmd, time_loading


def _cfg(**beta_sd):
    cfg = load_config()
    pri = cfg.priors.model_copy(update={"beta_sd": beta_sd or {"exposure": 1.0},
                                        "tau_grid": cfg.priors.tau_grid.model_copy(update={"min": 0.0, "max": 0.0, "n": 2}),
                                        "time_constant_years": [math.inf]})
    return cfg.model_copy(update={"priors": pri})


def _ctx(**kw):
    base = dict(form="MK-7", dose_ug_per_day=180.0, terms={"postmenopausal"}, region="western", co_agents=set(),
                open_label=False)
    base.update(kw)
    return make_context(**base)


def _obs(ctx, y, se, t=52.0, site="lumbar_spine", record="t1"):
    return BmdObs(record=record, outcome="o", site=site, t_weeks=t, y=y, se=se, n_t=100, n_c=100, context=ctx,
                  comparison="a vs b", integrity="ok")


def test_time_loading_hand_values():
    one_year = WEEKS_PER_YEAR
    assert time_loading(one_year, 1.0) == pytest.approx(1 - math.exp(-1))
    assert time_loading(2 * one_year, math.inf) == pytest.approx(2.0)
    assert time_loading(one_year, 0.5) == pytest.approx(0.5 * (1 - math.exp(-2)))


def test_single_observation_posterior_matches_hand_conjugate_update():
    cfg = _cfg(exposure=0.8)
    ctx = _ctx()
    L = ctx.loss_rate("lumbar_spine")[0]
    y, se, t = 1.5, 0.6, 2 * WEEKS_PER_YEAR
    post = fit_bmd([_obs(ctx, y, se, t)], cfg)
    a = L * 2.0 * ctx.exposure           # loading times exposure: the regressor of beta
    prec = 1 / 0.8**2 + a**2 / se**2
    assert post.m[0, 0] == pytest.approx((a * y / se**2) / prec, rel=1e-9)
    assert post.S[0, 0, 0] == pytest.approx(1 / prec, rel=1e-9)
    # evidence: y ~ N(0, se^2 + a^2 0.8^2)
    assert post.log_evidence == pytest.approx(stats.norm.logpdf(y, 0, math.sqrt(se**2 + a**2 * 0.64)), rel=1e-9)


def test_mixture_quantiles_reduce_to_normal_and_mix_correctly():
    m = Mixture(np.array([1.0]), np.array([2.0]), np.array([0.5]))
    assert m.interval() == pytest.approx((2 - 1.959964 * 0.5, 2 + 1.959964 * 0.5), abs=1e-5)
    mix = Mixture(np.array([0.3, 0.7]), np.array([-1.0, 2.0]), np.array([1.0, 0.5]))
    rng = np.random.default_rng(3)
    draws = mix.sample(rng, 400_000)
    assert mix.quantile(0.9) == pytest.approx(np.quantile(draws, 0.9), abs=0.02)
    assert mix.mean == pytest.approx(0.3 * -1 + 0.7 * 2)


def test_recovers_known_parameters_from_simulated_trials():
    """40 simulated trials from known beta, tau = 0.3, T = 1 year: the posterior finds them."""
    cfg = load_config()
    rng = np.random.default_rng(11)
    truth = {"exposure": 0.4, "asian": 0.8, "open_label": 0.6}
    obs = []
    for i in range(40):
        asian = bool(i % 2)
        ctx = _ctx(form=("MK-4", "MK-7", "K1")[i % 3], dose_ug_per_day=(45000.0, 180.0, 1000.0)[i % 3],
                   region="asian" if asian else "western", open_label=bool((i // 2) % 2),
                   terms={"postmenopausal"} | ({"osteoporotic"} if i % 5 == 0 else set()))
        x = dict(zip(cfg.covariates, ctx.covariates("lumbar_spine", cfg) / ctx.exposure, strict=True))
        f = sum(truth.get(k, 0.0) * x[k] for k in cfg.covariates) * ctx.exposure + rng.normal(0, 0.3)
        for t in (26.0, 52.0, 104.0)[: 1 + i % 3]:
            a = ctx.loss_rate("lumbar_spine")[0] * float(time_loading(t, 1.0))
            obs.append(_obs(ctx, a * f + rng.normal(0, 0.15), 0.15, t, record=f"sim{i}"))
    post = fit_bmd(obs, cfg)
    for k, v in truth.items():
        j = cfg.covariates.index(k)
        mix = post.coef_mixture(j)
        assert abs(mix.mean - v) < 3 * math.sqrt(mix.var) + 0.05, (k, mix.mean, v)
    tau_mean = float(np.sum(post.w * post.tau))
    assert 0.12 < tau_mean < 0.6
    T_post = {T: post.w[post.T == T].sum() for T in np.unique(post.T)}
    assert max(T_post, key=T_post.get) in (0.5, 1.0, 2.0)
