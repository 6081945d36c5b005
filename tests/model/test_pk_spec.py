"""Model specifications are data: validated at load, safe to evaluate, every parameter with provenance."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from kbone.errors import KboneInputError
from kbone.model.expr import ExpressionError, compile_expression, evaluate_all
from kbone.model.library import model_dir, spec
from kbone.model.spec import ModelSpec, load_spec_file

SHIPPED = ("pk_K1", "pk_MK-4", "pk_MK-7", "pd_carboxylation", "warfarin_pk", "inr")


@pytest.mark.parametrize("text", ["__import__('os')", "x.__class__", "open('f')", "[1, 2]", "lambda: 1",
                                  "'a' + 'b'", "exp(x=1)"])
def test_expressions_cannot_run_code(text):
    with pytest.raises(ExpressionError):
        compile_expression(text)


def test_expressions_evaluate_vectorised_in_dependency_order():
    ns = {"CL": np.array([1.0, 2.0]), "V": np.array([10.0, 10.0])}
    out = evaluate_all({"t_half": compile_expression("log(2) / k"), "k": compile_expression("CL / V")}, ns)
    assert out["t_half"] == pytest.approx(np.log(2) / np.array([0.1, 0.2]))
    with pytest.raises(ExpressionError):
        evaluate_all({"a": compile_expression("b + 1"), "b": compile_expression("a")}, {})


def base_spec() -> dict:
    return {"name": "t", "compartments": [{"name": "a"}, {"name": "b"}],
            "parameters": {"k": {"value": 1.0, "source": "hand"}},
            "flows": [{"from": "a", "to": "b", "rate": "k"}], "outputs": {"y": "b"}}


@pytest.mark.parametrize("mutate,needle", [
    (lambda d: d["flows"].append({"from": "a", "to": "c", "rate": "k"}), "unknown compartment"),
    (lambda d: d["parameters"].update({"q": {"value": 2.0}}), "source"),
    (lambda d: d["outputs"].update({"z": "unknown_name * 2"}), "unknown names"),
    (lambda d: d["outputs"].update({"z": "b.real"}), "not allowed"),
])
def test_bad_specs_fail_at_load(tmp_path, mutate, needle):
    d = base_spec()
    mutate(d)
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(d), encoding="utf-8")
    with pytest.raises(KboneInputError) as e:
        load_spec_file(p)
    assert needle in str(e.value)
    assert e.value.problems[0].file == str(p)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_parameter_has_provenance(name):
    s = spec(name)
    assert isinstance(s, ModelSpec)
    for k, p in s.parameters.items():
        assert p.source or p.assumption or p.fitted, f"{name}.{k}"
        assert p.provenance, f"{name}.{k}"


def test_fitted_file_covers_every_fitted_parameter():
    fitted = yaml.safe_load((model_dir() / "fitted.yaml").read_text(encoding="utf-8"))
    for name in SHIPPED:
        raw = yaml.safe_load((model_dir() / f"{name}.yaml").read_text(encoding="utf-8"))
        for k, p in raw.get("parameters", {}).items():
            if p.get("fitted"):
                v = fitted["parameters"][name][k]
                assert spec(name).parameters[k].value == pytest.approx(v), f"{name}.{k} not applied"
