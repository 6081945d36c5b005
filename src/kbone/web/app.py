"""The FastAPI application: server-rendered pages (Jinja2) and a REST API under ``/api/v1``.

Pages and API call the same library functions as the CLI; nothing here computes medicine.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from kbone import __version__
from kbone.errors import KboneInputError
from kbone.paths import state_dir
from kbone.web import db as webdb

MAX_BODY_BYTES = 1_000_000
HERE = Path(__file__).parent


class BodyLimit:
    """Reject request bodies over ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > self.limit:
                return await _too_large(send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge()
            return msg

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = b'{"detail":"request body larger than 1 MB / \\u8bf7\\u6c42\\u4f53\\u8d85\\u8fc7 1 MB"}'
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _NoQueryStrings(logging.Filter):
    """Access logs keep method, path and status only: no query strings (they may carry personal data)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def _secret_key() -> str:
    env = os.environ.get("KBONE_SECRET_KEY")
    if env:
        return env
    path = state_dir() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(database_url: str | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the app on ``database_url`` (default: ``KBONE_DATABASE_URL`` or the SQLite file)."""
    url = database_url or webdb.app_database_url()
    if migrate:
        webdb.migrate(url)
    engine = webdb.make_engine(url)
    app = FastAPI(title="kbone", version=__version__,
                  description="Vitamin K and bone & joint health — evidence, models, diet, assessment, claims. "
                              "Informs; does not prescribe.")
    app.state.engine = engine
    app.state.sessions = webdb.session_factory(engine)
    secure = os.environ.get("KBONE_COOKIE_SECURE", "0") == "1"
    app.add_middleware(SessionMiddleware, secret_key=_secret_key(), session_cookie="kbone_session",
                       same_site="lax", https_only=secure, max_age=8 * 3600)
    app.add_middleware(BodyLimit)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    logging.getLogger("uvicorn.access").addFilter(_NoQueryStrings())

    @app.exception_handler(KboneInputError)
    async def _bad_input(request: Request, exc: KboneInputError):
        return JSONResponse(status_code=422, content=exc.to_dict())

    from kbone.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    return app
