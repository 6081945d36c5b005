"""Declarative model specifications: compartments, parameters, equations — data, not solver code.

A :class:`ModelSpec` is read from YAML (``data/model/*.yaml``) and says *what* the model is:

- ``compartments`` — named amounts (state variables), optionally with an initial value expression;
- ``parameters`` — value, unit, between-subject variability (log-normal CV), and either a ``source``,
  ``assumption: true`` or ``fitted: true`` (value written by ``scripts/calibrate_pkpd.py``);
- ``covariates`` / ``inputs`` — per-subject covariates (``WT``, ``AGE`` …) and time-varying signals
  supplied by another model (``Cw``, ``act_hep`` …);
- ``derived`` — per-subject expressions of parameters and covariates (``k10: CL / V1``);
- ``flows`` — first-order transfers that move amount (``from`` → ``to``, ``to: null`` = elimination);
- ``signals`` — first-order *drives* that do not deplete their source (effect compartments);
- ``forcing`` — zero-order inputs that may depend on ``inputs`` but not on states;
- ``nonlinear`` — extra rate terms that may depend on states (Michaelis–Menten etc.);
- ``algebraic`` — time-varying helper quantities of ``inputs`` and per-subject values (used by
  ``forcing``, ``nonlinear`` and ``outputs``);
- ``bioavailability`` — fraction of a dose into a compartment that reaches it (per subject);
- ``dose_variables`` / ``dose_factor`` — per-dose multiplier of the amount, an expression of
  parameters and dose-row variables (e.g. grams of fat eaten with the dose);
- ``tables`` — lookup tables for categorical covariates (genotype → effect), each with a source;
- ``outputs`` — observed quantities as expressions of states, parameters and inputs.

A spec without ``nonlinear`` terms is linear (affine) in its states and is solved exactly by
:mod:`kbone.model.linear`; any spec can be solved by the general ODE path :mod:`kbone.model.ode`.
Neither solver knows what the compartments mean.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from kbone.errors import KboneInputError, Problem
from kbone.model.expr import Expression, ExpressionError, closure, compile_expression, evaluate_all

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_load(text: str):
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - safe loader (C version when available)


class Parameter(BaseModel):
    """One model parameter with its provenance. ``iiv_cv`` is the log-normal between-subject CV (0.3 = 30 %)."""

    model_config = ConfigDict(extra="forbid")

    value: float
    unit: str = "1"
    iiv_cv: float | None = Field(default=None, ge=0)
    source: str | None = None
    assumption: bool = False
    fitted: bool = False
    bounds: tuple[float, float] | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _provenance(self) -> Parameter:
        if not (self.source or self.assumption or self.fitted):
            raise ValueError("a parameter needs a source, assumption: true, or fitted: true")
        return self

    @property
    def provenance(self) -> str:
        if self.fitted:
            return "fitted (scripts/calibrate_pkpd.py)" + (f"; {self.source}" if self.source else "")
        if self.assumption:
            return "ASSUMPTION" + (f": {self.note}" if self.note else "")
        return self.source or ""


class Compartment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    initial: str | float = 0.0


class Flow(BaseModel):
    """First-order transfer: ``rate`` (1/time) × amount in ``from`` leaves it and enters ``to`` (None = out)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from")
    target: str | None = Field(default=None, alias="to")
    rate: str | float


class Signal(BaseModel):
    """Non-depleting drive: d(to)/dt += ``gain`` × amount in ``from`` (the source keeps its amount)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    gain: str | float


class Table(BaseModel):
    """Categorical covariate → numeric value (e.g. genotype → fraction of clearance retained)."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, float]
    unit: str = "1"
    source: str

    def lookup(self, keys, *, field: str) -> np.ndarray:
        out = []
        for k in keys:
            if k not in self.values:
                raise KboneInputError(Problem(field=field, reason=f"unknown value {k!r}",
                                              fix=f"use one of: {', '.join(self.values)}"))
            out.append(self.values[k])
        return np.asarray(out, dtype=float)


