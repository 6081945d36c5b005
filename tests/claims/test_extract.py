"""Extraction on short real sentences: terms, numbers, directions, hedges, study mentions, references."""

from __future__ import annotations

import pytest

from kbone.claims.extract import extract, split_sentences, term_index
from kbone.claims.normalize import normalize


def claims_of(text: str, **kw):
    n = normalize(text, **kw)
    return extract(n).claims


def one(text: str, **kw):
    cs = claims_of(text, **kw)
    assert len(cs) == 1, [c.text for c in cs]
    return cs[0]


def test_sentence_spans_are_exact_slices(seed000, seed004):
    for text in (seed000, seed004):
        for s in split_sentences(normalize(text)):
            assert text[s.start:s.end] == s.text
            assert s.text.strip() == s.text


def test_english_sentences_split_but_not_at_decimals_or_abbreviations():
    n = normalize("Booth et al. found no effect. BMD changed by 1.7% in 3 years. Vitamin K2 may help.")
    texts = [s.clean for s in split_sentences(n)]
    assert texts == ["Booth et al. found no effect.", "BMD changed by 1.7% in 3 years.", "Vitamin K2 may help."]


def test_terms_use_word_boundaries():
    hits = {(h.kind, h.id) for h in term_index().find("软骨组织也更容易钙化")}
    assert ("agent", "calcium") not in hits  # 钙 inside 钙化 is not calcium
    hits = {(h.kind, h.id) for h in term_index().find("联合应用维生素D和钙可减少未羧化骨钙素")}
    assert ("agent", "calcium") in hits and ("agent", "vitamin_d") in hits and ("outcome", "ucoc") in hits


def test_effect_claim_parts_chinese():
    c = one("一项临床观察发现,持续补充K2(MK-7)12周后,超过68%的骨关节炎患者出现晨僵减轻、疼痛缓解。")
    p = c.parts
    assert p.forms == ["MK-7"]
    assert {"womac_stiffness", "womac_pain"} <= set(p.outcomes)
    assert "oa" in p.populations
    assert p.direction == "benefit"
    dur = p.nums("duration")[0]
    assert dur.value == 12 and dur.unit == "week" and dur.weeks == pytest.approx(12)
    pct = p.nums("percent")[0]
    assert pct.value == 68 and pct.qualifier == "over" and pct.role == "proportion"


def test_dose_range_in_micrograms_per_day():
    c = one("建议选择K2含量在90-120微克/天的营养素补充剂,安全有效。")
    d = c.parts.nums("dose")[0]
    assert (d.low, d.value, d.unit, d.per) == (90, 120, "ug", "day")
    assert d.ug_per_day == pytest.approx(120)
    assert c.kind == "dose"


def test_milligram_dose_converted():
    c = one("Cheung AM等对440名绝经后妇女进行研究，每日服用5mg的维生素K，为期2年。")
    d = c.parts.nums("dose")[0]
    assert d.ug_per_day == pytest.approx(5000)  # 5 mg = 5000 µg (hand computation)


def test_ratio_with_interval():
    c = one("Vitamin K2 reduced vertebral fractures (RR 0.40, 95% CI 0.25-0.65) in Japanese women.")
    r = c.parts.nums("ratio")[0]
    assert (r.measure, r.value, r.low, r.high) == ("RR", 0.40, 0.25, 0.65)
    assert c.parts.outcomes == ["fracture_vertebral"] and c.parts.forms == ["K2"]


def test_or_inside_words_is_not_an_odds_ratio():
    c = one("Cheung et al. randomised 440 postmenopausal women for 2 years to vitamin K1 or placebo.")
    assert not c.parts.nums("ratio")
    assert c.parts.nums("duration")[0].value == 2
    assert c.parts.nums("n")[0].value == 440


@pytest.mark.parametrize("sentence,direction", [
    ("该研究显示每日服用5mg的维生素K不能防止与年龄相关的骨密度下降。", "null"),
    ("补充维生素K1组股骨颈骨密度的下降幅度比安慰剂组少1.7%。", "benefit"),
    ("维生素K缺乏增加年龄相关的骨丢失和骨质疏松性骨折患病危险。", "benefit"),
    ("维生素K不足会加重关节磨损与疼痛。", "benefit"),
    ("MRI检查显示,维K足够者膝关节软骨厚度平均多出12.6%。", "benefit"),
    ("Vitamin K1 did not reduce bone loss at the lumbar spine.", "null"),
])
def test_direction_is_the_effect_of_more_vitamin_k(sentence, direction):
    assert one(sentence).parts.direction == direction


def test_hedges_found():
    c = one("维生素K可能减少绝经后妇女骨质疏松性骨折的发病率。")
    assert c.parts.hedged and "可能" in c.parts.hedges


def test_named_study_mention_with_numbers():
    c = one("Braam等对155名绝经后妇女进行研究随访3年后发现，补充维生素K1组股骨颈骨密度下降较少。")
    assert c.kind == "study" and c.study.kind == "named" and c.study.author == "Braam"
    assert c.parts.nums("n")[0].value == 155
    assert c.parts.nums("duration")[0].weeks == pytest.approx(3 * 365.25 / 7)
    assert "postmenopausal" in c.parts.populations


def test_guideline_mention():
    c = one("日本骨质疏松症防治指南2006版中，维生素K2被列为改善骨密度的B级推荐药物。")
    assert c.study.kind == "guideline" and c.study.country == "JP" and c.study.year == 2006
    assert c.parts.nums("grade")[0].label == "B"


def test_reference_list_entries_and_in_text_journal():
    text = "根据《英国骨代谢学杂志》一项研究:\n维生素K不足会加重关节疼痛。\n参考资料:\n2.《维生素K在骨代谢中的作用综述》中国骨质疏松杂志,2021年第4期\n"
    cs = claims_of(text)
    refs = [c.reference for c in cs if c.reference]
    assert refs[0].kind == "intext" and refs[0].journal == "英国骨代谢学杂志"
    r = refs[1]
    assert (r.kind, r.title, r.journal, r.year, r.issue) == ("list", "维生素K在骨代谢中的作用综述", "中国骨质疏松杂志", 2021, "4")
    attributed = [c for c in cs if c.attributed_to]
    assert attributed and attributed[0].attributed_to.journal == "英国骨代谢学杂志"


def test_english_reference_entry():
    text = ("References\n1. Cheung AM, Tile L, Lee Y. Vitamin K supplementation in postmenopausal women with osteopenia "
            "(ECKO trial): a randomized controlled trial. PLoS Med. 2008;5(10):e196.\n")
    r = [c.reference for c in claims_of(text) if c.reference][0]
    assert r.journal == "PLoS Med" and r.year == 2008 and r.volume == "5" and r.issue == "10"


def test_questions_and_article_self_description_are_not_claims():
    assert not claims_of("维生素K?不是管凝血的吗,跟关节有什么关系?")
    assert not claims_of("本文着重论述维生素K2预防和治疗骨质疏松症的临床应用研究进展。")


def test_safety_claim_detected():
    c = one("特别提醒:抗凝治疗患者应谨慎补K,需由医生评估后决定剂量。")
    assert c.kind == "safety" and c.parts.anticoagulant and c.parts.caution
