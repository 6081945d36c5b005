"""Pages and API routes of each part. Each module holds an ``api`` router (under /api/v1, in the OpenAPI
schema) and a ``pages`` router (server-rendered HTML).

A module whose library part cannot be imported is left out; its pages answer 503 with a bilingual note
instead (see :data:`PAGES`), so one unfinished part never takes the whole app down.
"""

from __future__ import annotations

import importlib
import logging

from fastapi import FastAPI, Request

log = logging.getLogger("kbone.web")

# module → the page paths it serves (for the 503 stand-in when its library part is missing)
PAGES = {
    "assess": ("/assess",),
    "saved": ("/assessments",),
    "meta": ("/meta",),
    "claims": ("/check",),
    "diet": ("/food", "/diary"),
    "pk": ("/pk",),
    "trial": ("/trial",),
}


def include_all(app: FastAPI) -> None:
    app.state.unavailable = {}
    for name, paths in PAGES.items():
        try:
            mod = importlib.import_module(f"kbone.web.routes.{name}")
        except ImportError as err:
            log.warning("web part %s not available: %s", name, type(err).__name__)
            app.state.unavailable[name] = str(err.name or err)
            for p in paths:
                _stand_in(app, p, name)
            continue
        app.include_router(mod.api)
        app.include_router(mod.pages)


def _stand_in(app: FastAPI, path: str, part: str) -> None:
    async def unavailable(request: Request):
        from kbone.web.pages import error_page

        return error_page(request, 503, f"This part ({part}) is not available in this kbone build yet. "
                                        f"/ 此功能（{part}）尚未提供。")

    app.add_api_route(path, unavailable, methods=["GET"], include_in_schema=False)
