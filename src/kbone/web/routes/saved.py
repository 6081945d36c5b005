"""Saved assessments: pages (list, view, save, delete) and the CRUD API. A user sees only their own;
another user's id answers 404, exactly like an id that does not exist.

The server never stores a report it did not compute: a save re-validates the profile and re-runs
``kbone.assess.assessment.assess``; a saved report is shown again with the same renderer.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kbone.assess.assessment import Assessment
from kbone.errors import KboneInputError, Problem
from kbone.i18n import pick
from kbone.web import cache
from kbone.web import saved as store
from kbone.web.db import User
from kbone.web.deps import api_csrf, check_csrf, get_db, page_lang, require_page_user, require_user
from kbone.web.pages import error_page, render
from kbone.web.routes.assess import report_html, run_assessment

api = APIRouter(prefix="/api/v1", tags=["assessments"])
pages = APIRouter(include_in_schema=False)
MAX_ID = 2**31 - 1
AssessmentId = Path(..., ge=1, le=MAX_ID)


class SavedFull(store.SavedSummary):
    profile: dict
    report: Assessment


def _not_found() -> HTTPException:
    return HTTPException(404, detail="no such assessment / 无此评估")


def _report_of(row) -> tuple[Assessment, bool]:
    """The stored report; recomputed from the stored profile when its layout is from an older kbone."""
    try:
        return Assessment.model_validate(store.report_data(row)), False
    except ValidationError:
        _, a = run_assessment(store.profile_of(row))
        return a, True


def _rendered(row, lang: str) -> tuple[str, bool]:
    """The saved report as HTML; a saved row never changes, so its rendering is kept (after the owner check)."""

    def build():
        report, recomputed = _report_of(row)
        return report_html(report, lang), recomputed

    # ids can be reused after a delete (SQLite): the creation time makes the key unique
    return cache.cached(("saved-report", row.id, row.user_id, str(row.created_at), lang), build, bucket="report")


# ---- API ------------------------------------------------------------------------------------------

@api.get("/assessments", response_model=list[store.SavedSummary])
def api_list(user: User = Depends(require_user), db: Session = Depends(get_db),
             limit: int = Query(100, ge=1, le=store.MAX_LIST), offset: int = Query(0, ge=0, le=10**9)):
    """Your saved assessments, newest first."""
    return [store.summary(r) for r in store.list_for(db, user, limit=limit, offset=offset)]


@api.post("/assessments", response_model=store.SavedSummary, status_code=201,
          dependencies=[Depends(require_user), Depends(api_csrf)],
          responses={401: {"description": "not logged in"}, 403: {"description": "missing X-CSRF-Token"},
                     422: {"description": "invalid profile"}})
def api_save(body: store.SaveIn, user: User = Depends(require_user), db: Session = Depends(get_db)):
    """Assess ``profile`` and save profile and report; answers only after the save is committed."""
    data = body.profile.model_dump(mode="json", by_alias=True, exclude_unset=True)
    _, assessment = run_assessment(data)
    row = store.save(db, user, title=body.title, lang=body.lang, profile=data, report=assessment)
    return store.summary(row)


@api.get("/assessments/{assessment_id}", response_model=SavedFull, response_model_exclude_none=True,
         responses={404: {"description": "no such assessment (or not yours)"}})
def api_get(assessment_id: int = AssessmentId, user: User = Depends(require_user), db: Session = Depends(get_db)):
    """One of your saved assessments with its profile and report."""
    row = store.get_for(db, user, assessment_id)
    if row is None:
        raise _not_found()
    report, _ = _report_of(row)
    return SavedFull(**store.summary(row).model_dump(), profile=store.profile_of(row), report=report)


@api.delete("/assessments/{assessment_id}", status_code=204, dependencies=[Depends(require_user), Depends(api_csrf)],
            responses={404: {"description": "no such assessment (or not yours)"}})
def api_delete(assessment_id: int = AssessmentId, user: User = Depends(require_user), db: Session = Depends(get_db)):
    """Delete one of your saved assessments."""
    if not store.delete_for(db, user, assessment_id):
        raise _not_found()


class Count(BaseModel):
    count: int


@api.get("/assessments-count", response_model=Count)
def api_count(user: User = Depends(require_user), db: Session = Depends(get_db)):
    """How many assessments you have saved."""
    return Count(count=store.count_for(db, user))


# ---- pages ----------------------------------------------------------------------------------------

@pages.get("/assessments", response_class=HTMLResponse)
def list_page(request: Request, user: User = Depends(require_page_user), db: Session = Depends(get_db)):
    rows = store.list_for(db, user)
    return render(request, "saved_list.html", user, rows=rows, total=store.count_for(db, user))


@pages.post("/assessments")
async def save_page(request: Request, profile: str = Form(..., max_length=500_000),
                    title: str = Form(..., max_length=200), lang: str = Form("en", max_length=8),
                    csrf: str = Form(""), user: User = Depends(require_page_user), db: Session = Depends(get_db)):
    check_csrf(request, csrf)
    title = title.strip()
    ui = page_lang(request)
    try:
        if not title:
            raise KboneInputError(Problem(field="title", reason="empty", fix="give the assessment a label"))
        data = json.loads(profile)
        if not isinstance(data, dict):
            raise ValueError
        _, assessment = await run_in_threadpool(run_assessment, data)
    except (ValueError, KboneInputError) as err:
        msg = "; ".join(str(p) for p in err.problems) if isinstance(err, KboneInputError) else "profile is not valid JSON"
        return error_page(request, 422, pick("Not saved: ", "未保存：", ui) + msg, user)
    row = await run_in_threadpool(store.save, db, user, title=title, lang=lang if lang in ("en", "zh") else "en",
                                  profile=data, report=assessment)
    return RedirectResponse(f"/assessments/{row.id}", status_code=303)


def _own_report(request: Request, db: Session, user: User, assessment_id: int):
    """(row, report html, recomputed) of the user's saved assessment, or the 404 page to answer with (another
    user's id too)."""
    row = store.get_for(db, user, assessment_id)
    lang = page_lang(request)
    if row is None:
        return error_page(request, 404, pick("No such assessment.", "无此评估。", lang), user)
    return (row, *_rendered(row, lang))


