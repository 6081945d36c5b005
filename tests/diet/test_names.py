"""Name search: simplified/traditional Chinese, pinyin, English, synonyms, typos; ranked with scores."""

from __future__ import annotations

import json

import pytest

from kbone.diet.names import name_index, search_foods


def top(query: str):
    return search_foods(query, 5)[0]


@pytest.mark.parametrize("query", ["菠菜", "菠薐菜", "bocai", "bo cai", "BoCai",
                                   "波菜", "spinach", "Spinach, raw", "spinch", "11457"])
def test_spinach_found_every_way(query):
    c = top(query)
    assert c.ndb_no == "11457", (query, c)
    assert c.per_100g.k1 == pytest.approx(482.9)


def test_exact_beats_fuzzy_and_scores_are_ranked():
    cands = search_foods("菠菜", 10)
    assert cands[0].score == 100 and cands[0].method == "exact"
    assert all(a.score >= b.score for a, b in zip(cands, cands[1:], strict=False))
    assert all(c.score < 100 for c in cands[1:])
    # dishes made with spinach come next
    assert any(c.recipe == "蒜蓉菠菜" for c in cands[1:])


@pytest.mark.parametrize("traditional,simplified_name", [("雞蛋", "鸡蛋"), ("西蘭花", "西兰花"), ("蘿蔔", "白萝卜"),
                                                          ("韭菜炒雞蛋", "韭菜炒鸡蛋"), ("醬油", "酱油"), ("納豆", "纳豆")])
def test_traditional_characters(traditional, simplified_name):
    c = top(traditional)
    assert c.name_zh == simplified_name
    assert c.score == 100 and c.method == "traditional"


def test_synonyms_and_regional_names():
    assert top("西红柿").name_zh == "番茄"
    assert top("圆白菜").name_zh == "卷心菜"  # from the shared mapping's note "also 包菜/圆白菜"
    assert top("番茄炒蛋").recipe == "西红柿炒鸡蛋"
    assert top("tomato").name_zh == "番茄"


def test_homophone_typo_uses_pinyin():
    c = top("波菜")  # a common miswriting of 菠菜
    assert c.name_zh == "菠菜" and c.method == "pinyin"


def test_english_typo_is_scored_below_exact():
    c = top("spinch")
    assert c.name_zh == "菠菜" and 85 < c.score < 100 and c.method == "fuzzy"


def test_candidates_carry_vitamin_k_and_sources():
    natto = top("纳豆")
    assert natto.per_100g.mk7 == pytest.approx(939)
    assert natto.sources["mk7"].source_id == "kamao2007"
    kongxin = top("空心菜")
    assert kongxin.per_100g.k1 is None  # no value, not zero


def test_resolve_accepts_clear_names_and_refuses_unclear():
    idx = name_index()
    key, entry, score, _ = idx.resolve("菠菜")
    assert entry.food_id == "11457" and score == 100
    key, sugg, score, reason = idx.resolve("火星菜")
    assert key is None and reason == "unknown" and len(sugg) > 0
    key, sugg, score, reason = idx.resolve("pak choy")  # several pak-choi-type greens score alike
    assert key is None and any(c.name_zh == "小白菜" for c in sugg)


def test_cli_search_json(cli):
    code, out, _ = cli("food", "search", "菠菜", "--json", "--limit", "3")
    assert code == 0
    d = json.loads(out)
    first = d["candidates"][0]
    assert first["ndb_no"] == "11457" and first["name_zh"] == "菠菜" and first["name_en"]
    assert first["score"] == 100
    assert first["per_100g"]["k1"] == pytest.approx(482.9)
    assert first["per_100g"]["mk7"] is None
    assert len(d["candidates"]) == 3


def test_cli_search_readable_both_languages(cli):
    code, out, _ = cli("food", "search", "spinach", "--lang", "zh")
    assert code == 0 and "菠菜" in out and "无数据" in out
    code, out, _ = cli("food", "search", "菠菜", "--lang", "en")
    assert code == 0 and "Spinach" in out and "no value" in out


def test_cli_show(cli):
    code, out, _ = cli("food", "show", "纳豆", "--json")
    d = json.loads(out)
    assert code == 0 and d["food"]["sources"]["mk7"]["source_id"] == "kamao2007"
    assert any(a["source_id"] == "davis2007" for a in d["alternatives"])
    code, out, _ = cli("food", "show", "蒜蓉菠菜", "--json")
    d = json.loads(out)
    assert {i["ingredient"] for i in d["recipe"]} == {"菠菜", "调和油", "大蒜"}
    code, _, _ = cli("food", "show", "火星菜")
    assert code == 2
