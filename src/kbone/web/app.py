"""The FastAPI application: server-rendered pages (Jinja2) and a REST API under ``/api/v1``.

Pages and API call the same library functions as the CLI; nothing here computes medicine.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kbone import __version__
from kbone.errors import KboneInputError
from kbone.paths import state_dir
from kbone.web import db as webdb
from kbone.web.deps import LoginRequired

MAX_BODY_BYTES = 1_000_000
HERE = Path(__file__).parent
log = logging.getLogger("kbone.web")

# No inline scripts anywhere: the few scripts are files under /static. Inline styles are allowed because
# the shared HTML report renderers (assessment, claims) carry their own <style> blocks.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


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
        tracked = _TrackedSend(send)

        async def limited_receive():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge()
            return msg

        try:
            await self.app(scope, limited_receive, tracked)
        except _BodyTooLarge:
            if not tracked.started:
                await _too_large(send)


class _TrackedSend:
    """An ASGI ``send`` that remembers whether the response has started (after which no error page can go)."""

    def __init__(self, send: Send):
        self.send = send
        self.started = False

    async def __call__(self, msg: Message) -> None:
        if msg["type"] == "http.response.start":
            self.started = True
        await self.send(msg)


async def _too_large(send: Send) -> None:
    await _send_json(send, 413, b'{"detail":"request body larger than 1 MB / '
                                b'\\u8bf7\\u6c42\\u4f53\\u8d85\\u8fc7 1 MB"}', close=True)


async def _send_json(send: Send, status: int, body: bytes, close: bool = False) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(StarletteHTTPException):
    """Raised while reading an oversized body; an HTTPException so that FastAPI's body parser re-raises it."""

    def __init__(self) -> None:
        super().__init__(413, "request body larger than 1 MB / 请求体超过 1 MB")


class SecurityHeaders:
    """Add CSP, nosniff, frame and referrer headers to every response; no caching of personal pages."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")

        async def send_with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers", []))
                headers += SECURITY_HEADERS
                if not path.startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                msg = {**msg, "headers": headers}
            await send(msg)

        await self.app(scope, receive, send_with_headers)


class CatchAll:
    """Turn an unexpected exception into a bare 500 and log only its type and the path.

    Tracebacks and exception messages are not logged: they may quote a profile or an article.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        tracked = _TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except _BodyTooLarge:
            raise
        except Exception as exc:  # noqa: BLE001 — the point is to catch everything
            log.error("unexpected %s in %s %s", type(exc).__name__, scope.get("method"), scope.get("path"))
            if not tracked.started:
                await _send_json(send, 500, b'{"detail":"internal error / \\u5185\\u90e8\\u9519\\u8bef"}')


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
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(database_url: str | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the app on ``database_url`` (default: :func:`kbone.web.db.app_database_url`)."""
    url = database_url or webdb.app_database_url()
    if migrate:
        webdb.migrate(url)
    engine = webdb.make_engine(url)
    app = FastAPI(title="kbone", version=__version__,
                  description="Vitamin K and bone & joint health — evidence, models, diet, assessment, claims. "
                              "Informs; does not prescribe. Log in with POST /api/v1/login (session cookie); "
                              "requests that change saved data also send the returned `csrf` token in the "
                              "X-CSRF-Token header.",
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)  # Swagger UI needs a CDN
    app.state.engine = engine
    app.state.sessions = webdb.session_factory(engine)
    secure = os.environ.get("KBONE_COOKIE_SECURE", "0") == "1"
    app.add_middleware(SessionMiddleware, secret_key=_secret_key(), session_cookie="kbone_session",
                       same_site="lax", https_only=secure, max_age=8 * 3600)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(CatchAll)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    logging.getLogger("uvicorn.access").addFilter(_NoQueryStrings())

    @app.exception_handler(KboneInputError)
    async def _bad_input(request: Request, exc: KboneInputError):
        return JSONResponse(status_code=422, content=exc.to_dict())

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        # the default handler echoes the input back; keep field and reason only (inputs may be personal)
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        if _is_api(request):
            return JSONResponse(status_code=422, content={"detail": errors})
        from kbone.web.pages import error_page

        return error_page(request, 422, "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if _is_api(request) or exc.status_code in (405, 413):
            return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail},
                                headers=getattr(exc, "headers", None))
        from kbone.web.pages import error_page

        return error_page(request, exc.status_code, str(exc.detail))

    from kbone.web import api, pages, routes

    app.include_router(api.router)
    app.include_router(pages.router)
    routes.include_all(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return Response("ok", media_type="text/plain")

    return app
