"""``kbone evidence`` commands over the shipped base."""

import json

from kbone.evidence.loader import load_records


def test_list_json_returns_all_records(cli):
    code, out, _ = cli("evidence", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == len(load_records()) >= 60
    assert {"id", "citation", "forms", "outcomes", "integrity"} <= set(rows[0])


def test_list_filters_use_vocabulary_in_both_languages(cli):
    _, out_en, _ = cli("evidence", "list", "--form", "MK-4", "--json")
    _, out_zh, _ = cli("evidence", "list", "--form", "四烯甲萘醌", "--json")
    en, zh = json.loads(out_en), json.loads(out_zh)
    assert en == zh and en
    assert all("MK-4" in r["forms"] for r in en)
    expected = {r.id for r in load_records() if "MK-4" in r.forms}
    assert {r["id"] for r in en} == expected


def test_list_integrity_retracted(cli):
    code, out, _ = cli("evidence", "list", "--integrity", "retracted", "--json")
    ids = {r["id"] for r in json.loads(out)}
    assert {"sato1998", "sato2002", "sato2005", "iwamoto2009"} <= ids
    assert all(r["integrity"] == "retracted" for r in json.loads(out))


def test_unknown_filter_values_exit_2_with_suggestions(cli):
    code, out, _ = cli("evidence", "list", "--form", "MK-77", "--json")
    assert code == 2
    assert json.loads(out)["problems"][0]["field"] == "form"
    code, _, err = cli("evidence", "list", "--integrity", "dubious")
    assert code == 2 and "integrity" in err


def test_show_unknown_id_suggests(cli):
    code, out, _ = cli("evidence", "show", "braam2004", "--json")
    assert code == 2
    assert "braam2003" in json.loads(out)["problems"][0]["suggestions"]


def test_search_zh_and_en(cli):
    _, out, _ = cli("evidence", "search", "femoral neck", "--json")
    assert "braam2003" in {r["id"] for r in json.loads(out)}
    _, out, _ = cli("evidence", "search", "股骨颈骨密度", "--json")
    assert "braam2003" in {r["id"] for r in json.loads(out)}


def test_summary_counts_add_up(cli):
    code, out, _ = cli("evidence", "summary", "--json")
    data = json.loads(out)
    recs = load_records()
    assert data["records"] == len(recs)
    assert data["integrity"]["retracted"] == sum(r.integrity.status == "retracted" for r in recs)
    assert data["form"]["MK-7"] == sum("MK-7" in r.forms for r in recs)


def test_show_text_in_both_languages(cli):
    code, out, _ = cli("evidence", "show", "braam2003", "--lang", "zh")
    assert code == 0 and "股骨颈骨密度" in out
    code, out, _ = cli("evidence", "show", "braam2003", "--lang", "en")
    assert "femoral neck BMD" in out


def test_fhir_export_is_an_r5_bundle(cli):
    code, out, _ = cli("evidence", "show", "braam2003", "--fhir")
    b = json.loads(out)
    assert b["resourceType"] == "Bundle"
    kinds = [e["resource"]["resourceType"] for e in b["entry"]]
    assert kinds[0] == "Citation" and kinds.count("Evidence") == len(load_records() and
                                                                     [r for r in load_records() if r.id == "braam2003"][0].outcomes)
    fn = [e["resource"] for e in b["entry"] if e["resource"]["id"] == "braam2003-fn-bmd-mdk-vs-placebo"][0]
    est = fn["statistic"][0]["attributeEstimate"][0]["range"]
    assert (est["low"]["value"], est["high"]["value"]) == (0.35, 3.44)
