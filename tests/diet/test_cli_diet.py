"""`kbone diet DIARY`: readable zh/en, --json, --plot, --skip-unknown, exit 2 on bad input."""

from __future__ import annotations

import json

import pytest

from .conftest import EXAMPLES


def test_example_diary_readable_in_both_languages(cli):
    code, out, _ = cli("diet", EXAMPLES / "diary_zh_3days.csv", "--lang", "zh")
    assert code == 0
    for s in ("每日摄入量", "合计", "每日平均", "中国", "二手来源", "未经核实", "蒜蓉菠菜", "纳豆", "Kamao 2007"):
        assert s in out, s
    code, out, _ = cli("diet", EXAMPLES / "diary_zh_3days.csv", "--lang", "en")
    assert code == 0
    for s in ("Intake by day", "total", "mean / day", "secondary", "NOT VERIFIED", "Kamao 2007"):
        assert s in out, s


def test_json_shape(cli):
    code, out, _ = cli("diet", EXAMPLES / "diary_zh_3days.csv", "--json", "--sex", "女", "--age", "65")
    assert code == 0
    d = json.loads(out)
    assert d["unit"] == "µg" and len(d["days"]) == 3
    for key in ("k1", "mk4", "mk7", "mk_other", "total"):
        assert key in d["mean"] and all(key in day for day in d["days"])
    day_sum = sum(day["total"] for day in d["days"]) / 3
    assert d["mean"]["total"] == pytest.approx(day_sum, abs=0.01)
    assert d["contributors"] and d["contributors"][0]["amounts"]["total"] >= d["contributors"][-1]["amounts"]["total"]
    refs = {r["reference"]["authority"]: r for r in d["reference"]}
    assert refs["US"]["reference"]["value_ug"] == 90 and refs["CN"]["reference"]["secondary"] is True
    assert d["profile"]["sex"] == "female"


def test_plot(cli, tmp_path):
    png = tmp_path / "k.png"
    code, _, _ = cli("diet", EXAMPLES / "diaries" / "diary_en_3days.yaml", "--plot", png, "--lang", "zh")
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, _ = cli("diet", EXAMPLES / "diaries" / "diary_en_3days.yaml", "--plot", tmp_path / "k.txt")
    assert code == 2 and not (tmp_path / "k.txt").exists()


def test_unknown_food_exit_2_with_line_and_suggestions(cli, write_diary):
    p = write_diary("date,meal,food,amount,unit\n2024-05-01,午餐,菠菜,100,g\n2024-05-01,午餐,火星菜,100,g\n")
    code, out, err = cli("diet", p, "--json")
    assert code == 2
    d = json.loads(out)
    prob = d["problems"][0]
    assert prob["line"] == 3 and prob["field"] == "food" and prob["suggestions"]
    code, out, _ = cli("diet", p, "--skip-unknown", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["skipped"][0]["line"] == 3 and d["days"][0]["k1"] == pytest.approx(482.9)


@pytest.mark.parametrize("row,fragment", [("菠菜,-100,g", "negative"), ("菠菜,6,kg", "implausible"),
                                          ("菠菜,3,furlong", "unknown unit")])
def test_bad_amount_exit_2(cli, write_diary, row, fragment):
    p = write_diary(f"date,meal,food,amount,unit\n2024-05-01,午餐,{row}\n")
    code, out, _ = cli("diet", p, "--json")
    assert code == 2
    prob = json.loads(out)["problems"][0]
    assert prob["line"] == 2 and fragment in prob["reason"]


def test_bad_options_exit_2(cli):
    assert cli("diet", EXAMPLES / "diary_zh_3days.csv", "--sex", "x")[0] == 2
    assert cli("diet", EXAMPLES / "diary_zh_3days.csv", "--age", "-3")[0] == 2
    assert cli("diet", EXAMPLES / "diary_zh_3days.csv", "--authority", "XX")[0] == 2
    assert cli("diet", "no_such_diary.csv")[0] == 2
