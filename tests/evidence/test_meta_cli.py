"""``kbone meta --data FILE.csv``: output against metafor fixtures, bad input, plots."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIX = json.loads((ROOT / "tests" / "fixtures" / "metafor" / "rma.json").read_text())
MH = json.loads((ROOT / "tests" / "fixtures" / "metafor" / "mh.json").read_text())


def write(tmp_path, name, header, rows) -> Path:
    p = tmp_path / name
    p.write_text(",".join(header) + "\n" + "\n".join(",".join(str(x) for x in r) for r in rows) + "\n",
                 encoding="utf-8")
    return p


@pytest.fixture
def bcg_csv(tmp_path):
    c = next(c for c in MH["cases"] if c["name"] == "bcg" and c["measure"] == "RR")["input"]
    rows = [(f"trial{i + 1}", 1950 + i, c["ai"][i], c["bi"][i], c["ci"][i], c["di"][i],
             "retracted" if i == 5 else ("flagged" if i == 2 else "ok")) for i in range(13)]
    return write(tmp_path, "bcg.csv", ["study", "year", "ai", "bi", "ci", "di", "integrity"], rows)


def test_csv_counts_match_metafor_and_json_fields(cli, bcg_csv):
    code, out, err = cli("meta", "--data", bcg_csv, "--measure", "RR", "--method", "REML", "--json")
    assert code == 0, err
    rep = json.loads(out)
    ref = next(f for c in FIX["cases"] if c["name"] == "bcg_RR" for f in c["fits"]
               if f["method"] == "REML" and f["test"] == "z" and not f["tight"])
    assert rep["estimate"] == pytest.approx(ref["beta"], abs=1e-8)
    assert rep["se"] == pytest.approx(ref["se"], abs=1e-8)
    assert rep["tau2"] == pytest.approx(ref["tau2"], abs=1e-8)
    assert rep["pi_lower"] == pytest.approx(ref["pi_lb"], abs=1e-8)
    assert rep["back"]["estimate"] == pytest.approx(math.exp(ref["beta"]), rel=1e-8)
    assert rep["scale"] == "log" and rep["k"] == 13 and len(rep["study_ids"]) == 13
    assert [s["scenario"] for s in rep["integrity"]] == ["all", "no_retracted", "no_retracted_or_flagged"]
    assert [s["k"] for s in rep["integrity"]] == [13, 12, 11]
    assert rep["egger"]["df"] == 11 and rep["trimfill"]["k0"] == 1


def test_csv_mh_knha_and_readable_output(cli, bcg_csv):
    code, out, _ = cli("meta", "--data", bcg_csv, "--measure", "OR", "--method", "MH", "--json")
    rep = json.loads(out)
    ref = next(c for c in MH["cases"] if c["name"] == "bcg" and c["measure"] == "OR")
    assert code == 0 and rep["estimate"] == pytest.approx(ref["beta"], abs=1e-10)
    assert rep["model"] == "rma.mh" and rep["pi_lower"] == rep["ci_lower"]
    code, out, _ = cli("meta", "--data", bcg_csv, "--measure", "RR", "--knha", "--lang", "zh")
    assert code == 0 and "合并" in out and "科研诚信敏感性分析" in out
    code, out, _ = cli("meta", "--data", bcg_csv, "--measure", "RR", "--method", "MH", "--test", "knha", "--json")
    assert code == 2


def test_yi_vi_table_with_groups_and_loo(cli, tmp_path):
    c = next(c for c in FIX["cases"] if c["name"] == "hackshaw")
    rows = [(f"s{i}", 1980 + i % 20, y, v, "A" if i % 2 else "B") for i, (y, v) in enumerate(zip(c["yi"], c["vi"], strict=True))]
    p = write(tmp_path, "h.csv", ["study", "year", "yi", "vi", "region"], rows)
    code, out, err = cli("meta", "--data", p, "--method", "DL", "--by", "region", "--leave-one-out", "--cumulative",
                         "--json")
    assert code == 0, err
    rep = json.loads(out)
    ref = next(f for f in c["fits"] if f["method"] == "DL" and f["test"] == "z")
    assert rep["estimate"] == pytest.approx(ref["beta"], abs=1e-10)
    assert rep["integrity"] is None
    assert len(rep["leave_one_out"]) == 37 and rep["cumulative"][-1]["estimate"] == pytest.approx(ref["beta"])
    assert {g["group"] for g in rep["subgroups"]["groups"]} == {"A", "B"}


@pytest.mark.parametrize("header,rows,needle", [
    (["study", "yi", "vi"], [("a", 0.1, 0.02)], "needs at least 2"),                              # k = 1
    (["study", "yi", "vi"], [("a", 0.1, 0.02), ("b", 0.3, -0.01)], "negative or zero variance"),
    (["study", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"],
     [("a", 1, 2, 20, 0, 2, 20), ("b", 1, "", 20, 0, 2, 20)], "missing SD"),
    (["study", "yi", "vi", "measure"], [("a", 0.1, 0.02, "OR"), ("b", 0.3, 0.01, "RR")], "mixes measures"),
    (["study", "ai", "bi", "ci", "di"], [("a", 0, 20, 0, 20), ("b", 0, 30, 0, 31)], "needs at least 2"),
    (["study", "ai", "bi", "ci", "di"], [("a", 5, 20, 3, 20), ("b", -1, 30, 2, 31)], "counts must be"),
    (["foo", "bar"], [(1, 2)], "no known data layout"),
])
def test_bad_tables_exit_2_with_reason(cli, tmp_path, header, rows, needle):
    p = write(tmp_path, "bad.csv", header, rows)
    args = ["meta", "--data", p, "--json"]
    if "ai" in header and rows[0][1] == 0:
        args += ["--measure", "OR", "--drop00"]
    code, out, err = cli(*args)
    assert code == 2
    payload = json.loads(out)
    text = json.dumps(payload, ensure_ascii=False)
    assert needle in text
    assert "NaN" not in out


def test_zero_event_studies_are_reported(cli, tmp_path):
    rows = [("a", 0, 50, 4, 46), ("b", 2, 48, 5, 45), ("c", 0, 40, 0, 40), ("d", 1, 60, 3, 57)]
    p = write(tmp_path, "z.csv", ["study", "ai", "bi", "ci", "di"], rows)
    code, out, err = cli("meta", "--data", p, "--measure", "OR", "--json")
    assert code == 0, err
    rep = json.loads(out)
    notes = {s["id"]: " ".join(s["notes"]) for s in rep["studies"]}
    assert "0.5 added" in notes["a"] and "no events in either group" in notes["c"]
    code, out, _ = cli("meta", "--data", p, "--measure", "OR", "--drop00", "--json")
    rep = json.loads(out)
    assert rep["k"] == 3 and rep["excluded"][0]["id"] == "c" and "double-zero" in rep["excluded"][0]["reason"]
    code, out, _ = cli("meta", "--data", p, "--measure", "OR", "--method", "PETO", "--json")
    rep = json.loads(out)
    assert rep["k"] == 3 and rep["measure"] == "PETO"


def test_drop_incomplete_lists_what_was_left_out(cli, tmp_path):
    rows = [("a", 1, 2, 20, 0, 2, 20), ("b", 1, "", 20, 0, 2, 20), ("c", 0.5, 1.5, 30, 0, 1.8, 30)]
    p = write(tmp_path, "m.csv", ["study", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"], rows)
    code, out, _ = cli("meta", "--data", p, "--measure", "SMD", "--drop-incomplete", "--json")
    assert code == 0
    rep = json.loads(out)
    assert rep["k"] == 2 and rep["excluded"][0]["id"] == "b" and "SD" in rep["excluded"][0]["reason"]


def test_plots_png_svg_and_bad_suffix(cli, bcg_csv, tmp_path):
    for lang in ("en", "zh"):
        png, svg = tmp_path / f"f{lang}.png", tmp_path / f"u{lang}.svg"
        code, _, err = cli("meta", "--data", bcg_csv, "--measure", "RR", "--plot", png, "--funnel", svg, "--lang", lang)
        assert code == 0, err
        assert png.read_bytes()[:4] == b"\x89PNG" and b"<svg" in svg.read_bytes()[:500]
    bad = tmp_path / "f.gif"
    code, out, _ = cli("meta", "--data", bcg_csv, "--plot", bad, "--json")
    assert code == 2 and not bad.exists()
    code, out, _ = cli("meta", "--data", bcg_csv, "--plot", tmp_path / "missing_dir" / "f.png", "--json")
    assert code == 2


def test_need_exactly_one_source(cli, bcg_csv):
    assert cli("meta", "--json")[0] == 2
    assert cli("meta", "--data", bcg_csv, "--outcome", "vertebral_fracture", "--json")[0] == 2
    assert cli("meta", "--data", bcg_csv, "--method", "XX", "--json")[0] == 2
    assert cli("meta", "--data", bcg_csv, "--measure", "MD", "--json")[0] == 2


def test_json_never_contains_nan(cli, tmp_path):
    # identical effects: Q = 0, tau² = 0; every statistic must stay finite
    p = write(tmp_path, "same.csv", ["study", "yi", "vi"], [("a", 0.2, 0.01), ("b", 0.2, 0.02), ("c", 0.2, 0.03)])
    code, out, err = cli("meta", "--data", p, "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["tau2"] == 0 and rep["i2"] == 0 and np.isfinite(rep["h2"])
