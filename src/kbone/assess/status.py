"""Vitamin K status for the person: measured markers against sourced cut-offs, the PK/PD model's estimates
(steady-state ucOC at the current intake, INR sensitivity for VKA users) from :mod:`kbone.model`, and the
model's predicted effect of each option. The model is called, never re-implemented: when its API is
missing the section says so and lists a TODO.
"""

from __future__ import annotations

from functools import lru_cache

import yaml
from pydantic import BaseModel, Field

from kbone.assess.intake import IntakeSummary
from kbone.assess.profile import Profile
from kbone.errors import KboneInputError
from kbone.evidence.schema import Source
from kbone.i18n import Text
from kbone.paths import data_path


@lru_cache(maxsize=1)
def status_data() -> dict:
    return yaml.safe_load(data_path("rules", "status.yaml").read_text(encoding="utf-8"))


class Interval(BaseModel):
    central: float
    low: float
    high: float
    unit: str


class SeriesPoint(BaseModel):
    t: float
    central: float
    low: float
    high: float


class Projection(BaseModel):
    """A model projection over time (for the plot): what, under which scenario, with a band."""

    outcome: str
    scenario: Text
    time_unit: str
    unit: str
    points: list[SeriesPoint]


class ModelSource(BaseModel):
    key: str
    title: str
    citation: str = ""
    url: str | None = None
    assumption: bool = False


class EvidenceNumber(BaseModel):
    """A number quoted from an evidence record."""

    label: Text
    value: float
    unit: str
    record: str
    outcome_id: str
    quote: str | None = None


class MarkerCheck(BaseModel):
    key: str
    label: Text
    value: float
    unit: str
    cutoff: float
    above: bool
    source: Source


class ModelStatus(BaseModel):
    available: bool
    ucoc: Interval | None = None
    inr_per_100ug: Interval | None = None
    inr_evidence: EvidenceNumber | None = None
    markers: list[MarkerCheck] = Field(default_factory=list)
    projections: list[Projection] = Field(default_factory=list)
    records: list[str] = Field(default_factory=list)
    sources: list[ModelSource] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)
    todo: list[str] = Field(default_factory=list)


def _inr_evidence() -> EvidenceNumber | None:
    spec = status_data()["inr_per_100ug_intake"]
    try:
        from kbone.evidence.loader import records_by_id

        rec = records_by_id().get(spec["record"])
    except Exception:  # noqa: BLE001 - a broken evidence base must not hide the safety section
        rec = None
    if rec is None:
        return None
    o = next((x for x in rec.outcomes if x.id == spec["outcome"]), None)
    if o is None or o.effect is None:
        return None
    return EvidenceNumber(label=Text(**spec["label"]), value=o.effect.value, unit="INR per +100 µg/day",
                          record=rec.id, outcome_id=o.id, quote=o.source.quote)


def _markers(profile: Profile) -> list[MarkerCheck]:
    out = []
    u = profile.labs.ucoc_ng_ml
    if u is not None:
        c = status_data()["ucoc_cutoff"]
        out.append(MarkerCheck(key="ucoc", label=Text(**c["label"]), value=u, unit=c["unit"], cutoff=c["value"],
                               above=u > c["value"], source=Source(**c["source"])))
    return out


N_SUBJECTS = 50             # virtual people "like this person" (same age, sex, weight, intake)
_SUPPLEMENT_RUNS: dict = {}  # (form, dose, population key) → simulation; oldest dropped first
_SUPPLEMENT_RUNS_MAX = 128
SEED = 0
# Simulated days per form: long enough for the markers to settle (plasma half-lives: K1 hours to ~1 day,
# MK-4 hours, MK-7 ~3 days; model_facts §1.3 and §2.6) and short enough to keep an assessment fast.
PROJECTION_DAYS = {"K1": 28, "MK-4": 14, "MK-7": 42}
INR_BASE_DAYS, INR_STEP_DAYS = 30, 14
BMD_WEEKS = (0, 26, 52, 104, 156)
MODEL_OUTPUT_LABELS = {"ucoc_percent": ("%ucOC (undercarboxylated osteocalcin)", "未羧化骨钙素百分比"),
                       "dp_ucmgp_pmol_l": ("dp-ucMGP", "去磷酸化未羧化MGP")}
MODEL_OUTPUT_UNITS = {"ucoc_percent": "%", "dp_ucmgp_pmol_l": "pmol/L"}
CHANGE_UNITS = {"ucoc_percent": "percentage points", "dp_ucmgp_pmol_l": "pmol/L"}
MODEL_FORMS = ("K1", "MK-4", "MK-7")


def _pct(x) -> tuple[float, float, float]:
    import numpy as np

    p5, p50, p95 = np.percentile(np.asarray(x, float), [5, 50, 95])
    return float(p50), float(p5), float(p95)


