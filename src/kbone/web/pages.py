"""Server-rendered pages (Jinja2, autoescaped): home, login/logout, evidence browser, record pages.

The other parts' pages live in :mod:`kbone.web.routes`; every page renders through :func:`render`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from kbone.errors import KboneInputError
from kbone.i18n import pick
from kbone.web import cache
from kbone.web.auth import authenticate
from kbone.web.db import User
from kbone.web.deps import check_csrf, csrf_token, current_user, get_db, page_lang

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
INTEGRITY = ("ok", "flagged", "expression_of_concern", "retracted")


def _lang_url(request: Request, lang: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(params)}"


def render(request: Request, name: str, user: User | None, status_code: int = 200, **ctx) -> HTMLResponse:
    """Render ``name`` with the page language, a ``t(en, zh)`` helper, the user and a CSRF token."""
    lang = page_lang(request)
    ctx.update(request=request, lang=lang, t=lambda en, zh: pick(en, zh, lang), user=user,
               csrf=csrf_token(request), path=request.url.path,
               lang_urls={"zh": _lang_url(request, "zh"), "en": _lang_url(request, "en")})
    return templates.TemplateResponse(request=request, name=name, context=ctx, status_code=status_code)


def error_page(request: Request, status: int, message: str, user: User | None = None) -> HTMLResponse:
    if user is None and request.session.get("uid"):
        db = request.app.state.sessions()
        try:
            user = current_user(request, db)
        finally:
            db.close()
    return render(request, "error.html", user, status_code=status, status=status, message=message)


def problems_of(err: KboneInputError) -> list[dict]:
    """Problems as plain dicts for templates (field, reason, fix, suggestions)."""
    return [p.to_dict() for p in err.problems]


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/", response_class=HTMLResponse)
def index(request: Request, user: User | None = Depends(current_user)):
    return render(request, "index.html", user)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, user: User | None = Depends(current_user)):
    return render(request, "login.html", user, error=None, next=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: str = Form(..., max_length=64), password: str = Form(..., max_length=256),
          csrf: str = Form(""), next: str = Form("/", max_length=500), db: Session = Depends(get_db)):
    check_csrf(request, csrf)
    user = authenticate(db, username, password)
    if user is None:
        return render(request, "login.html", None, status_code=401, next=safe_next(next),
                      error=pick("Wrong user name or password.", "用户名或密码错误。", page_lang(request)))
    lang = request.session.get("lang")
    request.session.clear()
    request.session.update(uid=user.id, epoch=user.session_epoch)
    if lang:
        request.session["lang"] = lang
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), db: Session = Depends(get_db),
           user: User | None = Depends(current_user)):
    check_csrf(request, csrf)
    if user is not None:  # old copies of this session cookie stop working
        user.session_epoch += 1
        db.commit()
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/login", status_code=303)


@router.get("/evidence", response_class=HTMLResponse)
def evidence_page(request: Request, form: str | None = None, outcome: str | None = None, design: str | None = None,
                  integrity: str | None = None, q: str | None = None, user: User | None = Depends(current_user)):
    from kbone.vocab import vocab

    v = vocab()
    f = v.resolve("form", form[:40]) if form else None
    o = v.resolve("outcome", outcome[:60]) if outcome else None
    d = v.resolve("design", design[:40]) if design else None
    integ = integrity if integrity in INTEGRITY else None
    text = (q or "").strip()[:200] or None
    lang = page_lang(request)
    filters = dict(form=f.id if f else None, outcome=o.id if o else None, design=d.id if d else None,
                   integrity=integ, text=text)
    body = cache.evidence_list_html(filters, lang)
    form = cache.evidence_filters_html(dict(form=filters["form"] or "", outcome=filters["outcome"] or "",
                                            design=filters["design"] or "", integrity=integ or "", q=text or ""),
                                       lang)
    return render(request, "evidence_list.html", user, body=body, filters=form)


@router.get("/evidence/{record_id}", response_class=HTMLResponse)
def record_page(request: Request, record_id: str, user: User | None = Depends(current_user)):
    lang = page_lang(request)
    body = cache.record_html(record_id[:80], lang)
    if body is None:
        return error_page(request, 404, pick("No such record.", "无此记录。", lang), user)
    title = cache.record_title(record_id)
    return render(request, "record.html", user, body=body, title=title)
