"""Loader and store: malformed records are named precisely, never half-loaded, never a traceback."""

import json
import shutil
import warnings
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbone.evidence.loader import EVIDENCE_DIR, parse_file, validate_path

BRAAM = EVIDENCE_DIR / "braam2003.yaml"


def _write(tmp_path: Path, doc: dict, name: str | None = None) -> Path:
    p = tmp_path / f"{name or doc.get('id', 'x')}.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


def _braam() -> dict:
    return yaml.safe_load(BRAAM.read_text(encoding="utf-8"))


@pytest.mark.parametrize("mutate,field,reason_part", [
    (lambda d: d.pop("citation"), "citation", "Field required"),
    (lambda d: d["arms"][0].update(n_randomized=0, source=d["outcomes"][0]["source"]), "arms[0].n_randomized", "greater than 0"),
    (lambda d: d["arms"][0].update(n_randomized=12.5, source=d["outcomes"][0]["source"]), "arms[0].n_randomized", "integer"),
    (lambda d: d["arms"][0]["intervention"].update(unit="furlong"), "arms[0].intervention.unit", "unknown unit"),
    (lambda d: d["arms"][0]["intervention"].update(unit="week"), "arms[0].intervention.unit", "time unit"),
    (lambda d: d["outcomes"][0].pop("source"), "outcomes[0].source", "Field required"),
    (lambda d: d["outcomes"][0].update(outcome="bone_happiness"), "outcomes[0].outcome", "unknown outcome"),
    (lambda d: d.update(design="anecdote"), "design", "unknown design"),
    (lambda d: d["arms"][0]["intervention"].update(form="MK-77"), "arms[0].intervention.form", "unknown form"),
    (lambda d: d["outcomes"][0]["effect"].update(ci_lower=2.0), "outcomes[0]", "outside its interval"),
])
def test_malformed_record_names_file_record_field_reason(tmp_path, mutate, field, reason_part):
    doc = _braam()
    mutate(doc)
    path = _write(tmp_path, doc, "braam2003")
    rec, problems = parse_file(path)
    assert rec is None
    assert any(p.field.startswith(field) and reason_part in p.reason for p in problems), [str(p) for p in problems]
    assert all(p.file == str(path) for p in problems)
    assert all(p.record == "braam2003" for p in problems if field != "citation")


def test_validate_cli_exits_2_and_names_the_problem(tmp_path, cli):
    doc = _braam()
    doc["arms"][0]["intervention"]["amount"] = -1
    _write(tmp_path, doc, "braam2003")
    code, out, err = cli("evidence", "validate", str(tmp_path), "--json")
    assert code == 2
    prob = json.loads(out)["problems"][0]
    assert prob["record"] == "braam2003" and "amount" in prob["field"]
    assert "Traceback" not in err


def test_file_name_must_match_id(tmp_path):
    path = _write(tmp_path, _braam(), "other_name")
    rec, problems = parse_file(path)
    assert rec is None and problems[0].field == "id"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=4000), noise=st.text(max_size=200))
def test_truncated_or_noisy_yaml_never_raises(tmp_path, cut, noise):
    text = BRAAM.read_text(encoding="utf-8")[:cut] + noise
    p = tmp_path / "braam2003.yaml"
    p.write_text(text, encoding="utf-8")
    rec, problems = parse_file(p)  # must not raise
    assert (rec is None) == bool(problems)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                        max_leaves=20))
def test_random_yaml_documents_give_problems_not_tracebacks(tmp_path, doc):
    p = tmp_path / "x.yaml"
    p.write_text(yaml.safe_dump(doc), encoding="utf-8")
    rec, problems = parse_file(p)
    assert rec is None and problems


def test_binary_file_is_reported(tmp_path):
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"\xff\xfe\x00\x81garbage")
    rec, problems = parse_file(p)
    assert rec is None and "UTF-8" in problems[0].reason


def test_store_rebuilds_on_change_and_keeps_previous_good_store(tmp_path, monkeypatch):
    from kbone import store

    src = tmp_path / "ev"
    src.mkdir()
    for rid in ("braam2003", "sato2005"):
        shutil.copy(EVIDENCE_DIR / f"{rid}.yaml", src)
    monkeypatch.setenv("KBONE_HOME", str(tmp_path / "home"))
    store._ENGINES.clear()
    eng = store.ensure_store(src)
    assert store._stored_digest(eng) is not None
    with eng.connect() as conn:
        n = conn.execute(store.select(store.func.count()).select_from(store.ev_records)).scalar()
    assert n == 2
    # a valid change is picked up
    shutil.copy(EVIDENCE_DIR / "mott2019.yaml", src)
    eng = store.ensure_store(src)
    with eng.connect() as conn:
        assert conn.execute(store.select(store.func.count()).select_from(store.ev_records)).scalar() == 3
    # an invalid change: previous store stays, with a warning
    (src / "bad.yaml").write_text("id: bad\ncitation: {authors: x}\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eng = store.ensure_store(src)
    assert any(issubclass(w.category, store.StoreWarning) for w in caught)
    with eng.connect() as conn:
        assert conn.execute(store.select(store.func.count()).select_from(store.ev_records)).scalar() == 3
    recs, problems = validate_path(src)
    assert problems and problems[0].file.endswith("bad.yaml")
