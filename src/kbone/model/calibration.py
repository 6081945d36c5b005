"""Predictions of the published points in ``data/model/targets.yaml``, for fitting and checking.

``predict(target, P)`` returns the model's value of one target with parameter values ``P``
(spec name → parameter → value; missing values come from the shipped files), and ``residual`` turns
it into a standardised residual. ``scripts/calibrate_pkpd.py`` fits the stages in order
(``STAGES``) and writes ``data/model/fitted.yaml``; the tests recompute the recorded predictions.
Units follow the targets (nmol/L, nmol·h/L, h, ratios, INR).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from kbone.model.library import FORMS, form_key, spec
from kbone.model.pd import Carboxylation
from kbone.model.pk import Dose, FormPK
from kbone.model.population import make_population
from kbone.model.warfarin import WarfarinModel

STAGES = ("pk_MK-4", "pk_K1", "pk_MK-7", "pd", "inr")

# parameters fitted in each stage: (spec, parameter)
FIT_PARAMETERS: dict[str, list[tuple[str, str]]] = {
    "pk_MK-4": [("pk_MK-4", p) for p in ("CL", "V", "Vmax", "Km", "f0", "hfat", "F50")],
    "pk_K1": [("pk_K1", p) for p in ("CL", "V1", "Q", "V2", "MAT", "F_food", "F50")],
    "pk_MK-7": [("pk_MK-7", p) for p in ("CL", "V", "ka")],
    "pd": [("pd_carboxylation", p) for p in ("u_min", "EC50_OC", "h_carb", "EC50_MGP", "Dmax", "w_ext_MK7",
                                             "w_ext_MK4", "vka_ext")],
    "inr": [("inr", "KH"), ("pd_carboxylation", "w_hep_MK7")],
}
# parameters set equal to a fitted one (assumptions stated in the spec files)
COPIES: dict[tuple[str, str], tuple[str, str]] = {
    ("pk_K1", "f0"): ("pk_MK-4", "f0"), ("pk_K1", "hfat"): ("pk_MK-4", "hfat"),
    ("pk_MK-7", "f0"): ("pk_MK-4", "f0"), ("pk_MK-7", "hfat"): ("pk_MK-4", "hfat"),
    ("pk_MK-7", "F50"): ("pk_MK-4", "F50"),
    ("pd_carboxylation", "w_hep_MK4"): ("pd_carboxylation", "w_ext_MK4"),
}
NO_DIET = {f: 0.0 for f in FORMS}


def value(P: dict, spec_name: str, name: str) -> float:
    if name in P.get(spec_name, {}):
        return float(P[spec_name][name])
    if (spec_name, name) in COPIES:
        s, n = COPIES[(spec_name, name)]
        return value(P, s, n)
    return float(spec(spec_name).parameters[name].value)


def complete(P: dict) -> dict:
    """``P`` with copied parameters filled in (so every consumer sees the same values)."""
    out = {k: dict(v) for k, v in P.items()}
    for (s, n), _src in COPIES.items():
        out.setdefault(s, {})[n] = value(P, s, n)
    return out


def _pop(intake=None, **kw):
    return make_population(1, typical=True, weight=70.0, age=kw.pop("age", 65.0), cyp2c9=kw.pop("cyp2c9", "*1/*1"),
                           vkorc1=kw.pop("vkorc1", "AG"), intake={**NO_DIET, **(intake or {})}, **kw)


def _pk(form: str, P: dict, intake=None, pop=None) -> FormPK:
    P = complete(P)
    return FormPK(form, pop or _pop(intake), overrides=P.get(f"pk_{form}"), pd_overrides=P.get("pd_carboxylation"))


def _profile(form, P, doses: list[Dose], t: np.ndarray, intake=None) -> np.ndarray:
    return _pk(form, P, intake).run(t, doses, names=("concentration_nmol_l",))["concentration_nmol_l"][:, 0]


def _tmax(t, c) -> float:
    i = int(np.argmax(c))
    if 0 < i < len(c) - 1:
        y0, y1, y2 = c[i - 1], c[i], c[i + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            return float(t[i] + 0.5 * (y0 - y2) / den * (t[1] - t[0]))
    return float(t[i])


def _auc(form, P, dose_ug, fat, to_h, food=False) -> float:
    t = np.linspace(0.0, to_h, int(to_h * 40) + 1)
    c = _profile(form, P, [Dose(0.0, dose_ug, fat, food=food)], t)
    return float(np.trapezoid(c, t))


def _phases(form, P, compartments) -> np.ndarray:
    pk = _pk(form, P)
    idx = [pk.model.index(c) for c in compartments]
    K = pk.model.K[0][np.ix_(idx, idx)]
    return np.sort(np.log(2) / np.abs(np.linalg.eigvals(K).real))


def _trough(form, P, daily_ug) -> float:
    pk = _pk(form, P)
    i = pk.model.index("gut")
    dose = np.zeros((1, pk.model.m))
    dose[0, i] = pk._amount_scale(Dose(0.0, 1.0))[0] * daily_ug
    x = pk.model.system.periodic_trough(dose, 24.0)
    st = {c: x[None, :, k] for k, c in enumerate(pk.model.spec.state_names)}
    return float(pk.model.outputs(st, np.array([0.0]), None, ["concentration_nmol_l"])["concentration_nmol_l"][0, 0])


def mean_concentration(form, P, daily_ug, *, intake=None, every_h=24.0, food=False) -> float:
    """Time-averaged plasma concentration (nmol/L) at steady state (diet ``intake`` + supplement)."""
    return mean_output(form, P, daily_ug, "concentration_nmol_l", intake=intake, every_h=every_h, food=food)


def mean_output(form, P, daily_ug, name, *, intake=None, every_h=24.0, food=False) -> float:
    """Time-averaged output ``name`` at steady state (diet ``intake`` + ``daily_ug`` supplement, or extra food)."""
    pk = _pk(form, P, intake)
    if food:   # extra food intake: raise the habitual intake instead of a supplement
        hab = pk.pop.intake[form] + daily_ug
        return float(pk.mean_steady_state(0.0, habitual=hab, names=(name,))[name][0])
    return float(pk.mean_steady_state(daily_ug, every_h=every_h, names=(name,))[name][0])


def weights(P: dict, site: str) -> dict[str, float]:
    return {f: value(P, "pd_carboxylation", f"w_{site}_{form_key(f)}") for f in FORMS}


# ---- cached PK quantities for the PD and INR stages (PK parameters are fixed there) --------------
def _pk_key(P: dict) -> tuple:
    return tuple(sorted((s, k, round(v, 12)) for s in ("pk_K1", "pk_MK-4", "pk_MK-7")
                        for k, v in complete(P).get(s, {}).items()))


@lru_cache(maxsize=4096)
def _unit_act_cached(key: tuple, form: str, daily: float, diet: tuple, every_h: float, food: bool, site: str) -> float:
    P: dict = {}
    for s, k, v in key:
        P.setdefault(s, {})[k] = v
    kf = form_key(form)
    P["pd_carboxylation"] = {f"w_ext_{kf}": 1.0, f"w_hep_{kf}": 1.0}   # effect sites are linear in w
    return mean_output(form, P, daily, f"act_{site}", intake=dict(diet), every_h=every_h, food=food)


def unit_activity(P, form, daily, diet: dict, site: str, every_h=24.0, food=False) -> float:
    """Time-averaged effect-site activity of ``form`` at relative potency 1 (K1-equivalent nmol/L)."""
    return _unit_act_cached(_pk_key(P), form, float(daily), tuple(sorted(diet.items())), float(every_h), bool(food),
                            site)


def activity(P, site: str, diet: dict, extra: dict | None = None) -> float:
    """K1-equivalent activity at ``site`` (ext/hep) for habitual ``diet`` plus ``extra`` (form → (µg/day, every_h, food))."""
    w = weights(P, site)
    tot = sum(w[f] * unit_activity(P, f, 0.0, diet, site) for f in FORMS if diet.get(f, 0) > 0)
    for f, (daily, every_h, food) in (extra or {}).items():
        tot += w[f] * (unit_activity(P, f, daily, diet, site, every_h, food) - unit_activity(P, f, 0.0, diet, site))
    return tot


def _markers(P, act, e_vka=0.0) -> dict:
    P = complete(P)
    m = Carboxylation(_pop(), P.get("pd_carboxylation")).markers(np.array([[act]]), e_vka)
    return {k: float(v[0, 0]) for k, v in m.items()}


@lru_cache(maxsize=64)
def _e_at_inr(inr: float) -> float:
    wm = WarfarinModel(_pop())
    d = wm.titrate(inr, np.ones(1))
    return float(wm.mean_inhibition(d, np.ones(1), np.ones(1))[0])


def _warfarin(P, diet, inr, pop=None):
    P = complete(P)
    pop = pop or _pop(diet)
    wm = WarfarinModel(pop, inr_overrides=P.get("inr"))
    return wm


# ---- predictions ------------------------------------------------------------------------------
def predict(t: dict, P: dict | None = None) -> float:
    """The model's value of target ``t`` (a dict from targets.yaml) under parameters ``P``."""
    P = complete(P or {})
    d = t.get("design", {})
    tid = t["id"]
    form = d.get("form")
    if tid.startswith("uematsu_mk4_auc_ratio"):
        return _auc(form, P, d["dose_ug"], d["fat_g"], d["auc_to_h"]) / _auc(form, P, d["dose_ug"], d["ref_fat_g"], d["auc_to_h"])
    if "auc_to_h" in d and "food_dose_ug" in d:
        return (_auc(form, P, d["food_dose_ug"], d["fat_g"], d["auc_to_h"], food=True)
                / _auc(form, P, d["dose_ug"], d["fat_g"], d["auc_to_h"]))
    if "auc_to_h" in d:
        return _auc(form, P, d["dose_ug"], d.get("fat_g"), d["auc_to_h"])
    if tid == "sato_mk4_420_not_detected":
        tt = np.linspace(0.0, d["window_h"], 721)
        return float(np.max(_profile(form, P, [Dose(0.0, d["dose_ug"], d.get("fat_g"))], tt)))
    if tid == "mk4_half_life_secondary":
        tt = np.array([d["from_h"], d["to_h"]], dtype=float)
        c = _profile(form, P, [Dose(0.0, d["dose_ug"], d.get("fat_g"))], tt)
        return float(np.log(2) * (tt[1] - tt[0]) / np.log(c[0] / c[1]))
    if "phase" in d:
        ph = _phases(form, P, d["compartments"])
        return float(ph[0] if d["phase"] == "fast" else ph[-1])
    if tid.endswith("tmax") or tid.endswith("tmax_fat_meal"):
        tt = np.linspace(0.0, 36.0, 1441)
        food = "food_dose_ug" in d
        c = _profile(form, P, [Dose(0.0, d.get("food_dose_ug", d.get("dose_ug")), d.get("fat_g"), food=food)], tt)
        return _tmax(tt, c)
    if tid == "garber_k1_fat_30_vs_45_percent":
        pk = _pk(form, P)
        return float(pk.model.dose_factor(FAT=d["fat_g"])[0] / pk.model.dose_factor(FAT=d["ref_fat_g"])[0])
    if tid == "ndns_k1_baseline":
        pk = _pk(form, P, {form: d["intake_ug_per_day"]})
        return float(pk.run(np.array([0.0]))["concentration_nmol_l"][0, 0])
    if tid == "novotny_k1_kale_peak":
        tt = np.linspace(0.0, 36.0, 721)
        return float(np.max(_profile(form, P, [Dose(0.0, d["food_dose_ug"], d["fat_g"], food=True)], tt)))
    if tid == "schurgers2007_mk7_k1_ratio":
        return _trough("MK-7", P, d["dose_ug_per_day"]) / _trough("K1", P, d["dose_ug_per_day"])
    if tid == "schurgers2007_k1_back_to_baseline":
        tt = np.linspace(0.0, d["at_h"], int(d["at_h"] * 20) + 1)
        c = _profile(form, P, [Dose(0.0, d["dose_ug"], d.get("fat_g"))], tt)
        return float(c[-1] / np.max(c))
    if tid == "sato_mk7_detectable_48h":
        return float(_profile(form, P, [Dose(0.0, d["dose_ug"], d.get("fat_g"))], np.array([0.0, d["at_h"]]))[1])
    if tid == "vendor_mk7_k1_auc_ratio":
        return mean_concentration("MK-7", P, d["dose_ug"]) / mean_concentration("K1", P, d["dose_ug"])
    if t["stage"] == "pd":
        return _predict_pd(t, P)
    if tid == "khan_inr_per_100ug":
        diet = d["diet"]
        wm = _warfarin(P, diet, d["inr"])
        a0 = activity(P, "hep", diet)
        dose = wm.titrate(d["inr"], np.array([a0]))
        a1 = activity(P, "hep", diet, {form: (d["delta_ug_per_day"], 24.0, True)})
        return float(wm.inr_steady_state(dose, np.array([a1]), np.array([a0]))[0] - d["inr"])
    if tid == "theuwissen_mk7_45_inr":
        diet = d["diet"]
        wm = _warfarin(P, diet, d["inr"])
        a0 = activity(P, "hep", diet)
        dose = wm.titrate(d["inr"], np.array([a0]))
        a1 = activity(P, "hep", diet, {form: (d["dose_ug_per_day"], 24.0, False)})
        return float(wm.inr_steady_state(dose, np.array([a1]), np.array([a0]))[0] / d["inr"] - 1.0)
    if tid.endswith("relevant_fraction"):
        return relevant_fraction(P, form, d["dose_ug_per_day"], d["inr"], d["relevant_fall"])
    if tid == "olson_k1_turnover":
        pk = _pk("K1", P)
        idx = [pk.model.index(c) for c in ("central", "peripheral")]
        K = pk.model.K[0][np.ix_(idx, idx)]
        return float(-np.sum(np.linalg.solve(K, np.array([1.0, 0.0]))))
    raise KeyError(f"no prediction for target {tid!r}")