@lru_cache(maxsize=2)
def _mbma_fit(digest: str):
    """The bone MBMA fitted to the evidence base (cached per content of the base)."""
    from kbone.evidence.loader import load_records
    from kbone.model.mbma import fit_mbma

    return fit_mbma(load_records())


class PersonModel:
    """kbone.model set up for one person: virtual people with their age, sex, weight and intake."""

    def __init__(self, profile: Profile, intake: IntakeSummary):
        from kbone.model.population import make_population

        self.profile = profile
        self.intake = intake
        self.notes: list[Text] = []
        self.projections: list[Projection] = []
        self._runs: dict = {}
        habitual: dict[str, float] | None = None
        if intake.available and intake.by_form_ug:
            habitual = {f: intake.by_form_ug.get(f) or 0.0 for f in MODEL_FORMS}
            unknown = [f for f in MODEL_FORMS if f in intake.partial_forms]
            if unknown:
                self.notes.append(Text(en=f"Intake of {', '.join(unknown)} is only partly known (some foods have no "
                                          "value); the model uses the known part.",
                                       zh=f"{'、'.join(unknown)} 的摄入量仅部分已知（部分食物无数据）；模型按已知部分计算。"))
        elif intake.available and intake.total_ug is not None:
            habitual = {"K1": intake.total_ug, "MK-4": 0.0, "MK-7": 0.0}
            self.notes.append(Text(en="Intake was given as a total; the model treats it as K1.",
                                   zh="摄入量以总量给出；模型按K1处理。"))
        if habitual is not None:
            for f, ug in intake.supplements_ug.items():
                if f in MODEL_FORMS:
                    habitual[f] = habitual.get(f, 0.0) + ug
        else:
            self.notes.append(Text(en="Intake unknown: the virtual people have the usual intake of the model population.",
                                   zh="摄入量未知：虚拟人群采用模型人群的常见摄入量。"))
        self.habitual = habitual
        self.pop = make_population(N_SUBJECTS, seed=SEED, profile=profile.model_population, age=profile.age,
                                   sex=profile.sex, weight=profile.weight_kg, intake=habitual)
        # The population is a deterministic function of these inputs (fixed seed), so simulations on it can be
        # shared between assessments of similar people (the web app assesses many).
        self._pop_key = (profile.model_population, profile.age, profile.sex, profile.weight_kg,
                         tuple(sorted((k, round(v, 6)) for k, v in habitual.items())) if habitual else None)

    # ---- status ----------------------------------------------------------------------------------
    def steady_ucoc(self, target_inr: float | None = None) -> tuple[Interval, Interval]:
        """%ucOC and ucOC (ng/mL) at the habitual intake (on stable warfarin at ``target_inr`` if given)."""
        from kbone.model.scenario import Scenario, run

        out = run(Scenario(form="K1", days=1, output_step_h=24, target_inr=target_inr), self.pop)
        m, lo, hi = _pct(out.markers["ucoc_percent"][0])
        mn, lon, hin = _pct(out.markers["ucoc_ng_ml"][0])
        return Interval(central=m, low=lo, high=hi, unit="%"), Interval(central=mn, low=lon, high=hin, unit="ng/mL")

    def inr_per_100ug(self, target: float) -> Interval:
        """INR change 14 days after dietary K1 rises by 100 µg/day, on stable warfarin titrated to ``target``."""
        import numpy as np

        from kbone.model.scenario import Scenario, run

        base = (self.habitual or {}).get("K1")
        if base is None:
            base = float(np.median(self.pop.intake["K1"]))
        series = np.array([base] * INR_BASE_DAYS + [base + 100.0] * INR_STEP_DAYS)
        sc = Scenario(form="K1", days=INR_BASE_DAYS + INR_STEP_DAYS, output_step_h=24, target_inr=target,
                      diet={"K1": series})
        out = run(sc, self.pop)
        i0 = int(np.searchsorted(out.time_h, INR_BASE_DAYS * 24.0))
        m, lo, hi = _pct(out.inr[-1] - out.inr[i0])
        return Interval(central=m, low=lo, high=hi, unit="INR per +100 µg/day")

    # ---- options ---------------------------------------------------------------------------------
    def option_effects(self, spec: dict, profile: Profile) -> list:
        from kbone.assess.options import ExpectedEffect, options_data

        goal = options_data()["goals"][spec["goal"]]
        out_name = goal.get("model_output")
        effects: list[ExpectedEffect] = []
        if out_name is None or spec["form"] not in MODEL_FORMS:
            return effects
        lbl = MODEL_OUTPUT_LABELS[out_name]
        unit = CHANGE_UNITS[out_name]
        try:
            if spec["kind"] == "diet":
                eff = self._diet_effect(out_name)
                if eff is not None:
                    effects.append(ExpectedEffect(outcome=out_name, label=Text(en=f"change in {lbl[0]} at steady state",
                                                                               zh=f"稳态时{lbl[1]}的变化"),
                                                  central=eff[0], low=eff[1], high=eff[2], unit=unit, model="pkpd",
                                                  note=eff[3]))
                return effects
            for dose in sorted(set(spec["dose_ug"])):
                m, lo, hi = self._supplement_effect(spec["form"], dose, out_name)
                dl = f"{dose / 1000:g} mg" if dose >= 1000 else f"{dose:g} µg"
                wk = PROJECTION_DAYS[spec["form"]] // 7
                effects.append(ExpectedEffect(outcome=out_name,
                                              label=Text(en=f"change in {lbl[0]} after {wk} weeks at {dl}/day",
                                                         zh=f"每天{dl}、{wk}周后{lbl[1]}的变化"),
                                              central=m, low=lo, high=hi, unit=unit, model="pkpd"))
            site = goal.get("bmd_site")
            if site:
                effects += self._bmd_effects(spec, site)
        except (KboneInputError, ValueError) as e:
            self.notes.append(Text(en=f"model could not project {spec['id']}: {e}", zh=f"模型无法预测 {spec['id']}：{e}"))
        return effects

    def _run_supplement(self, form: str, dose: float):
        """One simulation per (form, dose), shared by every option and marker that needs it."""
        from kbone.model.events import EventTable
        from kbone.model.scenario import Scenario, run

        key = (form, dose)
        if key not in self._runs:
            shared = (form, dose, self._pop_key)
            if shared not in _SUPPLEMENT_RUNS:
                days = PROJECTION_DAYS[form]
                sc = Scenario(form=form, days=days, output_step_h=24 * 7,
                              events=EventTable.regular(dose, every_h=24, duration_h=days * 24))
                if len(_SUPPLEMENT_RUNS) >= _SUPPLEMENT_RUNS_MAX:
                    _SUPPLEMENT_RUNS.pop(next(iter(_SUPPLEMENT_RUNS)))
                _SUPPLEMENT_RUNS[shared] = run(sc, self.pop)
            self._runs[key] = _SUPPLEMENT_RUNS[shared]
        return self._runs[key]

    def _supplement_effect(self, form: str, dose: float, out_name: str) -> tuple[float, float, float]:
        from kbone.model.scenario import summarise

        out = self._run_supplement(form, dose)
        vals = out.markers[out_name]
        s = summarise(vals)
        dl = f"{dose / 1000:g} mg" if dose >= 1000 else f"{dose:g} µg"
        self.projections.append(Projection(
            outcome=out_name, scenario=Text(en=f"{form} {dl}/day", zh=f"{form} 每天{dl}"), time_unit="weeks",
            unit=MODEL_OUTPUT_UNITS[out_name],
            points=[SeriesPoint(t=float(t) / 168.0, central=float(c), low=float(lo), high=float(hi))
                    for t, c, lo, hi in zip(out.time_h, s["median"], s["p5"], s["p95"], strict=True)]))
        return _pct(vals[-1] - vals[0])

    def _diet_effect(self, out_name: str):
        """Steady-state change when food K1 rises to the highest primary reference intake (None if already there)."""
        from kbone.model.population import make_population
        from kbone.model.scenario import Scenario, run

        refs = [r for r in self.intake.references if r.compares == "total" and r.verified and not r.secondary]
        if not refs or self.habitual is None or self.intake.total_ug is None:
            return None
        target = max(r.value_ug for r in refs)
        extra = target - self.intake.total_ug
        if extra <= 0:
            return None
        new = dict(self.habitual)
        new["K1"] = new.get("K1", 0.0) + extra
        pop2 = make_population(N_SUBJECTS, seed=SEED, profile=self.profile.model_population, age=self.profile.age,
                               sex=self.profile.sex, weight=self.profile.weight_kg, intake=new)
        a = run(Scenario(form="K1", days=1, output_step_h=24), self.pop).markers[out_name][0]
        b = run(Scenario(form="K1", days=1, output_step_h=24), pop2).markers[out_name][0]
        m, lo, hi = _pct(b - a)
        return m, lo, hi, Text(en=f"food K1 +{extra:.0f} µg/day (to {target:g} µg/day)",
                               zh=f"食物K1每天增加{extra:.0f}微克（达到{target:g}微克/天）")

    def _bmd_effects(self, spec: dict, site: str) -> list:
        from kbone.assess.options import ExpectedEffect
        from kbone.evidence.loader import content_hash, yaml_files
        from kbone.model.mbma.context import make_context

        p = self.profile
        fit = _mbma_fit(content_hash(yaml_files()))
        terms = set(p.populations())
        agents = {s.id for s in p.supplements if s.kind == "agent"}
        if p.has_class("bisphosphonate"):
            agents.add("bisphosphonate")
        region = "asian" if p.model_population == "han_chinese" else None
        dose = max(spec["dose_ug"])
        ctx = make_context(form=spec["form"], dose_ug_per_day=dose, terms=terms, region=region, co_agents=agents,
                           open_label=False, sex=p.sex, age_max=p.age)
        pts = []
        for w in BMD_WEEKS:
            if w == 0:
                pts.append(SeriesPoint(t=0.0, central=0.0, low=0.0, high=0.0))
                continue
            mix = fit.predict_bmd(ctx, site, float(w))
            lo, hi = mix.interval(0.95)
            pts.append(SeriesPoint(t=float(w), central=float(mix.mean), low=float(lo), high=float(hi)))
        dl = f"{dose / 1000:g} mg" if dose >= 1000 else f"{dose:g} µg"
        out_id = f"bmd_{site}"
        self.projections.append(Projection(outcome=out_id, scenario=Text(en=f"{spec['form']} {dl}/day", zh=f"{spec['form']} 每天{dl}"),
                                           time_unit="weeks", unit="% vs control", points=pts))
        two = next(x for x in pts if x.t == 104.0)
        note = Text(en="; ".join(ctx.flags), zh="；".join(ctx.flags)) if ctx.flags else None
        return [ExpectedEffect(outcome=out_id, label=Text(en=f"lumbar spine BMD vs no supplement after 2 years at {dl}/day",
                                                          zh=f"每天{dl}、2年后腰椎骨密度（相对不补充）"),
                               central=two.central, low=two.low, high=two.high, unit="% (95% prediction interval)",
                               model="mbma", note=note)]


