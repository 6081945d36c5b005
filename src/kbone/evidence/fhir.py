"""Export one evidence record as FHIR R5 ``Citation`` + ``Evidence`` resources (a collection Bundle).

Element names follow https://hl7.org/fhir/Evidence.html (R5, trial use): ``citeAs``, ``variableDefinition``,
``statistic`` (``statisticType``, ``quantity``, ``sampleSize``, ``attributeEstimate``), ``studyDesign``, ``note``.
Statistic-type codes come from ``data/fhir/statistic_types.yaml``.
"""

from __future__ import annotations

from functools import lru_cache

import yaml

from kbone.evidence.schema import Outcome, Record
from kbone.paths import data_path
from kbone.vocab import vocab


@lru_cache(maxsize=1)
def _stat_types() -> dict:
    return yaml.safe_load(data_path("fhir", "statistic_types.yaml").read_text(encoding="utf-8"))


def _citation(rec: Record) -> dict:
    c = rec.citation
    ids = []
    if c.doi:
        ids.append({"system": "https://doi.org", "value": c.doi})
    if c.pmid:
        ids.append({"system": "https://pubmed.ncbi.nlm.nih.gov", "value": c.pmid})
    art = {"title": [{"text": c.title}] if c.title else [],
           "contributorship": {"summary": [{"value": c.authors}]},
           "publicationForm": [{"publishedIn": {"title": c.journal}, "articleDate": str(c.year) if c.year else None,
                                "volume": c.volume, "issue": c.issue, "pageString": c.pages}],
           "webLocation": [{"url": c.url}] if c.url else []}
    if ids:
        art["identifier"] = ids
    return {"resourceType": "Citation", "id": f"{rec.id}-citation", "status": "active",
            "title": c.title or c.short(), "citedArtifact": art}


def _statistic(rec: Record, o: Outcome) -> dict:
    st: dict = {"description": o.result} if o.result else {}
    if o.effect:
        t = _stat_types()
        code = t["codes"].get(o.effect.measure)
        if code:
            st["statisticType"] = {"coding": [{"system": t["system"], "code": code["code"], "display": code["display"]}]}
        else:
            st["statisticType"] = {"text": o.effect.measure}
        q = {"value": o.effect.value}
        if o.unit:
            q["unit"] = vocab().get("unit", o.unit).en
        st["quantity"] = q
        if o.effect.ci_lower is not None and o.effect.ci_upper is not None:
            st["attributeEstimate"] = [{"type": {"text": "confidence interval"}, "level": o.effect.ci_level,
                                        "range": {"low": {"value": o.effect.ci_lower},
                                                  "high": {"value": o.effect.ci_upper}}}]
        if o.effect.p is not None:
            st.setdefault("attributeEstimate", []).append({"type": {"text": "p-value"},
                                                           "quantity": {"value": o.effect.p}})
    ss = {}
    if rec.k_studies:
        ss["numberOfStudies"] = rec.k_studies
    if rec.n_total:
        ss["numberOfParticipants"] = rec.n_total
    if ss:
        st["sampleSize"] = ss
    return st


def to_fhir(rec: Record) -> dict:
    """A FHIR R5 collection Bundle with the record's Citation and one Evidence per outcome."""
    v = vocab()
    cit = _citation(rec)
    entries = [{"fullUrl": f"urn:kbone:Citation/{cit['id']}", "resource": cit}]
    design = v.get("design", rec.design)
    for o in rec.outcomes:
        out_t = v.get("outcome", o.outcome)
        ev = {
            "resourceType": "Evidence", "id": f"{rec.id}-{o.id}".replace("_", "-"), "status": "active",
            "title": f"{rec.citation.short()}: {out_t.en}",
            "citeAsReference": {"reference": f"Citation/{cit['id']}"},
            "variableDefinition": [
                {"variableRole": {"text": "population"},
                 "description": rec.population.description if rec.population else None},
                {"variableRole": {"text": "exposure"},
                 "description": ", ".join(f"{a.intervention.form} {a.intervention.amount or '?'} {a.intervention.unit}/"
                                          f"{a.intervention.per}" for a in rec.arms if a.intervention) or None},
                {"variableRole": {"text": "measuredVariable"}, "description": out_t.en},
            ],
            "studyDesign": [{"text": design.en}],
            "statistic": [_statistic(rec, o)],
            "note": [{"text": f"source: {o.source.cite()}"}],
        }
        if rec.integrity.status != "ok":
            ev["note"].append({"text": f"integrity: {rec.integrity.status}: "
                                       + "; ".join(e.reason for e in rec.integrity.events)})
        entries.append({"fullUrl": f"urn:kbone:Evidence/{ev['id']}", "resource": ev})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
