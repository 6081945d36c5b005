"""The model's API for other parts: the MBMA exposure scale and the assessment's questions."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from kbone.errors import KboneInputError
from kbone.model import calibration as cal
from kbone.model.api import inr_sensitivity, simulate, steady_state_carboxylation
from kbone.model.library import model_dir, targets


def test_mbma_exposure_uses_the_pkpd_model():
    from kbone.model.mbma import exposure as ex

    ex._pkpd_function.cache_clear()
    ex.exposure.cache_clear()
    e = ex.exposure("MK-7", 180.0)
    assert e.method == "pkpd"
    direct = steady_state_carboxylation("MK-7", 180.0).ucoc_fraction_fall
    assert e.value == pytest.approx(direct)
    assert 0 < e.value < 1


def test_one_scale_for_all_forms_is_monotone_in_dose():
    falls = {f: [steady_state_carboxylation(f, d, n=1).ucoc_fraction_fall for d in (100, 1000, 10000)]
             for f in ("K1", "MK-4", "MK-7")}
    for f, v in falls.items():
        assert v[0] < v[1] < v[2], f
    # fat eaten with the supplement raises exposure (Uematsu 1996)
    lo = steady_state_carboxylation("MK-4", 1500, fat_g=5, n=1).exposure_k1eq_nmol_l.median
    hi = steady_state_carboxylation("MK-4", 1500, fat_g=40, n=1).exposure_k1eq_nmol_l.median
    assert hi > lo


def test_simulate_api_matches_steady_state():
    res = simulate("MK-7", "180ug", every="24h", days=60)
    ss = steady_state_carboxylation("MK-7", 180, baseline_intake={"K1": 80, "MK-4": 7.5, "MK-7": 1.4}, n=1)
    end = res.summary["ucoc_percent"]["mean_last_day"]["median"]
    assert end == pytest.approx(ss.ucoc_percent_on.median, rel=0.05)


@pytest.mark.parametrize("call,field", [
    (lambda: steady_state_carboxylation("vitamin C", 100), "form"),
    (lambda: steady_state_carboxylation("K1", -1), "dose_ug_per_day"),
    (lambda: inr_sensitivity(100, "K1", source="pill"), "source"),
    (lambda: inr_sensitivity(-50, "MK-7", source="supplement", n=1), "delta_ug_per_day"),
])
def test_api_bad_input(call, field):
    with pytest.raises(KboneInputError) as e:
        call()
    assert e.value.problems[0].field == field


def test_fitted_file_records_current_predictions():
    # the committed fit residuals are what the shipped model predicts (re-run the script after changes)
    doc = yaml.safe_load((model_dir() / "fitted.yaml").read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in doc["residuals"]}
    by_id = {t["id"]: t for t in targets()}
    fast = [i for i, r in rows.items() if r["stage"] in ("pk_K1", "pk_MK-7", "pd", "inr") and r["kind"] != "prior"]
    assert len(fast) >= 20
    for i in fast:
        assert cal.predict(by_id[i]) == pytest.approx(rows[i]["predicted"], rel=1e-3, abs=1e-6), i
    tension_ids = {t.split(":")[0] for t in doc["tensions"]}
    assert tension_ids == {i for i, r in rows.items() if abs(r["z"]) > 2}
    assert np.all([np.isfinite(r["z"]) for r in rows.values()])