def _base_status(profile: Profile) -> ModelStatus:
    st = ModelStatus(available=False, markers=_markers(profile))
    if profile.has_class("vka"):
        ev = _inr_evidence()
        if ev is not None:
            st.inr_evidence = ev
            st.records.append(ev.record)
    return st


def skipped_status(profile: Profile) -> ModelStatus:
    """Markers and observed numbers only: the model was not run (``--no-model``)."""
    st = _base_status(profile)
    st.notes.append(Text(en="Model estimates were skipped (--no-model).", zh="已跳过模型估计（--no-model）。"))
    return st


def model_status(profile: Profile, intake: IntakeSummary) -> tuple[ModelStatus, PersonModel | None]:
    """Markers, model estimates and (for VKA users) the INR sensitivity to intake, observed and modelled."""
    st = _base_status(profile)
    try:
        pm = PersonModel(profile, intake)
        vka = profile.has_class("vka")
        target = next((m.inr_target.mid for m in profile.medicines_in("vka") if m.inr_target), 2.5) if vka else None
        st.ucoc, _ng = pm.steady_ucoc(target)
        st.available = True
        if vka:
            st.notes.append(Text(en=f"Model estimates for this person assume stable warfarin therapy at INR {target:g}.",
                                 zh=f"此人的模型估计假设华法林治疗稳定、INR为 {target:g}。"))
            st.inr_per_100ug = pm.inr_per_100ug(target)
            if st.inr_evidence is not None and st.inr_evidence.value != 0:
                ratio = st.inr_per_100ug.central / st.inr_evidence.value
                if ratio > 2 or ratio < 0.5:
                    st.notes.append(Text(
                        en=f"The model's INR sensitivity ({st.inr_per_100ug.central:.2f} per +100 µg/day) differs "
                           f"{ratio:.1f}-fold from the observed {st.inr_evidence.value:g} ({st.inr_evidence.record}); "
                           "treat both as indications of direction and size, not as a dose rule.",
                        zh=f"模型的INR敏感度（每天+100微克 {st.inr_per_100ug.central:.2f}）与观察值 {st.inr_evidence.value:g}"
                           f"（{st.inr_evidence.record}）相差 {ratio:.1f} 倍；两者只表示方向和大致幅度，不能作为剂量依据。"))
        st.notes += pm.notes
        st.sources.append(ModelSource(key="pkpd", title="kbone.model PK/PD (K1, MK-4, MK-7 → carboxylation; warfarin → INR)",
                                      citation="model specifications with per-parameter sources in src/kbone/data/model/*.yaml; "
                                               f"{N_SUBJECTS} virtual people, 5-95 % range shown",
                                      assumption=True))
        st.sources.append(ModelSource(key="mbma", title="kbone.model bone MBMA (BMD % vs control, 95 % prediction interval)",
                                      citation="fit to the evidence base (src/kbone/model/mbma; data/model/mbma_config.yaml)",
                                      assumption=True))
        return st, pm
    except ImportError:
        st.todo.append("kbone.model API (population, scenario) not available")
        return st, None
    except (KboneInputError, ValueError) as e:
        st.notes.append(Text(en=f"The model could not run for this profile: {e}", zh=f"模型无法为此资料运行：{e}"))
        return st, None
