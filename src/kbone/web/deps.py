"""Request dependencies: database session, current user, language, CSRF."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session

from kbone.i18n import norm_lang
from kbone.web.auth import csrf_ok, new_csrf_token
from kbone.web.db import User


class LoginRequired(Exception):
    """A page needs a logged-in user: the app redirects to /login?next=…"""


def get_db(request: Request) -> Iterator[Session]:
    db = request.app.state.sessions()
    try:
        yield db
    finally:
        db.close()


def current_user(request: Request, db: Session = Depends(get_db)) -> User | None:
    """The logged-in user, or None. A session from before the user's last logout is not honoured."""
    uid = request.session.get("uid")
    if not uid:
        return None
    user = db.get(User, uid)
    if user is None or request.session.get("epoch", 0) != user.session_epoch:
        return None
    return user


def require_user(user: User | None = Depends(current_user)) -> User:
    """API: 401 without a session."""
    if user is None:
        raise HTTPException(status_code=401, detail="log in first / 请先登录")
    return user


def require_page_user(user: User | None = Depends(current_user)) -> User:
    """Pages: redirect to the login page without a session."""
    if user is None:
        raise LoginRequired()
    return user


def page_lang(request: Request) -> str:
    """Language from ?lang=, then the session, then Accept-Language; remembered in the session."""
    q = request.query_params.get("lang")
    if q in ("zh", "en", "zh-CN"):
        lang = norm_lang(q)
        request.session["lang"] = lang
        return lang
    if request.session.get("lang") in ("zh", "en"):
        return request.session["lang"]
    return "zh" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"


def csrf_token(request: Request) -> str:
    tok = request.session.get("csrf")
    if not tok:
        tok = new_csrf_token()
        request.session["csrf"] = tok
    return tok


def check_csrf(request: Request, sent: str | None) -> None:
    if not csrf_ok(request.session.get("csrf"), sent):
        raise HTTPException(status_code=403, detail="CSRF check failed / 表单校验失败，请刷新页面重试")


def api_csrf(request: Request, x_csrf_token: str | None = Header(None, description="token from POST /api/v1/login")) -> None:
    """API calls that change saved data send the session's CSRF token in ``X-CSRF-Token``."""
    check_csrf(request, x_csrf_token)
