"""Which library function each page calls, in one place.

Pages and API routes import the other parts lazily through :func:`library`; a part that is not there
(yet) gives a clear 503 instead of a traceback.
"""

from __future__ import annotations

import importlib


class PartUnavailable(Exception):
    """A library part a page needs is not installed or not built yet."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(f"{what} is not available in this kbone build")


def library(module: str, *names: str):
    """``getattr(import(module), name)`` for each name; :class:`PartUnavailable` when missing."""
    try:
        mod = importlib.import_module(module)
        objs = tuple(getattr(mod, n) for n in names)
    except (ImportError, AttributeError):
        raise PartUnavailable(f"{module}.{'/'.join(names)}") from None
    return objs[0] if len(objs) == 1 else objs


def available(module: str, *names: str) -> bool:
    try:
        library(module, *names)
    except PartUnavailable:
        return False
    return True
