"""Assessment: the form (or an uploaded profile) → the report, rendered by the same HTML renderer as
``kbone assess --html``; and the API ``POST /api/v1/assess``.

Wired to: ``kbone.assess.profile.parse_profile`` / ``Profile`` / ``profile_schema`` (validation),
``kbone.assess.assessment.assess`` / ``Assessment`` (the report), and the assessment part's HTML renderer
(see :func:`report_html`).
"""

from __future__ import annotations

import json
import os
import threading
from typing import Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse

from kbone.assess.assessment import Assessment, assess
from kbone.assess.profile import Profile, conditions, parse_profile, profile_schema
from kbone.errors import KboneInputError, Problem
from kbone.web import cache, forms
from kbone.web.db import User
from kbone.web.deps import check_csrf, current_user, page_lang
from kbone.web.pages import problems_of, render
from kbone.web.parts import library

api = APIRouter(prefix="/api/v1", tags=["assess"])
pages = APIRouter(include_in_schema=False)
Lang = Literal["en", "zh"]

EXAMPLE = {"id": "example", "age": 70, "sex": "female", "weight": 55, "height": 158, "menopause": "post",
           "medicines": [{"name": "warfarin", "dose": "3 mg/day", "inr_target": [2.0, 3.0]}],
           "supplements": [{"name": "MK-7", "dose": "180 µg/day"}], "conditions": ["knee osteoarthritis"]}


def no_server_files(profile: Profile) -> Profile:
    """A web profile may not name a diary file: it would be read from the server's disk."""
    if profile.diet is not None and profile.diet.diary:
        raise KboneInputError(Problem(field="diet.diary", reason="a diary file cannot be read through the web",
                                      fix="list the foods under diet.foods, or give diet.intake_ug_per_day"))
    return profile


def run_assessment(data: dict) -> tuple[Profile, Assessment]:
    """Validate a profile mapping and assess it (the library names every bad field).

    The same profile on the same day against the same evidence gives the same report, so reports are kept
    in a small in-memory cache: a report viewed and then saved is computed once.
    """
    profile = no_server_files(parse_profile(data))
    return profile, assess_cached(profile)


# Assessments are CPU-bound Python: run concurrently in one process's thread pool they contend for the GIL
# and every one of them slows down (measured: 3.5 instead of ~12 assessments/s at 50 clients on 2 workers).
# So each worker process computes KBONE_WEB_ASSESS_SLOTS (default 1) at a time; the others wait in turn.
# Run one uvicorn worker per core (kbone serve --workers N) for parallelism.
def _slots() -> int:
    raw = (os.environ.get("KBONE_WEB_ASSESS_SLOTS") or "1").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise KboneInputError(Problem(field="KBONE_WEB_ASSESS_SLOTS", reason=f"{raw!r} is not a whole number ≥ 1",
                                      fix="set it to 1 (default) or to how many assessments a worker may compute at once"))
    return int(raw)


_ASSESS_SLOTS = threading.BoundedSemaphore(_slots())


def _assess_in_turn(profile: Profile) -> Assessment:
    with _ASSESS_SLOTS:
        return assess(profile)


def assess_cached(profile: Profile) -> Assessment:
    from datetime import date

    key = ("assess", date.today().isoformat(), profile.model_dump_json())
    return cache.cached(key, lambda: _assess_in_turn(profile), bucket="assess")


def report_html(assessment: Assessment, lang: str) -> str:
    """The complete report document from the assessment part's renderer (the one ``kbone assess --html``
    uses). Pages show it in a sandboxed frame, so it looks exactly like the CLI's file."""
    render_html = library("kbone.assess.report", "render_html")
    return render_html(assessment, lang)


def _form_context() -> dict:
    from kbone.vocab import vocab

    conds = sorted(conditions().values(), key=lambda c: c.id)
    try:
        from kbone.assess.drugs import drug_vocab

        dv = drug_vocab()
        drug_names = sorted({n for d in dv.drugs.values() for n in (d.en, d.zh)})
    except Exception:  # noqa: BLE001 - the datalist is a convenience only
        drug_names = []
    forms_k = [t for t in vocab().terms("form") if t.id in ("K1", "MK-4", "MK-7", "K2")]
    return dict(conds=conds, drug_names=drug_names, k_forms=forms_k, n_meds=forms.N_MEDICINES,
                n_supps=forms.N_SUPPLEMENTS, n_foods=forms.N_FOODS, t_sites=forms.T_SITES)


# ---- API ------------------------------------------------------------------------------------------

@api.post("/assess", response_model=Assessment, response_model_exclude_none=True,
          responses={422: {"description": "invalid profile: field, reason, fix"}})
def api_assess(profile: Profile = Body(..., examples=[EXAMPLE])):
    """Assess a profile (``kbone assess PROFILE --json``): alerts first, screening, intake, graded options."""
    return assess_cached(no_server_files(profile))


@api.post("/assess/html", response_class=HTMLResponse,
          responses={200: {"content": {"text/html": {}}, "description": "the report (same renderer as the CLI)"}})
def api_assess_html(profile: Profile = Body(..., examples=[EXAMPLE]), lang: Lang = Query("en")):
    """The assessment report as HTML (``kbone assess PROFILE --html FILE``)."""
    return HTMLResponse(report_html(assess_cached(no_server_files(profile)), lang))


@api.get("/assess/schema")
def api_profile_schema() -> dict:
    """JSON Schema of the profile (``kbone assess --schema``)."""
    return profile_schema()


# ---- pages ----------------------------------------------------------------------------------------

@pages.get("/assess", response_class=HTMLResponse)
def assess_form(request: Request, user: User | None = Depends(current_user)):
    return render(request, "assess_form.html", user, values={}, multi={}, problems=None, **_form_context())


@pages.post("/assess", response_class=HTMLResponse)
async def assess_submit(request: Request, user: User | None = Depends(current_user)):
    form = await request.form()
    check_csrf(request, form.get("csrf") if isinstance(form.get("csrf"), str) else None)
    values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    lang = page_lang(request)
    try:
        up = await forms.read_upload(form.get("profile_file"), field="profile file", suffixes=(".yaml", ".yml", ".json"))
        data = forms.profile_from_upload(*up) if up else forms.profile_from_form(form)
        profile, assessment = await _in_thread(run_assessment, data)
        body = await _in_thread(report_html, assessment, lang)
    except KboneInputError as err:
        return render(request, "assess_form.html", user, status_code=422, values=values,
                      multi={k: form.getlist(k) for k in ("conditions", "interests")},
                      problems=problems_of(err), **_form_context())
    return render(request, "assess_report.html", user, report=body, assessment=assessment,
                  profile_json=json.dumps(data, ensure_ascii=False), title_default=profile.id or "")


async def _in_thread(fn, *args):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)
