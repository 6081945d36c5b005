"""``kbone pk``: JSON arrays, readable bilingual output, plots, and bad input → exit 2 naming the field."""

from __future__ import annotations

import json

import numpy as np
import pytest


def run_json(cli, *args):
    code, out, err = cli("pk", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_json_arrays_equal_length_for_a_population(cli):
    d = run_json(cli, "--form", "MK-7", "--dose", "180ug", "--every", "24h", "--days", "20", "--n", "40",
                 "--seed", "3")
    T = len(d["time_h"])
    assert T > 100 and d["time_h"][0] == 0 and d["time_h"][-1] == pytest.approx(20 * 24)
    for k in ("concentration_nmol_l", "ucoc_percent", "inr", "dp_ucmgp_pmol_l"):
        for suffix in ("", "_p5", "_p95"):
            arr = np.asarray(d[k + suffix], dtype=float)
            assert arr.shape == (T,) and np.all(np.isfinite(arr))
        assert np.all(np.asarray(d[k + "_p5"]) <= np.asarray(d[k + "_p95"]) + 1e-12)
    c = np.asarray(d["concentration_nmol_l"])
    t = np.asarray(d["time_h"])
    assert c[-1] > 3 * c[t < 24].max()                        # MK-7 accumulates on daily dosing
    assert d["ucoc_percent"][-1] < d["ucoc_percent"][0]        # and lowers %ucOC
    assert d["n"] == 40 and d["seed"] == 3
    again = run_json(cli, "--form", "MK-7", "--dose", "180ug", "--every", "24h", "--days", "20", "--n", "40",
                     "--seed", "3")
    assert again["concentration_nmol_l_p95"] == d["concentration_nmol_l_p95"]


def test_single_dose_without_every(cli):
    d = run_json(cli, "--form", "维生素K1", "--dose", "1mg")
    assert d["form"] == "K1" and d["every_h"] is None and d["days"] == 4
    c = np.asarray(d["concentration_nmol_l"])
    t = np.asarray(d["time_h"])
    assert 2 <= t[np.argmax(c)] <= 8
    assert "concentration_nmol_l_p5" not in d                 # one typical subject: no bands


def test_warfarin_safety_first_and_inr_falls(cli):
    code, out, err = cli("pk", "--form", "MK-7", "--dose", "45ug", "--every", "24h", "--days", "21",
                         "--warfarin", "5mg", "--vkorc1", "AG", "--cyp2c9", "*1/*1")
    assert code == 0, err
    assert out.lstrip().startswith("⚠")
    d = run_json(cli, "--form", "MK-7", "--dose", "45ug", "--every", "24h", "--days", "21", "--warfarin", "5mg",
                 "--vkorc1", "AG", "--cyp2c9", "*1/*1")
    assert d["inr"][-1] < d["inr"][0] - 0.3
    code, out, _ = cli("pk", "--form", "MK-7", "--dose", "45ug", "--every", "24h", "--days", "10",
                       "--target-inr", "2.5", "--lang", "zh")
    assert code == 0 and "抗凝安全提示" in out and "华法林剂量" in out


def test_zh_output_has_no_english_assumption_or_tension_prose(cli):
    code, out, err = cli("pk", "--form", "MK-4", "--dose", "1.5mg", "--every", "24h", "--days", "3", "--n", "10",
                         "--lang", "zh")
    assert code == 0, err
    assert "未用维生素K拮抗剂" in out and "观察值" in out
    for english in ("no vitamin K antagonist", "observed ", "IIV 30 % assumed", "reference meal"):
        assert english not in out


def test_plot_and_event_table(cli, tmp_path):
    ev = tmp_path / "doses.csv"
    ev.write_text("TIME,AMT,ADDL,II\n0,180,6,24\n216,180,10,24\n", encoding="utf-8")    # days 7-8 missed
    png = tmp_path / "pk.png"
    code, out, err = cli("pk", "--form", "MK-7", "--events", str(ev), "--n", "20", "--plot", str(png))
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    d = run_json(cli, "--form", "MK-7", "--events", str(ev))
    reg = run_json(cli, "--form", "MK-7", "--dose", "180ug", "--every", "24h", "--days", d["days"])
    i = d["time_h"].index(216.0)
    assert d["concentration_nmol_l"][i] < reg["concentration_nmol_l"][i]


@pytest.mark.parametrize("args,field", [
    (["--dose", "-5ug"], "dose"),
    (["--dose", "500g"], "dose"),
    (["--dose", "180ug", "--form", "vitamin C"], "form"),
    (["--dose", "180ug", "--every", "0h"], "every"),
    (["--dose", "180ug", "--every", "24kg"], "every"),
    (["--dose", "180ug", "--days", "0"], "days"),
    (["--dose", "180ug", "--warfarin", "500mg"], "warfarin"),
    (["--dose", "180ug", "--warfarin", "5mg", "--target-inr", "2.5"], "target_inr"),
    (["--dose", "180ug", "--vkorc1", "XY", "--warfarin", "5mg"], "vkorc1"),
    (["--dose", "180ug", "--n", "0"], "n"),
    (["--dose", "180ug", "--fat", "-3g"], "fat"),
    (["--dose", "180ug", "--plot", "x.gif"], "plot"),
    ([], "dose"),
])
def test_bad_input_exits_2_naming_the_field(cli, args, field):
    code, out, err = cli("pk", *args, "--json")
    assert code == 2
    problems = json.loads(out)["problems"]
    assert field in {p["field"] for p in problems}


def test_inconsistent_event_table_exits_2(cli, tmp_path):
    ev = tmp_path / "bad.csv"
    ev.write_text("TIME,AMT,ADDL,II\n0,180,5,\n", encoding="utf-8")
    code, out, _ = cli("pk", "--events", str(ev), "--json")
    assert code == 2
    p = json.loads(out)["problems"][0]
    assert p["field"] == "II" and p["line"] == 2


def test_habitual_intake_and_daily_diet_series(cli, tmp_path):
    low = run_json(cli, "--form", "K1", "--dose", "100ug", "--intake", "K1=30,MK-7=0")
    high = run_json(cli, "--form", "K1", "--dose", "100ug", "--intake", "K1=300,MK-7=0")
    assert high["ucoc_percent"][0] < low["ucoc_percent"][0]
    assert high["concentration_nmol_l"][0] > low["concentration_nmol_l"][0]
    diet = tmp_path / "diet.csv"
    diet.write_text("day,K1\n1,60\n2,60\n3,600\n", encoding="utf-8")     # a spinach day every third day
    d = run_json(cli, "--form", "K1", "--dose", "1ug", "--days", "9", "--diet", str(diet), "--step", "1h")
    c = np.asarray(d["concentration_nmol_l"])
    t = np.asarray(d["time_h"])
    assert c[(t >= 48) & (t < 72)].max() > 2 * c[(t >= 24) & (t < 48)].max()
    code, out, _ = cli("pk", "--dose", "100ug", "--intake", "K1=abc", "--json")
    assert code == 2 and json.loads(out)["problems"][0]["field"] == "intake"
