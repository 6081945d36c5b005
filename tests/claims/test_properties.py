"""Invariants on arbitrary text: no crash, every repair and every claim points at its exact original span."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbone.claims.check import check_text
from kbone.claims.normalize import normalize

PIECES = ["维生素K：", "维生素K，", "¨o", "∞", "⋯", "13本人", "0bjective", "凝血因子lI)", "\n\n", "\n", "。", "，",
          "骨密度", "椎体骨折", "降低", "64％", "１．７％", "Braam等", "155名", "3年", "《英国骨代谢学杂志》", "維生素",
          "骨質疏鬆", "MK-7", " ", "補充", "RR 0.44 (0.20-0.99)", "© CopyRight", "90-120微克/天", "华法林", "谨慎"]
TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=40).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT, st.sampled_from([None, True, False]))
def test_repairs_point_at_original_text(text, ocr):
    n = normalize(text, ocr=ocr)
    for r in n.repairs:
        assert text[r.start:r.end] == r.before
    for i in range(0, len(n.text), 7):
        s, e = n.to_original(i, min(i + 5, len(n.text)))
        assert 0 <= s <= e <= len(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_claims_are_exact_spans(text):
    if not text.strip():
        return
    rep = check_text(text)
    for c in rep.claims:
        assert text[c.start:c.end] == c.text
