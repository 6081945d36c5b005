"""Food diaries: CSV or YAML with date, meal, food, amount, unit — written in Chinese or English.

CSV: a header row naming the columns (English or Chinese: 日期, 餐次, 食物, 数量, 单位); ``amount`` and ``unit``
may be one column ("二两", "1碗") or be left empty when the food cell carries the amount ("一碗小米粥",
"蒜蓉菠菜 二两"). Empty date and meal cells repeat the row above (as people write diaries in spreadsheets).

YAML: either a list of rows with the same keys, or ``{date: {meal: [items]}}`` where an item is a string
("蒜蓉菠菜 二两", "一个鸡蛋") or a mapping {food, amount, unit}. A top-level ``entries:``/``diary:`` key is allowed.
Line numbers point into the file, so errors can say where to look.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from kbone.errors import KboneInputError, Problem

COLUMNS = ("date", "meal", "food", "amount", "unit", "time")
_HEADER = {
    "date": ("date", "day", "日期", "天", "日", "日子"),
    "meal": ("meal", "餐", "餐次", "餐别", "时段", "meal time"),
    "food": ("food", "item", "food item", "name", "dish", "食物", "食品", "菜品", "菜名", "名称", "吃了什么"),
    "amount": ("amount", "quantity", "qty", "portion", "数量", "份量", "分量", "用量", "量", "重量"),
    "unit": ("unit", "units", "单位"),
    "time": ("time", "clock", "时间", "时刻"),
}
_HEADER_INDEX = {unicodedata.normalize("NFKC", s).lower(): col for col, names in _HEADER.items() for s in names}

#: meal id → (English, Chinese, default clock hour used for PK dose times — an assumption)
MEALS: dict[str, tuple[str, str, float]] = {
    "breakfast": ("breakfast", "早餐", 7.5),
    "lunch": ("lunch", "午餐", 12.0),
    "dinner": ("dinner", "晚餐", 18.5),
    "snack": ("snack", "加餐", 15.5),
    "late_snack": ("late-night snack", "夜宵", 21.5),
}
_MEAL_WORDS = {
    "breakfast": ("breakfast", "早餐", "早饭", "早上", "早点", "早", "早晨", "bf"),
    "lunch": ("lunch", "午餐", "午饭", "中饭", "中午", "午", "中餐"),
    "dinner": ("dinner", "supper", "晚餐", "晚饭", "晚上", "晚", "晚间"),
    "snack": ("snack", "snacks", "加餐", "零食", "点心", "下午茶", "上午加餐", "下午加餐", "水果"),
    "late_snack": ("late snack", "late-night snack", "夜宵", "宵夜"),
}
_MEAL_INDEX = {w: m for m, ws in _MEAL_WORDS.items() for w in ws}


@dataclass(slots=True)
class DiaryLine:
    """One eaten item as written (amount not yet interpreted)."""

    line: int
    date: str
    meal: str
    food: str
    amount: str = ""
    unit: str = ""
    time: str = ""


@dataclass(slots=True)
class Diary:
    lines: list[DiaryLine]
    source: str | None = None


# ---- normalisation -------------------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def norm_meal(text: str) -> str:
    """Meal id (breakfast, lunch, dinner, snack, late_snack) or the text itself for other meals."""
    t = unicodedata.normalize("NFKC", text).strip().lower()
    return _MEAL_INDEX.get(t, t or "unspecified")


def meal_labels(meal: str) -> tuple[str, str]:
    if meal in MEALS:
        return MEALS[meal][0], MEALS[meal][1]
    return meal, meal


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{1,2})[-/.月](\d{1,2})日?$"),
)
_DAYNUM = re.compile(r"^(?:day\s*|d|第)?\s*(\d{1,4})\s*(?:天|日)?$", re.I)


@lru_cache(maxsize=4096)
def parse_date(text: str) -> tuple[str, int | None]:
    """(display date, ordinal day number or None). ISO dates display as YYYY-MM-DD."""
    t = unicodedata.normalize("NFKC", text).strip()
    m = _DATE_PATTERNS[0].match(t)
    if m:
        try:
            d = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return t, None
        return d.isoformat(), d.toordinal()
    m = _DATE_PATTERNS[1].match(t)
    if m:
        try:
            d = date(2000, int(m[1]), int(m[2]))  # no year written: a leap year keeps 2月29日 valid
        except ValueError:
            return t, None
        return f"{int(m[1])}月{int(m[2])}日", d.toordinal()
    m = _DAYNUM.match(t)
    if m:
        return t, int(m[1])
    return t, None


# ---- CSV -----------------------------------------------------------------------------------------------------------
def _read_csv(text: str, source: str | None) -> Diary:
    sample = text[:4096]
    delim = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    try:
        header = next(reader)
    except StopIteration:
        raise KboneInputError(Problem(field="diary", reason="the diary is empty", file=source,
                                      fix="write a header row (date,meal,food,amount,unit) and one row per food")) from None
    cols: dict[str, int] = {}
    for i, h in enumerate(header):
        col = _HEADER_INDEX.get(unicodedata.normalize("NFKC", h).strip().lower().lstrip("\ufeff"))
        if col and col not in cols:
            cols[col] = i
    missing = [c for c in ("date", "meal", "food") if c not in cols]
    if missing:
        raise KboneInputError(Problem(
            field=", ".join(missing), file=source, line=1,
            reason=f"the header lacks column(s) {', '.join(missing)} (found: {', '.join(header) or 'nothing'})",
            fix="name the columns date,meal,food,amount,unit (or 日期,餐次,食物,数量,单位)"))
    lines: list[DiaryLine] = []
    last_date = last_meal = ""
    idx = [cols.get(c) for c in COLUMNS]
    width = max(i for i in idx if i is not None) + 1
    get = [(lambda row, i=i: row[i].strip()) if i is not None else (lambda row: "") for i in idx]
    g_date, g_meal, g_food, g_amount, g_unit, g_time = get
    for lineno, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) < width:
            row = row + [""] * (width - len(row))
        food = g_food(row)
        d, meal, amount, unit, time = g_date(row), g_meal(row), g_amount(row), g_unit(row), g_time(row)
        if not food:
            if amount or unit:
                raise KboneInputError(Problem(field="food", line=lineno, file=source, reason="food is empty",
                                              fix="write the food name (e.g. 菠菜 or spinach)"))
            continue
        d = d or last_date
        meal = meal or last_meal
        if not d:
            raise KboneInputError(Problem(field="date", line=lineno, file=source, reason="no date for this row",
                                          fix="write the date (e.g. 2024-05-01) on the first row of each day"))
        last_date, last_meal = d, meal
        lines.append(DiaryLine(lineno, d, meal, food, amount, unit, time))
    return Diary(lines, source)


# ---- YAML ----------------------------------------------------------------------------------------------------------
def _scalar(node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return str(node.value).strip()
    raise KboneInputError(Problem(field="diary", line=node.start_mark.line + 1, reason="expected a single value here",
                                  fix="write a text or number"))


def _mapping(node) -> dict[str, object]:
    return {_scalar(k).lower(): v for k, v in node.value}


def _item(node, d: str, meal: str, out: list[DiaryLine], source: str | None) -> None:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        out.append(DiaryLine(line, d, meal, _scalar(node)))
        return
    if isinstance(node, yaml.MappingNode):
        m = {(_HEADER_INDEX.get(k) or k): v for k, v in _mapping(node).items()}
        if "food" not in m:
            raise KboneInputError(Problem(field="food", line=line, file=source, reason="item has no 'food'",
                                          fix="write {food: 菠菜, amount: 二两}"))
        get = lambda k: _scalar(m[k]) if k in m else ""  # noqa: E731
        out.append(DiaryLine(line, get("date") or d, get("meal") or meal, get("food"),
                             get("amount"), get("unit"), get("time")))
        return
    raise KboneInputError(Problem(field="diary", line=line, file=source, reason="unexpected list here",
                                  fix="write one food per item"))


def _read_yaml(text: str, source: str | None) -> Diary:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise KboneInputError(Problem(field="diary", file=source, line=mark.line + 1 if mark else None,
                                      reason=f"not valid YAML: {getattr(e, 'problem', e)}",
                                      fix="check indentation and colons")) from None
    if root is None:
        raise KboneInputError(Problem(field="diary", file=source, reason="the diary is empty",
                                      fix="write one entry per food"))
    if isinstance(root, yaml.MappingNode):
        m = _mapping(root)
        for k in ("entries", "diary", "days", "日记", "记录"):
            if k in m:
                root = m[k]
                break
    out: list[DiaryLine] = []
    if isinstance(root, yaml.SequenceNode):
        for node in root.value:
            if not isinstance(node, yaml.MappingNode):
                raise KboneInputError(Problem(field="diary", line=node.start_mark.line + 1, file=source,
                                              reason="each row must be a mapping with date, meal, food, amount",
                                              fix="write - {date: 2024-05-01, meal: 早餐, food: 鸡蛋, amount: 1个}"))
            m = {(_HEADER_INDEX.get(k) or k): v for k, v in _mapping(node).items()}
            for col in ("date", "meal"):
                if col not in m:
                    raise KboneInputError(Problem(field=col, line=node.start_mark.line + 1, file=source,
                                                  reason=f"row has no '{col}'", fix=f"add {col}: to the row"))
            _item(node, _scalar(m["date"]), _scalar(m["meal"]), out, source)
    elif isinstance(root, yaml.MappingNode):
        for dkey, dnode in root.value:
            d = _scalar(dkey)
            if isinstance(dnode, yaml.MappingNode):
                for mkey, mnode in dnode.value:
                    meal = _scalar(mkey)
                    items = mnode.value if isinstance(mnode, yaml.SequenceNode) else [mnode]
                    for it in items:
                        _item(it, d, meal, out, source)
            elif isinstance(dnode, yaml.SequenceNode):
                for it in dnode.value:
                    _item(it, d, "", out, source)
            else:
                raise KboneInputError(Problem(field="diary", line=dnode.start_mark.line + 1, file=source,
                                              reason=f"day {d!r} must hold meals or a list of foods",
                                              fix="write 2024-05-01: {早餐: [一碗小米粥, 一个鸡蛋]}"))
    else:
        raise KboneInputError(Problem(field="diary", file=source, reason="the diary must be a list or a mapping",
                                      fix="see the examples/ folder"))
    return Diary(out, source)


# ---- entry points --------------------------------------------------------------------------------------------------
def parse_diary_text(text: str, fmt: str = "csv", source: str | None = None) -> Diary:
    """Parse diary text in ``fmt`` ('csv' or 'yaml')."""
    text = text.lstrip("\ufeff")
    if fmt == "csv":
        return _read_csv(text, source)
    if fmt in ("yaml", "yml"):
        return _read_yaml(text, source)
    raise KboneInputError(f"unknown diary format {fmt!r}", field="format", fix="use a .csv or .yaml file")


def read_diary(path: str | Path) -> Diary:
    """Read a diary file (.csv, .tsv, .txt as CSV; .yaml/.yml as YAML)."""
    p = Path(path)
    if not p.exists():
        raise KboneInputError(Problem(field="diary", file=str(p), reason="file not found",
                                      fix="give the path of a .csv or .yaml diary"))
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        try:
            text = p.read_text(encoding="gb18030")
        except UnicodeDecodeError:
            raise KboneInputError(Problem(field="diary", file=str(p), reason="file is neither UTF-8 nor GB18030 text",
                                          fix="save the diary as UTF-8 CSV or YAML")) from None
    fmt = "yaml" if p.suffix.lower() in (".yaml", ".yml") else "csv"
    return parse_diary_text(text, fmt, str(p))
