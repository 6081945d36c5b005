"""REST API under /api/v1 — the same pydantic models and library calls as the CLI."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from kbone.evidence.schema import Record
from kbone.web.auth import authenticate
from kbone.web.db import User
from kbone.web.deps import api_csrf, csrf_token, get_db, require_user

router = APIRouter(prefix="/api/v1")


class RecordSummary(BaseModel):
    id: str
    citation: str
    year: int | None
    design: str
    forms: list[str]
    outcomes: list[str]
    n_total: int | None
    integrity: str


def _summary(r: Record) -> RecordSummary:
    return RecordSummary(id=r.id, citation=r.citation.text(), year=r.year, design=r.design, forms=r.forms,
                         outcomes=r.outcome_ids, n_total=r.n_total, integrity=r.integrity.status)


@router.get("/evidence", response_model=list[RecordSummary], tags=["evidence"])
def evidence_list(form: str | None = Query(None, max_length=40), outcome: str | None = Query(None, max_length=60),
                  design: str | None = Query(None, max_length=40),
                  integrity: Literal["ok", "flagged", "expression_of_concern", "retracted"] | None = None,
                  q: str | None = Query(None, max_length=200)):
    """Records filtered by form, outcome, design, integrity and free text (zh or en)."""
    from kbone.store import fetch, query_ids
    from kbone.vocab import vocab

    v = vocab()

    def res(kind, val):
        if val is None:
            return None
        t = v.resolve(kind, val)
        if t is None:
            raise HTTPException(422, detail=f"unknown {kind} {val!r}; suggestions: {v.suggest(kind, val)}")
        return t.id

    ids = query_ids(form=res("form", form), outcome=res("outcome", outcome), design=res("design", design),
                    integrity=integrity, text=q)
    return [_summary(r) for r in fetch(ids)]


@router.get("/evidence/{record_id}", response_model=Record, tags=["evidence"],
            response_model_exclude_none=True)
def evidence_show(record_id: str):
    """One record with every number and its source."""
    from kbone.store import fetch

    recs = fetch([record_id])
    if not recs:
        raise HTTPException(404, detail="no such record / 无此记录")
    return recs[0]


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginOut(BaseModel):
    ok: bool
    username: str
    csrf: str = Field(description="send as X-CSRF-Token on requests that change saved data")


@router.post("/login", response_model=LoginOut, tags=["auth"], responses={401: {"description": "wrong credentials"}})
def api_login(body: LoginIn, request: Request, db: Session = Depends(get_db)):
    """Log in for API use: sets the session cookie and returns the CSRF token."""
    user = authenticate(db, body.username, body.password)
    if user is None:
        raise HTTPException(401, detail="wrong user name or password / 用户名或密码错误")
    request.session.clear()
    request.session.update(uid=user.id, epoch=user.session_epoch)
    return LoginOut(ok=True, username=user.username, csrf=csrf_token(request))


@router.post("/logout", tags=["auth"], status_code=204, dependencies=[Depends(require_user), Depends(api_csrf)])
def api_logout(request: Request, user: User = Depends(require_user), db: Session = Depends(get_db)):
    """End every session of this user (old cookies stop working)."""
    user.session_epoch += 1
    db.commit()
    request.session.clear()


class Me(BaseModel):
    username: str
    admin: bool


@router.get("/me", response_model=Me, tags=["auth"])
def api_me(user: User = Depends(require_user)):
    """Who is logged in."""
    return Me(username=user.username, admin=user.is_admin)
