"""Server-rendered pages (Jinja2, autoescaped): login, evidence browser, record pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from kbone.i18n import pick
from kbone.web.auth import authenticate
from kbone.web.db import User
from kbone.web.deps import check_csrf, csrf_token, current_user, get_db, page_lang

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def render(request: Request, name: str, user: User | None, status_code: int = 200, **ctx) -> HTMLResponse:
    lang = page_lang(request)
    ctx.update(request=request, lang=lang, t=lambda en, zh: pick(en, zh, lang), user=user,
               csrf=csrf_token(request), path=request.url.path)
    return templates.TemplateResponse(request=request, name=name, context=ctx, status_code=status_code)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, user: User | None = Depends(current_user)):
    return render(request, "index.html", user)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, user: User | None = Depends(current_user)):
    return render(request, "login.html", user, error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: str = Form(..., max_length=64), password: str = Form(..., max_length=256),
          csrf: str = Form(""), db: Session = Depends(get_db)):
    check_csrf(request, csrf)
    user = authenticate(db, username, password)
    if user is None:
        return render(request, "login.html", None, status_code=401,
                      error=pick("Wrong user name or password.", "用户名或密码错误。", page_lang(request)))
    lang = request.session.get("lang")
    request.session.clear()
    request.session["uid"] = user.id
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")):
    check_csrf(request, csrf)
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/login", status_code=303)


@router.get("/evidence", response_class=HTMLResponse)
def evidence_page(request: Request, form: str | None = None, outcome: str | None = None,
                  integrity: str | None = None, q: str | None = None, user: User | None = Depends(current_user)):
    from kbone.store import fetch, query_ids
    from kbone.vocab import vocab

    v = vocab()
    f = v.resolve("form", form) if form else None
    o = v.resolve("outcome", outcome) if outcome else None
    integ = integrity if integrity in ("ok", "flagged", "expression_of_concern", "retracted") else None
    recs = fetch(query_ids(form=f.id if f else None, outcome=o.id if o else None, integrity=integ,
                           text=(q or None) and q[:200]))
    return render(request, "evidence_list.html", user, records=recs, vocab=v, form=f.id if f else "",
                  outcome=o.id if o else "", integrity=integ or "", q=q or "")


@router.get("/evidence/{record_id}", response_class=HTMLResponse)
def record_page(request: Request, record_id: str, user: User | None = Depends(current_user)):
    from kbone.store import fetch
    from kbone.vocab import vocab

    recs = fetch([record_id])
    if not recs:
        return render(request, "error.html", user, status_code=404, message="no such record / 无此记录")
    return render(request, "record.html", user, rec=recs[0], vocab=vocab())
