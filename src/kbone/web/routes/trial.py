"""Trial simulator: a design form → the predicted effect with its prediction interval and the power curve,
from the bone-outcome model (``kbone trial power|simulate``).

Wired to: ``kbone.model.trial`` (``TrialDesign``, ``load_design``, ``predict``, ``result``, ``simulate``,
``TrialResult``) with the model fitted as ``kbone trial`` fits it (``kbone.model.trial_cli.fit_for_trials``), and the
CLI's power-curve plot (``trial_cli.power_curve_png``).
"""

from __future__ import annotations

import base64
import threading

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from kbone.errors import KboneInputError, Problem
from kbone.model.trial import FRACTURES, TrialDesign, TrialResult
from kbone.web import cache
from kbone.web.db import User
from kbone.web.deps import current_user
from kbone.web.pages import problems_of, render

api = APIRouter(prefix="/api/v1", tags=["trial"])
pages = APIRouter(include_in_schema=False)
_plot_lock = threading.Lock()
MAX_REPLICATES = 20_000
SITES = ("lumbar_spine", "femoral_neck", "total_hip", "radius")
POPULATIONS = ("postmenopausal", "osteopenic", "osteoporotic", "older_adults", "men", "ckd", "glucocorticoid")


class FitOptions(BaseModel):
    exclude_study: list[str] = Field(default_factory=list, max_length=50, description="refit without these record ids")
    include_flagged: bool = Field(False, description="also fit integrity-flagged trials")
    include_retracted: bool = Field(False, description="also fit retracted trials")


class PowerIn(FitOptions):
    design: TrialDesign
    target: float = Field(0.8, gt=0, lt=1, description="target power")


class SimulateIn(FitOptions):
    design: TrialDesign
    replicates: int = Field(1000, ge=1, le=MAX_REPLICATES)
    seed: int = Field(20240501, ge=0, le=2**32 - 1)


def fitted(opts: FitOptions):
    """(records, fit) as ``kbone trial`` fits them; kept until the evidence YAML changes."""
    from kbone.model.trial_cli import fit_for_trials

    key = ("mbma", tuple(sorted(opts.exclude_study)), opts.include_flagged, opts.include_retracted)
    return cache.cached(key, lambda: fit_for_trials(list(opts.exclude_study), opts.include_flagged, opts.include_retracted))


def power(body: PowerIn) -> TrialResult:
    from kbone.model import trial

    records, fit = fitted(body)
    pred = trial.predict(fit, body.design, records)
    return trial.result(fit, pred, target=body.target, curve=True)


def power_png(res: TrialResult) -> str:
    from kbone.model.trial_cli import power_curve_png

    with _plot_lock:  # pyplot state is global
        return "data:image/png;base64," + base64.b64encode(power_curve_png(res)).decode()


@api.post("/trial/power", response_model=TrialResult)
def api_power(body: PowerIn):
    """Predicted effect (95 % PI), power and assurance, n for the target power, the power curve
    (``kbone trial power DESIGN --json``)."""
    return power(body)


@api.post("/trial/simulate", response_model=TrialResult)
def api_simulate(body: SimulateIn):
    """Predicted effect and simulated replicate trials (``kbone trial simulate DESIGN --json``)."""
    from kbone.model import trial

    records, fit = fitted(body)
    pred = trial.predict(fit, body.design, records)
    sim, _ = trial.simulate(pred, body.replicates, body.seed)
    return trial.result(fit, pred, simulated=sim)


@api.get("/trial/schema")
def api_design_schema() -> dict:
    """JSON Schema of a trial design (``kbone trial schema``)."""
    from kbone.model.trial import design_schema

    return design_schema()


def design_from_query(q: dict) -> dict:
    """The design form's fields as a design mapping (validated by ``TrialDesign``)."""
    outcome = q.get("outcome") or "bmd"
    d: dict = {
        "name": (q.get("name") or "virtual trial")[:100],
        "population": {"terms": q.get("terms") or ["postmenopausal"]},
        "n_per_arm": q.get("n_per_arm") or "100", "duration_weeks": q.get("duration_weeks") or "104",
        "intervention": {"form": q.get("form") or "MK-7", "amount": q.get("amount") or "180",
                         "unit": q.get("unit") or "ug", "per": q.get("per") or "day"},
        "co_interventions": q.get("co") or [], "control": q.get("control") or "placebo", "outcome": outcome,
        "dropout": q.get("dropout") or "0.1", "alpha": q.get("alpha") or "0.05",
    }
    if q.get("region"):
        d["population"]["region"] = q["region"]
    if outcome == "bmd":
        d["site"] = q.get("site") or "lumbar_spine"
    else:
        d["control_risk"] = q.get("control_risk") or None
    return d


@pages.get("/trial", response_class=HTMLResponse)
async def trial_page(request: Request, user: User | None = Depends(current_user)):
    qp = request.query_params
    q = {k: qp.get(k) for k in qp if k not in ("terms", "co")}
    q["terms"] = [t for t in qp.getlist("terms") if t][:10]
    q["co"] = [t for t in qp.getlist("co") if t][:10]
    ctx = dict(q=q, sites=SITES, populations=POPULATIONS, fractures=FRACTURES, res=None, plot=None, problems=None)
    if qp.get("run"):
        try:
            try:
                design = TrialDesign.model_validate(design_from_query(q))
                target = float(q.get("target") or 0.8)
                body = PowerIn(design=design, target=target, include_flagged=bool(q.get("include_flagged")),
                               exclude_study=[s.strip() for s in (q.get("exclude") or "").split(",") if s.strip()][:50])
            except ValidationError as e:
                raise KboneInputError([Problem(field=".".join(str(x) for x in err["loc"]) or "design",
                                               reason=err["msg"].removeprefix("Value error, "))
                                       for err in e.errors(include_url=False)]) from None
            except ValueError:
                raise KboneInputError(Problem(field="target", reason="not a number", fix="e.g. 0.8")) from None
            res = await run_in_threadpool(power, body)
            ctx.update(res=res, plot=await run_in_threadpool(power_png, res))
        except KboneInputError as err:
            ctx["problems"] = problems_of(err)
            return render(request, "trial.html", user, status_code=422, **ctx)
    return render(request, "trial.html", user, **ctx)

