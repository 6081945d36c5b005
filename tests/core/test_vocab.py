"""Vocabulary: lookups by any spelling, and unit conversions checked against independent values."""

import pytest

from kbone.errors import KboneInputError
from kbone.vocab import normalize_key, vocab


@pytest.mark.parametrize("text,expected", [
    ("四烯甲萘醌", "MK-4"), ("甲萘醌-4", "MK-4"), ("menatetrenone", "MK-4"), ("MK4", "MK-4"),
    ("维生素K2", "K2"), ("phylloquinone", "K1"), ("维生素K1", "K1"), ("ＭＫ－７", "MK-7"),  # full-width
    ("mk-7", "MK-7"), ("dihydrophylloquinone", "dihydro_K1"),
])
def test_form_synonyms_resolve(text, expected):
    assert vocab().resolve("form", text).id == expected


@pytest.mark.parametrize("text,expected", [
    ("vertebral_fracture", "fracture_vertebral"), ("椎体骨折", "fracture_vertebral"),
    ("femoral neck BMD", "bmd_femoral_neck"), ("股骨颈骨密度", "bmd_femoral_neck"), ("dp-ucMGP", "dp_ucmgp"),
    ("晨僵", "womac_stiffness"), ("INR", "inr"),
])
def test_outcome_synonyms_resolve(text, expected):
    assert vocab().resolve("outcome", text).id == expected


def test_every_term_has_both_languages_and_unique_surface_forms():
    v = vocab()
    for kind in ("form", "outcome", "population", "design", "agent", "unit", "country"):
        terms = v.terms(kind)
        assert terms, kind
        for t in terms:
            assert t.en.strip() and t.zh.strip(), (kind, t.id)
            # every id resolves to itself: no synonym of another term shadows an id
            assert v.resolve(kind, t.id).id == t.id, (kind, t.id)


def test_mass_conversions():
    v = vocab()
    assert v.convert(45, "mg", "µg") == pytest.approx(45000)
    assert v.convert(1, "g", "mg") == pytest.approx(1000)
    assert v.convert(2, "year", "week") == pytest.approx(2 * 365.25 / 7)


def test_iu_needs_a_substance_and_vitamin_d_is_40_iu_per_ug():
    v = vocab()
    # IOM 2011: 1 µg cholecalciferol = 40 IU
    assert v.convert(400, "IU", "ug", substance="vitamin_d") == pytest.approx(10)
    assert v.convert(25, "ug", "IU", substance="vitamin_d") == pytest.approx(1000)
    with pytest.raises(KboneInputError) as e:
        v.convert(100, "IU", "ug", substance="K1")
    assert "IU" in str(e.value)


def test_molar_conversions_match_sato_2012():
    # Sato 2012 (Nutr J 11:93): 420 µg MK-4 = 945 nmol, 420 µg MK-7 = 647 nmol
    v = vocab()
    assert v.convert(420, "ug", "nmol", substance="MK-4") == pytest.approx(945, abs=1)
    assert v.convert(420, "ug", "nmol", substance="MK-7") == pytest.approx(647, abs=1)
    # 1 nmol/L K1 (450.7 g/mol) = 0.4507 ng/mL; and back
    assert v.convert(1, "nmol/L", "ng/mL", substance="K1") == pytest.approx(0.4507)
    assert v.convert(v.convert(3.3, "nmol/L", "pg/mL", substance="MK-7"), "pg/mL", "nmol/L", substance="MK-7") == pytest.approx(3.3)


def test_incompatible_units_and_unknown_terms_raise_with_suggestions():
    v = vocab()
    with pytest.raises(KboneInputError):
        v.convert(1, "mg", "week")
    with pytest.raises(KboneInputError) as e:
        v.get("form", "MK7x")
    assert e.value.problems[0].suggestions


def test_normalize_key_folds_width_and_case():
    assert normalize_key("ＭＫ－４") == normalize_key("mk 4") == "mk4"


def test_labels_with_commas_are_whole():
    # an unquoted comma in a YAML flow mapping once cut these labels short
    v = vocab()
    assert v.get("outcome", "bone_turnover").en == "bone turnover markers (CTX, NTX, P1NP, BSALP)"
    assert v.get("agent", "minerals").en == "minerals (magnesium, zinc)"


def test_version_flag(cli):
    from kbone import __version__

    code, out, _ = cli("--version")
    assert code == 0 and out.strip() == __version__
