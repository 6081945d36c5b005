"""The one vocabulary: vitamin K forms, outcomes, populations, designs, agents, units, countries.

Terms live in ``data/vocab/*.yaml``; this module loads and validates them and answers three questions:
is this id known (``get``), which term does this text name (``resolve``, zh or en, any synonym), and how
does a quantity convert between units (``convert``).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import process

from kbone.errors import KboneInputError, Problem
from kbone.paths import data_path

KINDS = ("form", "outcome", "population", "design", "agent", "unit", "country")
# Attributes each kind may carry besides id/en/zh/synonyms; anything else is a typo (or an unquoted
# comma inside a YAML flow mapping, which silently splits a label into a bogus key).
ATTRS = {"form": {"group", "molar_mass_g_per_mol", "parent_of"}, "outcome": {"group", "site", "unit", "better"},
         "population": set(), "design": {"evidence_start"}, "agent": set(), "unit": {"dimension", "factor"},
         "country": {"region"}}


class Term(BaseModel):
    """One vocabulary term. Kind-specific attributes (``group``, ``site``, ``dimension`` …) are in ``attrs``."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    en: str
    zh: str
    synonyms: tuple[str, ...] = ()
    attrs: dict[str, Any] = Field(default_factory=dict)

    def label(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en

    def __getitem__(self, key: str) -> Any:
        return self.attrs[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


def normalize_key(text: str) -> str:
    """Key for matching names: NFKC (full→half width), lower case, no spaces/hyphens/underscores."""
    t = unicodedata.normalize("NFKC", str(text)).lower()
    for ch in " \t-_·()（）":
        t = t.replace(ch, "")
    return t


class Vocabulary:
    """All terms, indexed by kind and by every surface form."""

    def __init__(self, terms: list[Term], iu_ug: dict[str, float]):
        self._by_kind: dict[str, dict[str, Term]] = {k: {} for k in KINDS}
        self._index: dict[str, dict[str, Term]] = {k: {} for k in KINDS}
        self.iu_ug = dict(iu_ug)
        for t in terms:
            if t.id in self._by_kind[t.kind]:
                raise ValueError(f"duplicate {t.kind} id {t.id!r} in vocabulary")
            self._by_kind[t.kind][t.id] = t
        # ids and labels first, synonyms after, so that an id always wins over another term's synonym
        for kind, terms_k in self._by_kind.items():
            idx = self._index[kind]
            for t in terms_k.values():
                for s in (t.id, t.en, t.zh):
                    idx.setdefault(normalize_key(s), t)
            for t in terms_k.values():
                for s in t.synonyms:
                    idx.setdefault(normalize_key(s), t)

    def terms(self, kind: str) -> list[Term]:
        return list(self._by_kind[kind].values())

    def ids(self, kind: str) -> list[str]:
        return list(self._by_kind[kind])

    def has(self, kind: str, term_id: str) -> bool:
        return term_id in self._by_kind[kind]

    def get(self, kind: str, term_id: str, *, field: str | None = None) -> Term:
        """The term with this exact id; an unknown id raises :class:`KboneInputError` with suggestions."""
        try:
            return self._by_kind[kind][term_id]
        except KeyError:
            raise KboneInputError(Problem(
                field=field or kind, reason=f"unknown {kind} {term_id!r}",
                fix=f"use one of the {kind} ids in kbone's vocabulary (data/vocab)",
                suggestions=self.suggest(kind, term_id))) from None

    def resolve(self, kind: str, text: str) -> Term | None:
        """The term that ``text`` names (id, English or Chinese label, or synonym), or None."""
        return self._index[kind].get(normalize_key(text))

    def resolve_or_raise(self, kind: str, text: str, *, field: str | None = None) -> Term:
        t = self.resolve(kind, text)
        if t is None:
            raise KboneInputError(Problem(
                field=field or kind, reason=f"unknown {kind} {text!r}",
                fix=f"use a {kind} name or id known to kbone", suggestions=self.suggest(kind, text)))
        return t

    def suggest(self, kind: str, text: str, n: int = 3) -> list[str]:
        """Closest ids for a misspelt name."""
        keys = list(self._index[kind])
        if not keys:
            return []
        out: list[str] = []
        for key, _score, _ in process.extract(normalize_key(text), keys, limit=n * 3):
            tid = self._index[kind][key].id
            if tid not in out:
                out.append(tid)
            if len(out) == n:
                break
        return out

    def label(self, kind: str, term_id: str, lang: str = "en") -> str:
        t = self._by_kind[kind].get(term_id)
        return t.label(lang) if t else term_id

    def surface_forms(self, kinds: tuple[str, ...] = KINDS) -> dict[str, Term]:
        """Every spelling (as written in the data, not normalised) → term; used to build tokenizer dictionaries."""
        out: dict[str, Term] = {}
        for kind in kinds:
            for t in self._by_kind[kind].values():
                for s in (t.id, t.en, t.zh, *t.synonyms):
                    out.setdefault(s, t)
        return out

    # ---- units -------------------------------------------------------------------------------
    def convert(self, value: float, from_unit: str, to_unit: str, *, substance: str | None = None) -> float:
        """Convert ``value`` between units (ids or synonyms).

        Mass ↔ IU needs ``substance`` (``vitamin_d``, ``vitamin_e_rrr``…); mass concentration ↔ molar
        concentration and mass ↔ nmol need a vitamin K form id (``K1``, ``MK-4``, ``MK-7``…).
        """
        fu = self.resolve_or_raise("unit", from_unit, field="unit")
        tu = self.resolve_or_raise("unit", to_unit, field="unit")
        fd, td = fu["dimension"], tu["dimension"]
        if fd == td:
            return value * fu["factor"] / tu["factor"]
        pair = {fd, td}
        if pair == {"mass", "iu"}:
            if substance not in self.iu_ug:
                raise KboneInputError(f"IU ↔ mass needs a substance with a defined IU (one of {sorted(self.iu_ug)})",
                                      field="substance", fix="vitamin K has no IU; give its dose in µg or mg")
            ug_per_iu = self.iu_ug[substance]
            if fd == "iu":
                return value * ug_per_iu / tu["factor"]
            return value * fu["factor"] / ug_per_iu
        if pair in ({"concentration_mass", "concentration_molar"}, {"mass", "amount"}):
            mw = self._molar_mass(substance)
            # ng/mL = nmol/L * g/mol / 1000 ; ug = nmol * g/mol / 1000
            if fd in ("concentration_molar", "amount"):
                return value * fu["factor"] * mw / 1000.0 / tu["factor"]
            return value * fu["factor"] * 1000.0 / mw / tu["factor"]
        raise KboneInputError(f"cannot convert {fu.id} ({fd}) to {tu.id} ({td})", field="unit",
                              fix="use units of the same kind")

    def _molar_mass(self, form: str | None) -> float:
        t = self.resolve("form", form or "")
        mw = t.get("molar_mass_g_per_mol") if t else None
        if not mw:
            raise KboneInputError("molar conversion needs a vitamin K form with a known molar mass",
                                  field="form", fix="give form K1, MK-4 or MK-7")
        return float(mw)


@lru_cache(maxsize=1)
def vocab() -> Vocabulary:
    """The shipped vocabulary (loaded once)."""
    terms: list[Term] = []
    iu_ug: dict[str, float] = {}
    for path in sorted(data_path("vocab").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        kind = doc["kind"]
        if kind not in KINDS:
            raise ValueError(f"{path.name}: unknown vocabulary kind {kind!r}")
        for raw in doc["terms"]:
            raw = dict(raw)
            base = {k: raw.pop(k) for k in ("id", "en", "zh") if k in raw}
            syn = tuple(raw.pop("synonyms", []) or [])
            bad = [x for x in (base.get("id"), *syn) if not isinstance(x, str)]
            if bad:  # YAML 1.1 reads NO, y, n … as booleans: quote them
                raise ValueError(f"{path.name}: non-text id or synonym {bad!r} in term {base.get('en')!r}; quote it")
            unknown = set(raw) - ATTRS[kind]
            if unknown:
                raise ValueError(f"{path.name}: term {base.get('id')!r} has unknown keys {sorted(unknown)}; "
                                 "quote labels that contain commas")
            terms.append(Term(kind=kind, synonyms=syn, attrs=raw, **base))
        iu_ug.update(doc.get("iu_ug", {}) or {})
    return Vocabulary(terms, iu_ug)
