"""Verdicts on short real sentences, one per claim type, checked against published numbers in the records.

Independent values used: Braam 2003 (Calcif Tissue Int 73:21) femoral-neck difference 1.7% (95% CI 0.35–3.44)
over 3 years in 155 completers; Cheung 2008 (PLoS Med 5:e196) 440 women with osteopenia, K1 5 mg/day, 2 years;
Mott 2019 (Osteoporos Int 30:1543) vertebral fracture OR 0.96 (0.83–1.11); Salma 2022 vertebral OR 0.42;
Misra 2013 (Am J Med 126:243) incident knee OA RR 1.56; Theuwissen 2013 (J Thromb Haemost 11:1085) MK-7
10–20 µg/day changes the INR; IOM 2001 adequate intakes 90 (women) and 120 (men) µg/day.
"""

from __future__ import annotations

import pytest

from kbone.claims.check import check_text


def one(text: str, **kw):
    rep = check_text(text, **kw)
    assert len(rep.claims) == 1, [c.text for c in rep.claims]
    c = rep.claims[0]
    assert text[c.start:c.end] == c.text
    assert c.reason_en and c.reason_zh
    return c


def check(c, field):
    return [k for k in c.checks if k.field == field]


def test_study_correct_description_is_supported():
    c = one("Braam等对155名绝经后妇女随访3年，补充维生素K1组股骨颈骨密度的下降幅度比安慰剂组少1.7%。")
    assert c.verdict == "supported"
    assert c.study.record == "braam2003" and "braam2003" in c.records
    assert all(k.ok for k in c.checks if k.ok is not None)
    assert any(k.field == "number" and k.ok for k in c.checks)


def test_study_wrong_site_is_reported():
    c = one("Braam等对155名绝经后妇女进行研究随访3年后发现，补充维生素K1组髋部骨密度的下降幅度比安慰剂组少1.7%。")
    assert c.verdict == "partly_supported"
    site = check(c, "site")
    assert site and site[0].ok is False and site[0].found == "bmd_femoral_neck"
    assert "femoral neck" in c.reason_en and "股骨颈" in c.reason_zh


def test_study_wrong_form_and_population_reported():
    c = one("Cheung AM等对440名绝经后骨质疏松症患者进行了为期2年的研究，每日服用5mg的维生素K2。")
    assert c.study.record == "cheung2008"
    bad = {k.field for k in c.checks if k.ok is False}
    assert {"form", "population"} <= bad
    ok = {k.field for k in c.checks if k.ok}
    assert {"n", "duration", "dose"} <= ok
    assert c.verdict == "partly_supported"


def test_english_study_mention_supported():
    c = one("Cheung et al. randomised 440 postmenopausal women with osteopenia to 5 mg vitamin K1 daily for 2 years; "
            "it did not protect against age-related decline in bone mineral density.")
    assert c.verdict == "supported" and c.records == ["cheung2008"]


def test_unknown_author_is_not_checkable():
    c = one("Zhangsanfeng等对300名妇女研究发现维生素K2可增加骨密度。")
    assert c.verdict == "not_checkable"


def test_number_matching_one_meta_analysis_but_outside_another_is_partly_supported():
    c = one("维生素K2能降低椎体骨折风险60%。")
    assert c.verdict == "partly_supported"
    assert {"salma2022", "mott2019"} <= set(c.records)


def test_number_outside_every_clean_interval_is_contradicted():
    c = one("维生素K使椎体骨折减少90%。")
    assert c.verdict == "contradicted"
    assert "mott2019" in c.records  # OR 0.96 (0.83–1.11) excludes 0.10


def test_invented_number_is_unsupported():
    c = one("MRI检查显示,维K足够者膝关节软骨厚度平均多出12.6%,提示结构性改善。")
    assert c.verdict == "unsupported"
    assert "12.6%" in c.reason_en


def test_association_supported_by_cohorts():
    c = one("维生素K缺乏与膝骨关节炎发病风险增加相关。")
    assert c.verdict == "supported"
    assert "misra2013" in c.records and "1.56" in c.reason_en


def test_supplement_effect_without_trials_is_unsupported():
    c = one("补充维生素K2可以缓解膝关节疼痛。")
    assert c.verdict == "unsupported"


def test_fracture_claim_names_retracted_or_flagged_support():
    c = one("可见，维生素K具有骨折预防作用。")
    assert c.verdict == "partly_supported"
    assert "retracted" in c.reason_en.lower() or "flagged" in c.reason_en.lower()
    assert {"cockayne2006", "iwamoto2009"} & set(c.records)
    assert c.grade in ("high", "moderate", "low", "very_low")


def test_safety_caution_supported_with_alert():
    c = one("服用华法林的患者应谨慎补充维生素K，需在医生指导下调整剂量。")
    assert c.kind == "safety" and c.verdict == "supported" and c.alert
    assert "theuwissen2013" in c.records


def test_dose_claim_partly_supported_with_reference_intake():
    rep = check_text("建议每天补充维生素K2 90-120微克，安全有效。")
    c = rep.claims[0]
    assert c.kind == "dose" and c.verdict == "partly_supported"
    assert "90 µg/day" in c.reason_en and "120 µg/day" in c.reason_en  # IOM adequate intakes
    assert rep.alerts  # anticoagulant warning accompanies any dose advice


def test_pk_half_life_comparison():
    c = one("MK-7的半衰期比K1更长。")
    assert c.kind == "pk" and c.verdict == "supported"
    assert "schurgers2007" in c.records


def test_mechanism_not_checkable():
    c = one("维生素K2通过激活SXR受体调节基因表达。")
    assert c.kind == "mechanism" and c.verdict == "not_checkable"


@pytest.mark.parametrize("line,verdict", [
    ("3.《K2对膝骨关节炎缓解作用的随机对照试验》英国骨代谢学杂志,2022年", "unsupported"),
    ("2.《维生素K在骨代谢与软骨保护中的作用综述》中国骨质疏松杂志,2021年第4期", "not_checkable"),
    ("1. Cheung AM, Tile L, Lee Y. Vitamin K supplementation in postmenopausal women with osteopenia (ECKO trial): "
     "a randomized controlled trial. PLoS Med. 2008;5(10):e196.", "supported"),
])
def test_references(line, verdict):
    rep = check_text("参考资料:\n" + line + "\n")
    c = [c for c in rep.claims if c.kind == "reference"][0]
    assert c.verdict == verdict
    journal = [k for k in c.checks if k.field == "journal"]
    assert journal and journal[0].ok is (verdict != "unsupported")


def test_reasons_are_bilingual_and_lang_selects():
    en = check_text("维生素K使椎体骨折减少90%。", lang="en").claims[0]
    zh = check_text("维生素K使椎体骨折减少90%。", lang="zh").claims[0]
    assert en.reason == en.reason_en and zh.reason == zh.reason_zh
    assert "置信区间" in zh.reason_zh
