"""Food search and the diet diary: pages and API over ``kbone.diet``.

Wired to: ``kbone.diet.names.search_foods`` (``kbone food search``), ``kbone.diet.diary.parse_diary_text``
and ``kbone.diet.intake.compute_intake`` (``kbone diet DIARY``), ``kbone.diet.schema`` result models, and
``kbone.diet.plots.plot_intake`` for the chart.
"""

from __future__ import annotations

import base64
import csv
import io
import tempfile
import threading
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kbone.diet.diary import MEALS, parse_diary_text
from kbone.diet.intake import compute_intake
from kbone.diet.names import search_foods
from kbone.diet.schema import Candidate, IntakeResult
from kbone.diet.schema import Profile as DietProfile
from kbone.errors import KboneInputError, Problem
from kbone.web import forms
from kbone.web.db import User
from kbone.web.deps import check_csrf, current_user, page_lang
from kbone.web.pages import problems_of, render

api = APIRouter(prefix="/api/v1", tags=["diet"])
pages = APIRouter(include_in_schema=False)
N_ROWS = 12
AUTHORITIES = ("CN", "US", "EU", "JP", "WHO")
_plot_lock = threading.Lock()


class FoodSearch(BaseModel):
    query: str
    unit: str = "µg per 100 g"
    candidates: list[Candidate]


class DietIn(BaseModel):
    """A food diary as text (CSV with a header row, or YAML), as ``kbone diet DIARY`` reads it."""

    diary: str = Field(min_length=1, max_length=500_000, description="diary text: date, meal, food, amount, unit")
    format: Literal["csv", "yaml"] = "csv"
    profile: DietProfile = Field(default_factory=DietProfile)
    skip_unknown: bool = Field(False, description="skip (and list) unknown foods instead of stopping")
    authorities: list[Literal[AUTHORITIES]] | None = Field(None, description="reference intakes to compare with")


def run_diet(text: str, fmt: str, profile: DietProfile, skip_unknown: bool,
             authorities: list[str] | None) -> IntakeResult:
    diary = parse_diary_text(text, fmt, source="diary")
    return compute_intake(diary, profile=profile, skip_unknown=skip_unknown, authorities=authorities)


def intake_svg(result: IntakeResult, lang: str) -> str | None:
    """The diet part's intake chart as a data: URI (None when it cannot be drawn)."""
    from kbone.diet.plots import plot_intake

    try:
        with _plot_lock, tempfile.TemporaryDirectory() as d:
            path, _ = plot_intake(result, Path(d) / "intake.svg", lang)
            return "data:image/svg+xml;base64," + base64.b64encode(Path(path).read_bytes()).decode()
    except KboneInputError:
        return None


def rows_to_csv(rows: list[dict]) -> str:
    """Diary rows typed into the page, as the CSV the diet part reads (header: date, meal, food, amount, unit)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["date", "meal", "food", "amount", "unit"])
    for r in rows:
        w.writerow([r.get("date", ""), r.get("meal", ""), r.get("food", ""), r.get("amount", ""), ""])
    return buf.getvalue()


# ---- API ------------------------------------------------------------------------------------------

@api.get("/foods", response_model=FoodSearch)
def api_foods(q: str = Query(..., min_length=1, max_length=100, description="food name: 菠菜, bocai, spinach …"),
              limit: int = Query(10, ge=1, le=50)):
    """Find foods by name in Chinese, pinyin or English (``kbone food search``); values per 100 g."""
    return FoodSearch(query=q, candidates=search_foods(q, limit))


@api.post("/diet", response_model=IntakeResult)
def api_diet(body: DietIn):
    """Vitamin K intake of a diary by form, against reference intakes (``kbone diet DIARY --json``)."""
    return run_diet(body.diary, body.format, body.profile, body.skip_unknown, body.authorities)


# ---- pages ----------------------------------------------------------------------------------------

@pages.get("/food", response_class=HTMLResponse)
def food_page(request: Request, q: str | None = None, user: User | None = Depends(current_user)):
    q = (q or "").strip()[:100]
    cands, problems = [], None
    if q:
        try:
            cands = search_foods(q, 15)
        except KboneInputError as err:
            problems = problems_of(err)
    return render(request, "food.html", user, q=q, cands=cands, problems=problems)


def _diary_ctx(values: dict | None = None) -> dict:
    return dict(n_rows=N_ROWS, meals=MEALS, authorities=AUTHORITIES, values=values or {}, result=None,
                problems=None, chart=None)


@pages.get("/diary", response_class=HTMLResponse)
def diary_page(request: Request, user: User | None = Depends(current_user)):
    return render(request, "diary.html", user, **_diary_ctx())


@pages.post("/diary", response_class=HTMLResponse)
async def diary_submit(request: Request, user: User | None = Depends(current_user)):
    form = await request.form()
    check_csrf(request, form.get("csrf") if isinstance(form.get("csrf"), str) else None)
    values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    lang = page_lang(request)
    ctx = _diary_ctx(values)
    try:
        up = await forms.read_upload(form.get("diary_file"), field="diary file",
                                     suffixes=(".csv", ".txt", ".tsv", ".yaml", ".yml"))
        if up:
            name, text = up
            fmt = "yaml" if name.lower().endswith((".yaml", ".yml")) else "csv"
        elif values.get("diary_text", "").strip():
            text, fmt = values["diary_text"], values.get("diary_format", "csv")
            if fmt not in ("csv", "yaml"):
                fmt = "csv"
        else:
            rows = [{"date": values.get(f"date_{i}", "").strip(), "meal": values.get(f"meal_{i}", "").strip(),
                     "food": values.get(f"food_{i}", "").strip(), "amount": values.get(f"amount_{i}", "").strip()}
                    for i in range(N_ROWS)]
            rows = [r for r in rows if r["food"]]
            if not rows:
                raise KboneInputError(Problem(field="diary", reason="no food entered",
                                              fix="enter at least one food with its amount, or paste a diary"))
            text, fmt = rows_to_csv(rows), "csv"
        profile = DietProfile(age=_num(values.get("age")), sex=values.get("sex") or None,
                              weight_kg=_num(values.get("weight")), stage=values.get("stage") or "general")
        result = await run_in_threadpool(run_diet, text, fmt, profile, bool(values.get("skip_unknown")), None)
        ctx.update(result=result, chart=await run_in_threadpool(intake_svg, result, lang))
    except KboneInputError as err:
        ctx["problems"] = problems_of(err)
        return render(request, "diary.html", user, status_code=422, **ctx)
    except ValueError as err:  # pydantic validation of the diet profile
        ctx["problems"] = [{"field": "profile", "reason": str(err).splitlines()[0][:300],
                            "fix": "check age, sex, weight and stage"}]
        return render(request, "diary.html", user, status_code=422, **ctx)
    return render(request, "diary.html", user, **ctx)


def _num(text: str | None) -> float | None:
    if not text or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise KboneInputError(Problem(field="age/weight", reason=f"{text!r} is not a number",
                                      fix="give a number (years, kg)")) from None