@pages.get("/assessments/{assessment_id}", response_class=HTMLResponse)
def view_page(request: Request, assessment_id: int = AssessmentId, user: User = Depends(require_page_user),
              db: Session = Depends(get_db)):
    found = _own_report(request, db, user, assessment_id)
    if isinstance(found, HTMLResponse):
        return found
    row, html, recomputed = found
    return render(request, "saved_view.html", user, row=row, report=html, recomputed=recomputed)


@pages.get("/assessments/{assessment_id}/report.html", response_class=HTMLResponse)
def report_file(request: Request, assessment_id: int = AssessmentId, user: User = Depends(require_page_user),
                db: Session = Depends(get_db)):
    """The saved report as the same self-contained HTML file ``kbone assess --html`` writes."""
    found = _own_report(request, db, user, assessment_id)
    if isinstance(found, HTMLResponse):
        return found
    row, html, _ = found
    return HTMLResponse(html,
                        headers={"content-disposition": f'inline; filename="kbone-assessment-{row.id}.html"'})


@pages.post("/assessments/{assessment_id}/delete")
def delete_page(request: Request, assessment_id: int = AssessmentId, csrf: str = Form(""),
                user: User = Depends(require_page_user), db: Session = Depends(get_db)):
    check_csrf(request, csrf)
    if not store.delete_for(db, user, assessment_id):
        return error_page(request, 404, pick("No such assessment.", "无此评估。", page_lang(request)), user)
    return RedirectResponse("/assessments", status_code=303)
