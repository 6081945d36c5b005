"""Language handling: zh-CN and English are both first-class.

Texts that kbone prints are pairs (English, Chinese). ``pick`` chooses one by language; the default
language comes from ``KBONE_LANG`` or the locale (``zh*`` → zh), else English.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel

Lang = Literal["en", "zh"]
LANGS: tuple[str, ...] = ("en", "zh")


def default_lang() -> Lang:
    """The language used when no ``--lang`` is given."""
    for var in ("KBONE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        v = os.environ.get(var, "")
        if v:
            return "zh" if v.lower().startswith("zh") else "en"
    return "en"


def norm_lang(lang: str | None) -> Lang:
    """Validate a ``--lang`` value (en, zh, zh-CN, zh_CN …)."""
    if lang is None or lang == "":
        return default_lang()
    low = lang.lower().replace("_", "-")
    if low in ("en", "en-us", "en-gb", "english"):
        return "en"
    if low in ("zh", "zh-cn", "zh-hans", "cn", "chinese", "中文"):
        return "zh"
    from kbone.errors import KboneInputError

    raise KboneInputError(f"unknown language {lang!r}", field="lang", fix="use --lang zh or --lang en")


class Text(BaseModel):
    """A bilingual text."""

    en: str
    zh: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def __str__(self) -> str:  # readable default for logs and tests
        return self.en


def pick(en: str, zh: str, lang: str) -> str:
    """Return the text for ``lang``."""
    return zh if lang == "zh" else en


def both(en: str, zh: str) -> str:
    """Both languages in one label, for tables read by mixed teams: ``菠菜 spinach``."""
    return f"{zh} {en}" if zh and zh != en else en