def _predict_pd(t: dict, P: dict) -> float:
    d = t["design"]
    diet = d.get("diet", {})
    e_vka = _e_at_inr(float(d["inr"])) if "inr" in d else 0.0
    if t["id"] == "schurgers2007_mk7_more_complete_carboxylation":
        k1 = _markers(P, activity(P, "ext", {"K1": 100, "MK-7": 1.4}, {"K1": (d["dose_ug_per_day"], 24.0, False)}))
        mk7 = _markers(P, activity(P, "ext", {"K1": 100, "MK-7": 1.4}, {"MK-7": (d["dose_ug_per_day"], 24.0, False)}))
        return 1.0 - mk7["ucoc_percent"] / k1["ucoc_percent"]
    base = _markers(P, activity(P, "ext", diet), e_vka)[d["marker"]]
    if "form" not in d:
        return base
    on = _markers(P, activity(P, "ext", diet, {d["form"]: (d["dose_ug_per_day"], d.get("every_h", 24.0), False)}),
                  e_vka)[d["marker"]]
    if t.get("unit") == "fraction fall":
        return 1.0 - on / base
    return on / base


def relevant_fraction(P, form, daily, inr, fall, n=400, seed=7) -> float:
    """Share of a virtual population (titrated to ``inr``) whose steady-state INR falls by ≥ ``fall``
    when ``daily`` µg/day of ``form`` is added to a Dutch diet (K1 200 µg/day)."""
    P = complete(P)
    pop = make_population(n, seed=seed, profile="european", intake={"K1": 200.0, "MK-4": 0.0, "MK-7": 1.4})
    a0 = np.zeros(n)
    a1 = np.zeros(n)
    for f in FORMS:
        pk = FormPK(f, pop, overrides=P.get(f"pk_{f}"), pd_overrides=P.get("pd_carboxylation"))
        base = pk.mean_steady_state(0.0, names=("act_hep",))["act_hep"]
        a0 += base
        a1 += base
        if f == form:
            a1 += pk.mean_steady_state(daily, names=("act_hep",))["act_hep"] - base
    wm = WarfarinModel(pop, inr_overrides=P.get("inr"))
    dose = wm.titrate(inr, a0)
    new = wm.inr_steady_state(dose, a1, a0)
    return float(np.mean(inr - new >= fall))


def residual(t: dict, pred: float) -> float:
    """Standardised residual of ``pred`` for target ``t`` (0 inside a one-sided bound)."""
    kind = t.get("kind", "point")
    scale = t.get("scale", "abs")
    sd = float(t.get("sd", 1.0))
    if scale == "log":
        if pred <= 0:
            return 1e3
        r = (np.log(pred) - np.log(t["value"])) / sd
    else:
        r = (pred - t["value"]) / sd
    if kind == "upper":
        return max(r, 0.0)
    if kind == "lower":
        return min(r, 0.0)
    return float(r)


def prior_residual(t: dict, P: dict) -> float:
    """Log-scale pull of a parameter towards another parameter (``towards``) or a stated ``value``."""
    p = t["parameter"]
    v = value(P, p["spec"], p["name"])
    to = value(P, p["towards"]["spec"], p["towards"]["name"]) if "towards" in p else float(t["value"])
    return float((np.log(v) - np.log(to)) / t["sd"])
