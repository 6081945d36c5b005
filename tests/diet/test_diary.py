"""Diary reading: CSV (zh/en headers, forward fill), YAML (rows or date → meal → items), line numbers."""

from __future__ import annotations

import pytest

from kbone.diet.diary import norm_meal, parse_date, parse_diary_text, read_diary
from kbone.errors import KboneInputError


def test_csv_english_header():
    d = parse_diary_text("date,meal,food,amount,unit\n2024-05-01,breakfast,egg,1,piece\n", "csv")
    (ln,) = d.lines
    assert (ln.line, ln.date, ln.meal, ln.food, ln.amount, ln.unit) == (2, "2024-05-01", "breakfast", "egg", "1", "piece")


def test_csv_chinese_header_and_forward_fill():
    text = "日期,餐次,食物,数量\n2024-05-01,早餐,一碗小米粥,\n,,鸡蛋,1个\n,午饭,蒜蓉菠菜,二两\n\n2024-05-02,早餐,豆浆,一杯\n"
    d = parse_diary_text(text, "csv")
    assert [(x.line, x.date, x.meal, x.food, x.amount) for x in d.lines] == [
        (2, "2024-05-01", "早餐", "一碗小米粥", ""), (3, "2024-05-01", "早餐", "鸡蛋", "1个"),
        (4, "2024-05-01", "午饭", "蒜蓉菠菜", "二两"), (6, "2024-05-02", "早餐", "豆浆", "一杯")]


def test_csv_missing_column_names_the_field():
    with pytest.raises(KboneInputError) as e:
        parse_diary_text("when,food\n2024-05-01,egg\n", "csv", "x.csv")
    p = e.value.problems[0]
    assert "date" in p.field and "meal" in p.field and p.line == 1 and p.fix


def test_csv_first_row_without_date():
    with pytest.raises(KboneInputError) as e:
        parse_diary_text("date,meal,food,amount\n,早餐,鸡蛋,1个\n", "csv")
    assert e.value.problems[0].field == "date" and e.value.problems[0].line == 2


def test_yaml_nested_with_line_numbers():
    text = "2024-05-01:\n  早餐:\n    - 一碗小米粥\n    - {food: 鸡蛋, amount: 1个}\n  午饭:\n    - 蒜蓉菠菜 二两\n"
    d = parse_diary_text(text, "yaml")
    assert [(x.line, x.date, x.meal, x.food, x.amount) for x in d.lines] == [
        (3, "2024-05-01", "早餐", "一碗小米粥", ""), (4, "2024-05-01", "早餐", "鸡蛋", "1个"),
        (6, "2024-05-01", "午饭", "蒜蓉菠菜 二两", "")]


def test_yaml_rows_and_entries_key():
    text = "entries:\n  - {date: 2024-05-01, meal: lunch, food: spinach, amount: 100, unit: g}\n"
    (ln,) = parse_diary_text(text, "yaml").lines
    assert (ln.line, ln.food, ln.amount, ln.unit) == (2, "spinach", "100", "g")


def test_yaml_errors():
    with pytest.raises(KboneInputError) as e:
        parse_diary_text("- {meal: lunch, food: egg}\n", "yaml")
    assert e.value.problems[0].field == "date"
    with pytest.raises(KboneInputError) as e:
        parse_diary_text("a: [b\n", "yaml")
    assert "YAML" in e.value.problems[0].reason


def test_missing_file_and_gb18030(tmp_path):
    with pytest.raises(KboneInputError):
        read_diary(tmp_path / "nope.csv")
    p = tmp_path / "gbk.csv"
    p.write_bytes("日期,餐次,食物,数量\n2024-05-01,早餐,鸡蛋,1个\n".encode("gb18030"))
    assert read_diary(p).lines[0].food == "鸡蛋"


@pytest.mark.parametrize("text,meal", [("早餐", "breakfast"), ("早饭", "breakfast"), ("午饭", "lunch"),
                                       ("Lunch", "lunch"), ("晚饭", "dinner"), ("加餐", "snack"), ("夜宵", "late_snack"),
                                       ("brunch", "brunch")])
def test_meals(text, meal):
    assert norm_meal(text) == meal


def test_dates():
    assert parse_date("2024/5/1") == ("2024-05-01", parse_date("2024-05-01")[1])
    assert parse_date("2024年5月2日")[1] - parse_date("2024-05-01")[1] == 1
    assert parse_date("第3天")[1] == 3 and parse_date("Day 2")[1] == 2
    assert parse_date("whenever")[1] is None
