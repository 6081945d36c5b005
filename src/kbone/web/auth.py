"""Users, password hashing (Argon2id via argon2-cffi) and CSRF tokens for form posts."""

from __future__ import annotations

import hmac
import os
import re
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from kbone.errors import KboneInputError, Problem
from kbone.web.db import User, get_user

_HASHER = PasswordHasher()
# Argon2id uses 64 MiB per hash: dozens of logins at once would exhaust memory (and argon2 then reports a
# failed verification). Hash at most one per CPU at a time; the others wait their turn.
_HASH_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    with _HASH_SLOTS:
        return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        with _HASH_SLOTS:
            return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(db: Session, username: str, password: str, *, admin: bool = False) -> User:
    """Create a user; bad names, short passwords and duplicates raise :class:`KboneInputError`."""
    if not USERNAME_RE.match(username or ""):
        raise KboneInputError(Problem(field="username", reason="3–64 letters, digits or . _ @ -",
                                      fix="choose another user name"))
    if len(password or "") < MIN_PASSWORD:
        raise KboneInputError(Problem(field="password", reason=f"shorter than {MIN_PASSWORD} characters",
                                      fix="choose a longer password"))
    if get_user(db, username):
        raise KboneInputError(Problem(field="username", reason=f"user {username!r} exists", fix="choose another name"))
    user = User(username=username, password_hash=hash_password(password), is_admin=admin)
    db.add(user)
    db.commit()
    return user


def authenticate(db: Session, username: str, password: str) -> User | None:
    user = get_user(db, username)
    if user is None:
        verify_password(hash_password("timing-equaliser"), password)  # same work for unknown users
        return None
    return user if verify_password(user.password_hash, password) else None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(session_token: str | None, sent: str | None) -> bool:
    return bool(session_token and sent and hmac.compare_digest(session_token, sent))