class ModelSpec(BaseModel):
    """A model as data. See the module docstring for the meaning of each section."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    time_unit: str = "h"
    amount_unit: str = "nmol"
    references: list[str] = Field(default_factory=list)
    compartments: list[Compartment]
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    covariates: dict[str, float] = Field(default_factory=dict, description="name → reference value")
    inputs: list[str] = Field(default_factory=list)
    derived: dict[str, str | float] = Field(default_factory=dict)
    flows: list[Flow] = Field(default_factory=list)
    signals: list[Signal] = Field(default_factory=list)
    algebraic: dict[str, str | float] = Field(default_factory=dict)
    forcing: dict[str, str | float] = Field(default_factory=dict)
    nonlinear: dict[str, str | float] = Field(default_factory=dict)
    bioavailability: dict[str, str | float] = Field(default_factory=dict)
    dose_variables: dict[str, float] = Field(default_factory=dict)
    dose_factor: str | float = 1.0
    tables: dict[str, Table] = Field(default_factory=dict)
    outputs: dict[str, str | float] = Field(default_factory=dict)

    _file: str | None = PrivateAttr(default=None)

    @field_validator("compartments")
    @classmethod
    def _unique_compartments(cls, v: list[Compartment]) -> list[Compartment]:
        names = [c.name for c in v]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate compartments: {sorted(dup)}")
        return v

    @model_validator(mode="after")
    def _check_names(self) -> ModelSpec:
        comp = set(self.state_names)
        per_subject = set(self.parameters) | set(self.covariates) | set(self.derived)
        clash = (comp & per_subject) | (set(self.inputs) & (comp | per_subject))
        clash |= set(self.algebraic) & (comp | per_subject | set(self.inputs))
        if clash:
            raise ValueError(f"names used twice (compartment/parameter/input): {sorted(clash)}")
        for f in self.flows:
            for c in (f.source, f.target):
                if c is not None and c not in comp:
                    raise ValueError(f"flow names unknown compartment {c!r}")
        for s in self.signals:
            for c in (s.source, s.target):
                if c not in comp:
                    raise ValueError(f"signal names unknown compartment {c!r}")
        for section in ("forcing", "nonlinear", "bioavailability"):
            for c in getattr(self, section):
                if c not in comp:
                    raise ValueError(f"{section} names unknown compartment {c!r}")
        # compile everything once so that a bad expression fails at load, naming its place
        allowed_subject = per_subject
        for where, exprs, extra in (
            ("derived", self.derived, set()),
            ("flows", {f"{f.source}->{f.target}": f.rate for f in self.flows}, set()),
            ("signals", {f"{s.source}->{s.target}": s.gain for s in self.signals}, set()),
            ("bioavailability", self.bioavailability, set()),
            ("dose_factor", {"dose_factor": self.dose_factor}, set(self.dose_variables)),
            ("algebraic", self.algebraic, set(self.inputs) | set(self.algebraic)),
            ("forcing", self.forcing, set(self.inputs) | set(self.algebraic)),
            ("nonlinear", self.nonlinear, set(self.inputs) | set(self.algebraic) | comp),
            ("outputs", self.outputs, set(self.inputs) | set(self.algebraic) | comp | set(self.outputs)),
            ("initial", {c.name: c.initial for c in self.compartments}, set()),
        ):
            for key, text in exprs.items():
                try:
                    e = compile_expression(text)
                except ExpressionError as err:
                    raise ValueError(f"{where}.{key}: {err}") from None
                unknown = e.names - allowed_subject - extra
                if unknown:
                    raise ValueError(f"{where}.{key}: unknown names {sorted(unknown)}")
        return self

    # ---- structure ---------------------------------------------------------------------------
    @property
    def state_names(self) -> list[str]:
        return [c.name for c in self.compartments]

    def index(self, compartment: str) -> int:
        try:
            return self.state_names.index(compartment)
        except ValueError:
            raise KboneInputError(Problem(field="CMT", reason=f"model {self.name} has no compartment {compartment!r}",
                                          fix=f"use one of: {', '.join(self.state_names)}")) from None

    @property
    def is_linear(self) -> bool:
        return not self.nonlinear

    def nonlinear_dependencies(self) -> tuple[dict[str, Expression], set[str]]:
        """The algebraic definitions the nonlinear terms use and every name those terms read (states,
        parameters, inputs, directly or through the algebraic definitions)."""
        exprs = self.expressions("nonlinear")
        alg = self.expressions("algebraic")
        used = {k: alg[k] for k in closure({nm for e in exprs.values() for nm in e.names}, alg)}
        return used, {nm for e in (*exprs.values(), *used.values()) for nm in e.names}

    @cached_property
    def _compiled(self) -> dict[str, Any]:
        c = compile_expression
        return {
            "derived": {k: c(v) for k, v in self.derived.items()},
            "flows": [(f, c(f.rate)) for f in self.flows],
            "signals": [(s, c(s.gain)) for s in self.signals],
            "algebraic": {k: c(v) for k, v in self.algebraic.items()},
            "dose_factor": c(self.dose_factor),
            "forcing": {k: c(v) for k, v in self.forcing.items()},
            "nonlinear": {k: c(v) for k, v in self.nonlinear.items()},
            "bio": {k: c(v) for k, v in self.bioavailability.items()},
            "outputs": {k: c(v) for k, v in self.outputs.items()},
            "initial": {cm.name: c(cm.initial) for cm in self.compartments},
        }

    def expressions(self, section: str) -> Any:
        return self._compiled[section]

    # ---- per-subject evaluation --------------------------------------------------------------
    def typical_values(self) -> dict[str, float]:
        return {k: p.value for k, p in self.parameters.items()}

    def individual(self, n: int, params: dict[str, Any] | None = None,
                   covariates: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
        """Namespace of per-subject arrays (length ``n``): parameters, covariates and derived values.

        ``params`` overrides typical parameter values (arrays of length ``n`` or scalars); covariates
        default to their reference values.
        """
        ns: dict[str, Any] = {}
        params = params or {}
        covariates = covariates or {}
        for k, p in self.parameters.items():
            ns[k] = np.broadcast_to(np.asarray(params.get(k, p.value), dtype=float), (n,))
        for k, ref in self.covariates.items():
            ns[k] = np.broadcast_to(np.asarray(covariates.get(k, ref), dtype=float), (n,))
        evaluate_all(self.expressions("derived"), ns)
        return {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)) for k, v in ns.items()}

    def rate_matrix(self, ns: dict[str, np.ndarray], n: int) -> np.ndarray:
        """The (n, m, m) matrix K of the linear part: dx/dt = K x + forcing."""
        m = len(self.compartments)
        K = np.zeros((n, m, m))
        for f, e in self.expressions("flows"):
            r = np.broadcast_to(np.asarray(e.evaluate(ns), dtype=float), (n,))
            i = self.index(f.source)
            K[:, i, i] -= r
            if f.target is not None:
                K[:, self.index(f.target), i] += r
        for s, e in self.expressions("signals"):
            g = np.broadcast_to(np.asarray(e.evaluate(ns), dtype=float), (n,))
            K[:, self.index(s.target), self.index(s.source)] += g
        return K

    def bioavailability_vector(self, ns: dict[str, np.ndarray], n: int) -> np.ndarray:
        """(n, m) fraction of a dose into each compartment that reaches it (1 where not declared)."""
        F = np.ones((n, len(self.compartments)))
        for c, e in self.expressions("bio").items():
            F[:, self.index(c)] = np.broadcast_to(np.asarray(e.evaluate(ns), dtype=float), (n,))
        return F

    def initial_state(self, ns: dict[str, np.ndarray], n: int) -> np.ndarray:
        x0 = np.zeros((n, len(self.compartments)))
        for i, (_c, e) in enumerate(self.expressions("initial").items()):
            x0[:, i] = np.broadcast_to(np.asarray(e.evaluate(ns), dtype=float), (n,))
        return x0

    def merged(self, other: ModelSpec, name: str | None = None) -> ModelSpec:
        """A new spec holding both specs' compartments, parameters and equations (names must not clash)."""
        data = self.model_dump(by_alias=True)
        o = other.model_dump(by_alias=True)
        for key in ("compartments", "flows", "signals", "references"):
            data[key] = data[key] + o[key]
        for key in ("parameters", "covariates", "derived", "algebraic", "forcing", "nonlinear", "bioavailability",
                    "outputs", "tables", "dose_variables"):
            both = set(data[key]) & set(o[key])
            if both and key not in ("covariates", "dose_variables"):
                raise ValueError(f"cannot merge {self.name} and {other.name}: {key} {sorted(both)} in both")
            data[key] = {**data[key], **o[key]}
        data["inputs"] = [i for i in dict.fromkeys(data["inputs"] + o["inputs"])
                          if i not in {c["name"] for c in data["compartments"]}]
        data["name"] = name or f"{self.name}+{other.name}"
        return ModelSpec.model_validate(data)


def load_spec_file(path: str | Path, overrides: dict[str, float] | None = None) -> ModelSpec:
    """Read a spec from YAML; ``overrides`` replace parameter values (used for fitted values)."""
    path = Path(path)
    raw = _yaml_load(path.read_text(encoding="utf-8"))
    if overrides:
        for k, v in overrides.items():
            if k in raw.get("parameters", {}):
                raw["parameters"][k]["value"] = float(v)
    try:
        spec = ModelSpec.model_validate(raw)
    except Exception as e:  # pydantic ValidationError → a readable problem naming the file
        raise KboneInputError(Problem(field="model spec", reason=str(e), file=str(path),
                                      fix="correct the model specification file")) from None
    spec._file = str(path)
    return spec


def expression(text: str) -> Expression:
    """Compile one expression (re-exported for callers that evaluate spec-like formulas)."""
    return compile_expression(text)
