"""Normalisation: width, traditional→simplified, boilerplate, layout and OCR repair — every change recorded."""

from __future__ import annotations

import pytest

from kbone.claims.normalize import normalize


def _repairs(n, rule_prefix):
    return [r for r in n.repairs if r.rule.startswith(rule_prefix)]


def test_every_repair_points_at_its_original_text(seed000):
    n = normalize(seed000)
    assert n.repairs
    for r in n.repairs:
        assert seed000[r.start:r.end] == r.before, r


def test_full_width_digits_letters_and_percent_become_half_width():
    n = normalize("腰椎骨密度升高１．７％，ＭＫ－７。")
    assert "1.7%" in n.text and "MK-7" in n.text
    assert "，" in n.text  # Chinese sentence punctuation is kept
    assert all(r.rule == "width" for r in n.repairs)


def test_traditional_lines_converted_simplified_lines_left_alone():
    n = normalize("維生素K2對骨質疏鬆症的臨床應用\n骨密度显著升高")
    lines = n.text.split("\n")
    assert lines[0] == "维生素K2对骨质疏松症的临床应用"
    assert lines[1] == "骨密度显著升高"  # 著 in 显著 must not become 着
    assert n.converted_traditional
    assert all(r.rule == "t2s" for r in n.repairs)


def test_web_boilerplate_lines_removed_and_recorded(seed004):
    n = normalize(seed004)
    for gone in ("ICP备", "=date(", "欢迎评论区", "QQ:4156828", "公网安备"):
        assert gone not in n.text
    rules = {r.rule for r in n.repairs}
    assert {"boilerplate:copyright", "boilerplate:icp", "boilerplate:share_prompt"} <= rules
    assert "抗凝治疗患者应谨慎补K" in n.text  # content survives


def test_ocr_subscript_loss_read_as_k2_and_k1_by_context(seed000):
    n = normalize(seed000)
    k2 = _repairs(n, "ocr_subscript_k2")
    k1 = _repairs(n, "ocr_subscript_k1")
    assert len(k2) >= 30
    assert {r.before for r in k2} >= {"：", "’"}
    # "维生素K。和维生素K：(MK-n)": the full stop before 和 is a lost subscript 1
    assert any(r.before == "。" for r in k1)
    assert "分为维生素K1和维生素K2(MK-n)两种" in n.text
    assert "维生素K1在绿色植物与动物肝脏中含量丰富" in n.text
    assert "维生素K：" not in n.text


def test_ocr_repairs_only_in_damaged_text():
    clean = "很多人缺乏维生素K，关节可能受影响。补充维生素K：请咨询医生。"
    n = normalize(clean)
    assert not n.ocr
    assert n.text == clean
    forced = normalize(clean, ocr=True)
    assert "维生素K2请咨询医生" in forced.text


def test_subscript_followed_by_a_number_stays_apart():
    n = normalize("患者每天补充维生素K：2年¨1，骨折减少¨o。", ocr=True)
    assert "维生素K2 2年" in n.text


def test_glyph_confusions_validated_by_vocabulary():
    n = normalize("Abstract：0bjective 在13本人常食用的纳豆中；凝血因子lI)；VKORCl可能；c一3上¨o。", ocr=True)
    assert "Objective" in n.text
    assert "日本人" in n.text
    assert "凝血因子II)" in n.text
    assert "VKORC1" in n.text
    assert "c-3" in n.text
    rules = {r.rule for r in n.repairs}
    assert {"ocr_zero_to_O", "ocr_13_to_ri", "ocr_l_to_I", "ocr_l_to_1", "ocr_yi_to_hyphen"} <= rules


def test_13_followed_by_a_non_word_is_not_repaired():
    n = normalize("共13本书¨o；第13例患者¨1。", ocr=True)
    assert "13本书" in n.text and "13例" in n.text


@pytest.mark.parametrize("damaged,expected", [
    ("调节剂⋯，其制剂", "调节剂，其制剂"),
    ("功能¨o。近年", "功能。近年"),
    ("作用㈨]。", "作用。"),
    ("(MK-4)∞。。维生素", "(MK-4)。维生素"),
    ("Braam等¨41对155名", "Braam等对155名"),
])
def test_stray_citation_marks_removed(damaged, expected):
    assert normalize(damaged, ocr=True).text == expected


def test_hard_wrapped_lines_joined_headings_kept(seed000):
    n = normalize(seed000)
    assert "本文着重论述维生素K2对骨代谢的影响" in n.text
    assert "Braam等对155名绝经后妇女进行研究随访3年后发现" in n.text
    lines = n.text.split("\n")
    assert "5 结语" in lines
    assert "vitamin K2 on bone metabolism" in n.text  # English lines joined with a space


def test_to_original_maps_clean_spans_back(seed000):
    n = normalize(seed000)
    i = n.text.index("Braam等对155名")
    s, e = n.to_original(i, i + len("Braam等对155名"))
    assert seed000[s:e].startswith("Braam等")
    assert seed000[s:e].endswith("名")
    assert "¨41" in seed000[s:e]  # the removed citation mark lies inside the original span
