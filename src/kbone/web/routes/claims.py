"""Article checker: paste or upload a text → its claims with verdicts, highlighted in the text by the same
HTML renderer as ``kbone check --html``; and the API ``POST /api/v1/check``.

Wired to: ``kbone.claims.check.check_bytes`` / ``check_text`` (the verdicts), ``kbone.claims.decode.decode_bytes``
(UTF-8, GB18030, Big5 uploads), ``kbone.claims.report.render_html`` (the highlighted report) and the
``kbone.claims.models.Report`` model.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kbone.claims.check import check_bytes
from kbone.claims.decode import decode_bytes
from kbone.claims.models import Report
from kbone.claims.report import render_html
from kbone.errors import KboneInputError, Problem
from kbone.web import forms
from kbone.web.db import User
from kbone.web.deps import check_csrf, current_user, page_lang
from kbone.web.pages import problems_of, render

api = APIRouter(prefix="/api/v1", tags=["claims"])
pages = APIRouter(include_in_schema=False)
Lang = Literal["en", "zh"]
MAX_TEXT = 500_000
SUFFIXES = (".txt", ".md", ".text", ".html", ".htm")


class CheckIn(BaseModel):
    """An article or a scientific text to check."""

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="the text (UTF-8)")
    lang: Lang = Field("en", description="language of the verdicts' reasons")
    ocr: bool | None = Field(None, description="repair OCR damage: null = only where the text shows it")
    source: str = Field("<text>", max_length=100, description="a name for the text in the report")


def run_check(raw: bytes, lang: str, source: str, ocr: bool | None = None) -> tuple[Report, str]:
    """The claims report and the decoded original text (the renderer highlights claims in it)."""
    rep = check_bytes(raw, lang=lang, source=source, ocr=ocr)
    original = decode_bytes(raw, name=source).text
    return rep, original


@api.post("/check", response_model=Report)
def api_check(body: CheckIn):
    """Claims in the text with verdicts and the evidence behind each (``kbone check FILE --json``)."""
    rep, _ = run_check(body.text.encode("utf-8"), body.lang, forms.safe_filename(body.source), body.ocr)
    return rep


@api.post("/check/html", response_class=HTMLResponse,
          responses={200: {"content": {"text/html": {}}, "description": "claims highlighted in the text"}})
def api_check_html(body: CheckIn):
    """The same as an HTML page with the claims highlighted (``kbone check FILE --html``)."""
    source = forms.safe_filename(body.source)
    rep, original = run_check(body.text.encode("utf-8"), body.lang, source, body.ocr)
    return HTMLResponse(render_html(rep, original, body.lang, title=source))


@api.post("/check/file", response_model=Report)
async def api_check_file(file: UploadFile = File(..., description="a text file: UTF-8, GB18030 or Big5"),
                         lang: Lang = Query("en")):
    """Check an uploaded text file (encodings detected as by ``kbone check``)."""
    name = forms.safe_filename(file.filename)
    raw = await file.read(MAX_TEXT * 4 + 1)
    if not raw:
        raise KboneInputError(Problem(field="file", reason="empty file", fix="upload a text file"))
    rep, _ = await run_in_threadpool(run_check, raw, lang, name)
    return rep


@pages.get("/check", response_class=HTMLResponse)
def check_page(request: Request, user: User | None = Depends(current_user)):
    return render(request, "check.html", user, text="", problems=None, report=None, rep=None)


@pages.post("/check", response_class=HTMLResponse)
async def check_submit(request: Request, text: str = Form("", max_length=MAX_TEXT), csrf: str = Form(""),
                       file: UploadFile | None = File(None), user: User | None = Depends(current_user)):
    check_csrf(request, csrf)
    lang = page_lang(request)
    try:
        up = None
        if file is not None and (file.filename or "").strip():
            name = forms.safe_filename(file.filename)
            suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
            if suffix not in SUFFIXES:
                raise KboneInputError(Problem(field="file", reason=f"{name}: not a text file",
                                              fix="upload a .txt file (UTF-8, GB18030 or Big5)"))
            up = (name, await file.read(MAX_TEXT * 4 + 1))
        if up and up[1]:
            source, raw = up
        elif text.strip():
            source, raw = "text", text.encode("utf-8")
        else:
            raise KboneInputError(Problem(field="text", reason="nothing to check",
                                          fix="paste the article or choose a file"))
        rep, original = await run_in_threadpool(run_check, raw, lang, source)
        html = await run_in_threadpool(lambda: render_html(rep, original, lang, title=source))
    except KboneInputError as err:
        return render(request, "check.html", user, status_code=422, text=text, problems=problems_of(err),
                      report=None, rep=None)
    return render(request, "check.html", user, text=text, problems=None, report=html, rep=rep)
