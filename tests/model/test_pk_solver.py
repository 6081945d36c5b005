"""The generic solvers against hand computations and a reference implementation (scipy solve_ivp)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import expm as scipy_expm

from kbone.model.linear import Bolus, Forcing, LinearProblem, LinearSystem, RateChange, expm, solve
from kbone.model.ode import ODEProblem, solve_ode


def one_cmt_oral(ka, k, n=1):
    return np.broadcast_to(np.array([[-ka, 0.0], [ka, -k]]), (n, 2, 2)).copy()


def test_bateman_equation_exact():
    # C(t) = D ka / (V (ka - k)) (e^{-kt} - e^{-ka t})  — textbook one-compartment oral absorption
    ka, k, V, D = 1.3, 0.07, 12.0, 100.0
    t = np.linspace(0, 72, 145)
    y = solve(LinearProblem(one_cmt_oral(ka, k), np.zeros((1, 2)), [Bolus(0.0, 0, D)]), t)
    ref = D * ka / (V * (ka - k)) * (np.exp(-k * t) - np.exp(-ka * t))
    assert np.max(np.abs(y[:, 1, 0] / V - ref)) < 1e-12


def test_two_compartment_iv_biexponential():
    # micro-constants → macro-constants alpha, beta and intercepts A, B (Gibaldi & Perrier)
    k10, k12, k21, V, D = 0.5, 0.3, 0.05, 5.0, 10.0
    s = k10 + k12 + k21
    alpha = (s + np.sqrt(s * s - 4 * k10 * k21)) / 2
    beta = (s - np.sqrt(s * s - 4 * k10 * k21)) / 2
    A = D / V * (alpha - k21) / (alpha - beta)
    B = D / V * (k21 - beta) / (alpha - beta)
    K = np.array([[[-(k10 + k12), k21], [k12, -k21]]])
    t = np.linspace(0, 100, 201)
    y = solve(LinearProblem(K, np.zeros((1, 2)), [Bolus(0.0, 0, D)]), t)
    ref = A * np.exp(-alpha * t) + B * np.exp(-beta * t)
    assert np.max(np.abs(y[:, 0, 0] / V - ref)) < 1e-12


def test_accumulation_ratio_matches_formula():
    ka, k, tau = 2.0, np.log(2) / 68.0, 24.0
    doses = [Bolus(float(t), 0, 1.0) for t in np.arange(0, 60 * 24, tau)]
    t = np.array([tau - 1e-9, 59 * 24 - 1e-9])   # just before the 2nd and the 60th dose
    y = solve(LinearProblem(one_cmt_oral(ka, k), np.zeros((1, 2)), doses), t)
    ratio = y[1, 1, 0] / y[0, 1, 0]
    expected = (1 - np.exp(-k * 59 * tau)) / (1 - np.exp(-k * tau))   # geometric series of troughs
    assert ratio == pytest.approx(expected, rel=1e-6)


def test_periodic_trough_equals_long_run():
    K = one_cmt_oral(1.0, 0.05)
    sys_ = LinearSystem(K)
    x = sys_.periodic_trough(np.array([[1.0, 0.0]]), 12.0)
    doses = [Bolus(float(t), 0, 1.0) for t in np.arange(0, 400 * 12, 12.0)]
    y = solve(LinearProblem(K, np.zeros((1, 2)), doses), np.array([399 * 12 - 1e-9]))
    assert y[0, :, 0] == pytest.approx(x[0], rel=1e-8)


def test_infusion_and_steady_state():
    K = one_cmt_oral(1.0, 0.1)
    t = np.linspace(0, 100, 11)
    y = solve(LinearProblem(K, np.zeros((1, 2)), rates=[RateChange(0.0, 1, 5.0), RateChange(50.0, 1, -5.0)]), t)
    on = 5 / 0.1 * (1 - np.exp(-0.1 * np.minimum(t, 50)))
    ref = np.where(t <= 50, on, on * np.exp(-0.1 * (t - 50)))
    assert np.max(np.abs(y[:, 1, 0] - ref)) < 1e-10
    assert LinearSystem(K).steady_state_infusion(np.array([[0.0, 5.0]]))[0, 1] == pytest.approx(50.0)


@pytest.mark.parametrize("dense", [False, True])
def test_first_order_hold_forcing_is_exact_for_ramps(dense):
    k = 0.2
    K = np.array([[[-k]]])
    t = np.linspace(0, 30, 31)
    f = Forcing(0, np.array([0.0, 30.0]), np.array([[0.0], [30.0]]))    # input u(t) = t
    y = solve(LinearProblem(K, np.zeros((1, 1)), forcings=[f]), t, system=LinearSystem(K, force_dense=dense))
    ref = t / k - (1 - np.exp(-k * t)) / k ** 2
    assert np.max(np.abs(y[:, 0, 0] - ref)) < 1e-9


def test_transit_chain_dense_path_matches_erlang_density():
    # gut → t1 → t2 → central (equal rates): repeated eigenvalues, so the dense path is used
    ktr, n = 0.6, 3
    K = np.zeros((1, 4, 4))
    for i in range(3):
        K[0, i, i] = -ktr
        K[0, i + 1, i] = ktr
    sys_ = LinearSystem(K)
    assert not sys_.modal
    t = np.linspace(0, 20, 41)
    y = solve(LinearProblem(K, np.zeros((1, 4)), [Bolus(0.0, 0, 1.0)]), t, system=sys_)
    # amount arrived in central = Erlang(3, ktr) CDF
    cdf = 1 - np.exp(-ktr * t) * (1 + ktr * t + (ktr * t) ** 2 / 2)
    assert np.max(np.abs(y[:, 3, 0] - cdf)) < 1e-12
    assert n == 3


def test_linear_solver_agrees_with_solve_ivp_for_many_subjects():
    rng = np.random.default_rng(0)
    n = 20
    ka, k10, k12, k21 = (rng.uniform(0.2, 2, n), rng.uniform(0.01, 0.3, n), rng.uniform(0.01, 0.5, n),
                         rng.uniform(0.01, 0.2, n))
    K = np.zeros((n, 3, 3))
    K[:, 0, 0] = -ka
    K[:, 1, 0] = ka
    K[:, 1, 1] = -(k10 + k12)
    K[:, 1, 2] = k21
    K[:, 2, 1] = k12
    K[:, 2, 2] = -k21
    doses = [Bolus(float(t), 0, rng.uniform(50, 150, n)) for t in (0.0, 24.0, 30.5, 72.0)]
    rates = [RateChange(10.0, 1, 2.0), RateChange(40.0, 1, -2.0)]
    t = np.linspace(0, 120, 241)
    lin = solve(LinearProblem(K, np.zeros((n, 3)), doses, rates), t)
    ref = solve_ode(ODEProblem(K, np.zeros((n, 3)), doses, rates), t, method="RK45", rtol=1e-10, atol=1e-10)
    assert np.max(np.abs(lin - ref)) < 1e-6 * np.max(np.abs(ref))


def test_batched_expm_matches_scipy():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 6, 6)) * 4
    ref = np.stack([scipy_expm(a) for a in A])
    assert np.max(np.abs(expm(A) - ref) / np.max(np.abs(ref), axis=(1, 2), keepdims=True)) < 1e-11


def test_ode_michaelis_menten_satisfies_integrated_equation():
    # dC/dt = -Vmax C / (Km + C) (IV bolus): Km ln(C0/C) + (C0 - C) = Vmax t
    Vmax, Km, C0 = 2.0, 1.5, 10.0
    K = np.zeros((1, 1, 1))

    def nl(t, x):
        return -Vmax * x / (Km + x)

    t = np.array([0.0, 1.0, 3.0, 6.0])
    y = solve_ode(ODEProblem(K, np.array([[C0]]), nonlinear=nl), t, rtol=1e-10, atol=1e-12)[:, 0, 0]
    lhs = Km * np.log(C0 / y) + (C0 - y)
    assert lhs == pytest.approx(Vmax * t, abs=1e-6)


def test_solvers_know_nothing_of_vitamin_k():
    root = Path(__file__).resolve().parents[2] / "src" / "kbone" / "model"
    for name in ("linear.py", "ode.py", "system.py", "spec.py", "expr.py"):
        text = (root / name).read_text(encoding="utf-8").lower()
        for word in ("vitamin", "warfarin", "phylloquinone", "menaquinone", "mk-7", "osteocalcin"):
            assert word not in text, f"{name} mentions {word}"


def test_unobserved_modes_are_skipped_without_changing_outputs():
    # gut → central, plus an effect site driven by central that nothing observes
    K = np.array([[[-1.0, 0.0, 0.0], [1.0, -0.1, 0.0], [0.0, 0.05, -0.05]]])
    prob = LinearProblem(K, np.zeros((1, 3)), [Bolus(float(t), 0, 1.0) for t in range(0, 96, 24)],
                         [RateChange(0.0, 0, 0.2)])
    t = np.linspace(0, 120, 61)
    C = np.array([[0.0, 1.0, 0.0]])
    full = solve(prob, t)[:, 1, 0]
    part = solve(prob, t, C=C)[:, 0, 0]
    assert np.max(np.abs(full - part)) < 1e-12
