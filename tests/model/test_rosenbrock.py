"""The Rosenbrock integrators (numpy, batched over subjects; compiled with numba) against theory (order,
L-stability), a reference implementation (scipy solve_ivp at tight tolerance) and each other."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from kbone.model.linear import Bolus
from kbone.model.ode import TABLEAUS, ODEProblem, _Rosenbrock, solve_ode
from kbone.model.spec import ModelSpec
from kbone.model.system import Individualised


def _riccati_problem(n: int = 1) -> ODEProblem:
    # x' = -x², x(0) = 1  →  x(t) = 1 / (1 + t)
    def nl(t, x):
        return -x ** 2

    return ODEProblem(np.zeros((n, 1, 1)), np.ones((n, 1)), nonlinear=nl, nonlinear_timed=False)


@pytest.mark.parametrize("name", sorted(TABLEAUS))
def test_tableau_reaches_its_order(name):
    """Fixed steps on x' = -x²: halving h divides the global error at t = 1 by 2^p."""
    tab = TABLEAUS[name]
    prob = _riccati_problem()
    ros = _Rosenbrock(prob, lambda t, x: prob.nonlinear(t, x), lambda t, x: np.zeros_like(x), tab, 1e-6, 1e-9, np.inf)

    def error(steps: int) -> float:
        x, h = np.ones((1, 1)), 1.0 / steps
        t = np.zeros(1)
        for _ in range(steps):
            x, _e = ros.step(t, x, np.full(1, h))
            t = t + h
        return abs(float(x[0, 0]) - 0.5)

    e1, e2 = error(16), error(32)
    assert np.log2(e1 / e2) == pytest.approx(tab.order, abs=0.35)


@pytest.mark.parametrize("name", sorted(TABLEAUS))
def test_tableau_is_l_stable(name):
    """One step of size h on x' = λx with hλ = -1e8 damps x by at least 1000 (R(∞) = 0)."""
    prob = ODEProblem(np.full((1, 1, 1), -1e8), np.ones((1, 1)), nonlinear=None)
    def rhs(t, x):
        return np.einsum("ijn,jn->in", np.transpose(prob.K, (1, 2, 0)), x)

    ros = _Rosenbrock(prob, rhs, rhs, TABLEAUS[name], 1e-6, 1e-9, np.inf)
    x, _ = ros.step(np.zeros(1), np.ones((1, 1)), np.ones(1))
    assert abs(float(x[0, 0])) < 1e-3


def test_adaptive_rosenbrock_matches_exact_solution_per_subject():
    """Subjects with their own clocks: x' = -k x² for three k, exact 1 / (1 + k t)."""
    k = np.array([0.1, 1.0, 30.0])

    def nl(t, x):
        return -k * x ** 2

    t = np.array([0.0, 0.5, 2.0, 10.0])
    prob = ODEProblem(np.zeros((3, 1, 1)), np.ones((3, 1)), nonlinear=nl, nonlinear_timed=False)
    y = solve_ode(prob, t, rtol=1e-8, atol=1e-12)[:, 0, :]
    assert y == pytest.approx(1.0 / (1.0 + np.outer(t, k)), rel=1e-6)


SPEC = """
name: test_saturable
description: one-compartment oral model with saturable elimination written with where/clip/minimum/exp
time_unit: h
amount_unit: nmol
compartments: [{name: gut}, {name: central}, {name: effect}]
parameters:
  ka: {value: 0.8, unit: 1/h, iiv_cv: 0.3, assumption: true}
  CL: {value: 2.0, unit: L/h, iiv_cv: 0.3, assumption: true}
  V: {value: 10.0, unit: L, assumption: true}
  Vmax: {value: 40.0, unit: nmol/h, iiv_cv: 0.4, assumption: true}
  Km: {value: 0.3, unit: nmol/L, assumption: true}
  keo: {value: 0.05, unit: 1/h, assumption: true}
covariates: {WT: 70.0}
derived:
  Vi: V * (WT / 70)
flows:
  - {from: gut, to: central, rate: ka}
  - {from: central, to: null, rate: CL / Vi}
  - {from: effect, to: null, rate: keo}
nonlinear:
  central: "-where(central > 0, Vmax * (central / Vi) / (Km + minimum(central / Vi, 1e12)), 0) * exp(0 * central)"
  effect: "keo * sqrt(abs(central / Vi)) * Km / (Km + clip(central, 0, 1e12) / Vi)"
outputs:
  concentration: central / Vi
"""


