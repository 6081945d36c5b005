"""``kbone assess``: JSON contract, exit codes for bad profiles, HTML report structure and links, PDF."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from kbone.assess.report import render_html
from kbone.assess.rules import SEVERITY_RANK
from tests.assess.conftest import EXAMPLES, assessed
from tests.conftest import require

SECTIONS = ("summary", "alerts", "screening", "intake", "status", "options", "clinician", "sources")


def test_json_contract(cli):
    code, out, err = cli("assess", EXAMPLES / "warfarin_asks_mk7.yaml", "--json", "--no-model")
    assert code == 0, err
    d = json.loads(out)
    for key in ("alerts", "screening", "intake", "options"):
        assert key in d
    ranks = [SEVERITY_RANK[a["severity"]] for a in d["alerts"]]
    assert ranks == sorted(ranks) and d["alerts"][0]["severity"] == "major"
    for o in d["options"]:
        assert o["evidence_grade"] and len(o["records"]) >= 1
        assert o["dose_ug"] is None  # on warfarin: no dose outside the clinic
    assert d["screening"]["osta"]["index"] == pytest.approx((70 - 72) * 0.2)


def test_osteoporotic_woman_gets_the_high_risk_class(cli):
    code, out, _ = cli("assess", EXAMPLES / "osteoporosis_osta_high.yaml", "--json", "--no-model")
    d = json.loads(out)
    assert code == 0
    assert d["screening"]["osta"]["index"] == pytest.approx(-6.0)   # (45 - 75) x 0.2
    assert d["screening"]["osta"]["risk"] == "high"
    assert d["screening"]["t_score"]["category"] == "severe_osteoporosis"


def test_nmtt_patient_with_poor_intake(cli):
    code, out, _ = cli("assess", EXAMPLES / "nmtt_poor_intake.yaml", "--json", "--no-model")
    d = json.loads(out)
    assert d["alerts"][0]["id"] == "nmtt_low_intake" and d["alerts"][0]["severity"] == "major"
    assert d["intake"]["below_reference"] is True


@pytest.mark.parametrize("bad, field, words", [
    ({"age": 300}, "age", "110"),
    ({"weight": -4}, "weight", "greater than 0"),
    ({"medicines": ["warfrin"]}, "medicines[0]", "unknown medicine"),
    ({"medicines": [{"name": "warfarin", "inr_target": "two to three"}]}, "medicines[0].inr_target", "not text"),
])
def test_invalid_profiles_exit_2(cli, tmp_path, bad, field, words):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"age": 60, "sex": "female", "weight": 60, **bad}), encoding="utf-8")
    html = tmp_path / "r.html"
    code, out, err = cli("assess", p, "--json", "--html", html)
    assert code == 2
    probs = json.loads(out)["problems"]
    hit = next(x for x in probs if x["field"] == field)
    assert words in hit["reason"]
    if field == "medicines[0]":
        assert hit["suggestions"][0].startswith("warfarin")
    assert not html.exists(), "nothing half-written"
    code, _, err = cli("assess", p)
    assert code == 2 and field in err


def test_missing_profile_and_bad_language(cli, tmp_path):
    assert cli("assess", tmp_path / "none.yaml")[0] == 2
    assert cli("assess", EXAMPLES / "doac_user.yaml", "--lang", "fr")[0] == 2


def test_text_output_in_both_languages(cli):
    code, out, _ = cli("assess", EXAMPLES / "warfarin_asks_mk7.yaml", "--lang", "zh", "--no-model")
    assert code == 0 and "维生素K拮抗剂" in out and "严重" in out
    code, out, _ = cli("assess", EXAMPLES / "warfarin_asks_mk7.yaml", "--lang", "en", "--no-model")
    assert code == 0 and "vitamin K antagonist" in out.replace("\n", " ")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.nums = set(), [], 0
        self._in_num = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.hrefs.append(a["href"][1:])
            if a.get("class") == "num":
                self.nums += 1
        if tag in ("script", "link") or (tag == "img" and not a.get("src", "").startswith("data:")):
            raise AssertionError(f"external resource in a self-contained report: {tag} {a}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_sections_links_and_sources(lang):
    a = assessed("seed004_knee_oa.yaml", model=True)
    html = render_html(a, lang)
    p = _Links()
    p.feed(html)
    for s in SECTIONS:
        assert s in p.ids
    assert p.nums > 10
    missing = [h for h in p.hrefs if h not in p.ids]
    assert not missing, f"links without a target: {missing[:5]}"
    # every option's records are listed as sources
    for o in a.options:
        for rid in o.records:
            assert f"src-rec-{rid}" in p.ids
    # plots are inline SVG
    assert len(re.findall(r'src="data:image/svg\+xml;base64,', html)) >= 2
    assert ("写给您的要点" in html) == (lang == "zh")
    assert ("no trial evidence" in html) == (lang == "en")


def test_html_for_vka_user_leads_with_the_alert(tmp_path, cli):
    out = tmp_path / "w.html"
    code, _, _ = cli("assess", EXAMPLES / "warfarin_asks_mk7.yaml", "--html", out, "--lang", "en", "--no-model")
    assert code == 0
    html = out.read_text(encoding="utf-8")
    first_alert = html.index('class="alert major"')
    assert first_alert < html.index('id="screening"') < html.index('id="options"')
    assert "Dose studied" not in html  # no dose suggestion anywhere for a VKA user


def test_pdf_needs_a_cjk_font(tmp_path, cli):
    from kbone.assess.report import cjk_font_available

    try:
        import weasyprint  # noqa: F401
        have = True
    except ImportError:
        have = False
    require(have and cjk_font_available(), "weasyprint and a CJK font (Debian fonts-noto-cjk)")
    pdf = tmp_path / "r.pdf"
    code, _, err = cli("assess", EXAMPLES / "osteoporosis_osta_high.yaml", "--pdf", pdf, "--lang", "zh", "--no-model")
    assert code == 0, err
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 20_000
    # the Chinese text is set in an embedded CJK font (font names live in compressed object streams)
    import zlib

    names = set()
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            names |= set(re.findall(rb"/(?:BaseFont|FontName)\s*/([A-Za-z+\-]+)", zlib.decompress(m.group(1))))
        except zlib.error:
            continue
    assert any(b"CJK" in n for n in names), names
