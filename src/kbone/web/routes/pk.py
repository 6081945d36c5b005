"""PK/PD page and API: vitamin K dose → plasma level → carboxylation (ucOC, MGP), and INR under warfarin
(``kbone pk``).

Wired to: ``kbone.model.api.simulate`` / ``PKResult`` (the same call as ``kbone pk``) and
``kbone.model.plot.plot_result`` for the curves.
"""

from __future__ import annotations

import base64
import tempfile
import threading
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from kbone.errors import KboneInputError, Problem
from kbone.model.api import PKResult, simulate
from kbone.web.db import User
from kbone.web.deps import current_user
from kbone.web.pages import problems_of, render

api = APIRouter(prefix="/api/v1", tags=["pk"])
pages = APIRouter(include_in_schema=False)
_plot_lock = threading.Lock()
MAX_SUBJECTS = 500        # bounded work per request
MAX_DAYS = 365


class PKIn(BaseModel):
    """A dosing scenario, as the options of ``kbone pk`` (quantities may carry units: '180ug', '24h', '20g')."""

    form: str = Field("MK-7", max_length=40, description="K1, MK-4, MK-7 (any name, zh or en)")
    dose: str | None = Field(None, max_length=40, description="amount per dose, e.g. 180ug or 1mg")
    every: str | None = Field(None, max_length=20, description="dosing interval, e.g. 24h; none = one dose")
    days: float | None = Field(None, gt=0, le=MAX_DAYS, description="days to simulate")
    fat: str | None = Field(None, max_length=20, description="fat eaten with each dose, e.g. 20g")
    warfarin: str | None = Field(None, max_length=20, description="daily warfarin dose, e.g. 5mg")
    target_inr: float | None = Field(None, ge=1.0, le=5.0, description="instead of warfarin: titrate to this INR")
    vkorc1: Literal["GG", "AG", "AA"] | None = None
    cyp2c9: str | None = Field(None, max_length=12, description="e.g. *1/*1, *1/*3")
    age: float | None = Field(None, ge=18, le=110)
    sex: Literal["female", "male"] | None = None
    weight: float | None = Field(None, gt=25, le=350, description="kg")
    intake: dict[str, float] | None = Field(None, description="habitual intake, form → µg/day")
    n: int = Field(1, ge=1, le=MAX_SUBJECTS, description="virtual subjects (1 = typical subject)")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    population: Literal["general", "european", "han_chinese"] = "general"


def run_pk(body: PKIn) -> PKResult:
    return simulate(body.form, body.dose, every=body.every, days=body.days, fat=body.fat, warfarin=body.warfarin,
                    target_inr=body.target_inr, n=body.n, seed=body.seed, population=body.population, age=body.age,
                    sex=body.sex, weight=body.weight, cyp2c9=body.cyp2c9, vkorc1=body.vkorc1, intake=body.intake)


def pk_svg(res: PKResult, lang: str) -> str:
    from kbone.model.plot import plot_result

    with _plot_lock, tempfile.TemporaryDirectory() as d:
        path = plot_result(res, Path(d) / "pk.svg", lang)
        return "data:image/svg+xml;base64," + base64.b64encode(Path(path).read_bytes()).decode()


@api.post("/pk", response_model=PKResult)
def api_pk(body: PKIn):
    """Time courses of plasma level, %ucOC, ucOC/cOC, dp-ucMGP and INR (median and 5–95 % band when n > 1)."""
    return run_pk(body)


FIELDS = ("form", "dose", "every", "days", "fat", "warfarin", "target_inr", "vkorc1", "cyp2c9", "age", "sex",
          "weight", "n", "seed", "population")


@pages.get("/pk", response_class=HTMLResponse)
async def pk_page(request: Request, user: User | None = Depends(current_user)):
    from kbone.web.deps import page_lang

    qp = request.query_params
    q = {k: (qp.get(k) or "").strip()[:40] for k in FIELDS}
    ctx = dict(q=q, res=None, plot=None, problems=None)
    if qp.get("run"):
        try:
            try:
                body = PKIn.model_validate({k: v for k, v in q.items() if v})
            except ValidationError as e:
                raise KboneInputError([Problem(field=".".join(str(x) for x in err["loc"]) or "input",
                                               reason=err["msg"].removeprefix("Value error, "))
                                       for err in e.errors(include_url=False)]) from None
            res = await run_in_threadpool(run_pk, body)
            ctx.update(res=res, plot=await run_in_threadpool(pk_svg, res, page_lang(request)))
        except KboneInputError as err:
            ctx["problems"] = problems_of(err)
            return render(request, "pk.html", user, status_code=422, **ctx)
    return render(request, "pk.html", user, **ctx)
