"""Benchmark: vitamin K intake of a 100 000-line food diary (lines per second).

Builds a synthetic diary from the shipped Chinese and English food names, recipes and household amounts
(Chinese units, amounts written inside the food cell, traditional characters, pinyin, English, one typo),
then times reading + computing it with name-resolution caching, against a baseline in the same process that
resolves every line afresh (no caching), measured on a subset and reported as lines/s.

Usage: .venv/bin/python benchmarks/bench_diet.py [--lines 100000] [--baseline-lines 1000] [--seed 7]
Target: ≥ 50 000 lines/s with caching.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET = 50_000

# (food cell, amount cell, unit cell): realistic diary spellings, resolved by kbone's name search
ITEMS = [
    ("一碗小米粥", "", ""), ("一个鸡蛋", "", ""), ("蒜蓉菠菜", "二两", ""), ("米饭", "1", "碗"), ("馒头", "1个", ""),
    ("西红柿炒鸡蛋", "半盘", ""), ("菠菜", "100", "g"), ("雞蛋", "2", "个"), ("西蘭花", "三两", ""), ("bocai", "50", "克"),
    ("spinach", "1", "cup"), ("milk", "250", "ml"), ("牛奶", "一盒", ""), ("纳豆", "1盒", ""), ("苹果", "1", "个"),
    ("香蕉", "1根", ""), ("豆浆", "一杯", ""), ("油条", "1根", ""), ("饺子", "12个", ""), ("麻婆豆腐", "二两", ""),
    ("清炒油麦菜", "半斤", ""), ("红烧肉", "一两", ""), ("紫菜蛋花汤", "1碗", ""), ("brown rice", "1", "cup"),
    ("chicken breast", "150", "g"), ("olive oil", "1", "tbsp"), ("broccoli", "1 cup", ""), ("kale", "2", "cups"),
    ("spinch", "30", "g"), ("蒜蓉菠菜 二两", "", ""), ("白粥", "一碗", ""), ("核桃", "3个", ""), ("橘子", "2个", ""),
    ("韭菜炒鸡蛋", "一份", ""), ("手撕包菜", "半盘", ""), ("酸奶", "1杯", ""), ("cheddar", "30", "g"),
]
MEALS = ["早餐", "午餐", "晚餐", "加餐", "breakfast", "lunch", "dinner"]


def make_diary(n: int, seed: int) -> str:
    rng = random.Random(seed)
    rows = ["date,meal,food,amount,unit"]
    for i in range(n):
        food, amount, unit = rng.choice(ITEMS)
        day = 1 + (i * 90) // n  # about 90 days
        rows.append(f"2024-{1 + (day - 1) // 30:02d}-{1 + (day - 1) % 30:02d},{rng.choice(MEALS)},{food},{amount},{unit}")
    return "\n".join(rows) + "\n"


def run(path: Path, cache: bool) -> tuple[float, int]:
    from kbone.diet.diary import read_diary
    from kbone.diet.intake import compute_intake

    t0 = time.perf_counter()
    diary = read_diary(path)
    compute_intake(diary, cache=cache)
    return time.perf_counter() - t0, len(diary.lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--baseline-lines", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    from kbone.diet.names import name_index

    name_index()
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp, "big.csv"), Path(tmp, "small.csv")
        big.write_text(make_diary(a.lines, a.seed), encoding="utf-8")
        small.write_text(make_diary(a.baseline_lines, a.seed + 1), encoding="utf-8")
        base_s, base_n = run(small, cache=False)
        times = [run(big, cache=True)[0] for _ in range(a.repeat)]
    best, med = min(times), statistics.median(times)
    rate, base_rate = a.lines / best, base_n / base_s
    print(f"one-time load of food table + name index: {load_s:.2f} s")
    print(f"baseline (no caching, {base_n} lines):     {base_rate:,.0f} lines/s")
    print(f"cached, first run (each name resolved once): {a.lines / times[0]:,.0f} lines/s")
    print(f"cached ({a.lines} lines, best of {a.repeat}):  {rate:,.0f} lines/s  (median {a.lines / med:,.0f})")
    print(f"speed-up vs baseline: {rate / base_rate:,.1f}x")
    ok = rate >= TARGET
    print(f"target ≥ {TARGET:,} lines/s: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