def _model(n: int = 20, seed: int = 3) -> Individualised:
    spec = ModelSpec.model_validate(yaml.safe_load(SPEC))
    rng = np.random.default_rng(seed)
    etas = {k: np.exp(rng.normal(0, 0.3, n)) for k in ("ka", "CL", "Vmax")}
    params = {k: spec.parameters[k].value * etas[k] for k in etas}
    return Individualised(spec, n, params=params, covariates={"WT": rng.uniform(45, 95, n)})


def _doses(model: Individualised) -> list[Bolus]:
    return [model.bolus(24.0 * d, "gut", 500.0 if d % 2 else 2000.0) for d in range(4)]


def test_compiled_kernel_equals_numpy_integrator(monkeypatch, tmp_path):
    pytest.importorskip("numba")
    monkeypatch.setenv("KBONE_HOME", str(tmp_path))
    t = np.linspace(0.0, 96.0, 49)
    monkeypatch.setenv("KBONE_JIT", "1")
    m1 = _model()
    assert m1.compiled is not None and (tmp_path / "jit").is_dir()
    y_jit = m1.solve(t, boluses=_doses(m1))
    monkeypatch.setenv("KBONE_JIT", "0")
    m2 = _model()
    assert m2.compiled is None
    y_np = m2.solve(t, boluses=_doses(m2))
    assert np.max(np.abs(y_jit - y_np)) <= 1e-9 * np.max(np.abs(y_np))


@pytest.mark.parametrize("jit", ["1", "0"])
def test_rosenbrock_default_tolerance_against_solve_ivp(monkeypatch, tmp_path, jit):
    """The default tolerances (rtol 1e-4) against RK45 at rtol 1e-10 on the saturable model."""
    monkeypatch.setenv("KBONE_HOME", str(tmp_path))
    monkeypatch.setenv("KBONE_JIT", jit)
    t = np.linspace(0.0, 96.0, 49)
    m = _model(8)
    y = m.solve(t, boluses=_doses(m))
    ref = m.solve(t, boluses=_doses(m), method="RK45", rtol=1e-10, atol=1e-10)
    scale = np.max(np.abs(ref), axis=0, keepdims=True)
    assert np.max(np.abs(y - ref) / scale) < 1e-3


def test_generated_code_is_the_spec(tmp_path, monkeypatch):
    """The compiled term is generated from the spec text: states from x, parameters from p, functions mapped."""
    pytest.importorskip("numba")
    from kbone.model.jit import generate

    spec = ModelSpec.model_validate(yaml.safe_load(SPEC))
    src, params = generate(spec)
    assert params == sorted(params) and {"Vmax", "Km", "Vi", "keo"} <= set(params)
    assert "v_central = x[1]" in src and "v_gut" not in src          # only the states the term reads
    assert "if" in src and "min(max(" in src and "_exp(" in src and "_sqrt(" in src


def test_unwritable_kernel_folder_falls_back_to_numpy(monkeypatch, tmp_path):
    """A KBONE_HOME where the generated kernel cannot be written still solves (numpy integrator), same result."""
    pytest.importorskip("numba")
    import kbone.model.jit as jit

    monkeypatch.setenv("KBONE_HOME", str(tmp_path))
    monkeypatch.setenv("KBONE_JIT", "1")
    monkeypatch.setattr(jit, "_MODULES", {})
    (tmp_path / "jit").write_text("not a folder", encoding="utf-8")       # mkdir of jit/ fails
    t = np.linspace(0.0, 48.0, 9)
    with pytest.warns(UserWarning, match="numpy integrator"):
        m = _model(5)
        assert m.compiled is None
    y = m.solve(t, boluses=_doses(m)[:2])
    monkeypatch.setenv("KBONE_JIT", "0")
    m0 = _model(5)
    assert np.array_equal(y, m0.solve(t, boluses=_doses(m0)[:2]))
