"""Subgroup variables for ``--by`` and their bilingual labels.

``form``, ``population`` and ``country`` are vocabulary ids (labels from :mod:`kbone.vocab`); ``dose_band``
bins the daily vitamin K dose (µg/day) at :data:`DOSE_CUTS_UG`: below 1 mg/day covers dietary-supplement
doses (MK-7 90–375 µg, K1 up to 500 µg), 1–10 mg/day the K1 trials at 1–5 mg, and 10 mg/day or more the
pharmacological MK-4 dose (45 mg/day). These cut points are an analysis choice, not a clinical threshold.
"""

from __future__ import annotations

from kbone.vocab import vocab

BY_CHOICES = ("form", "population", "dose_band", "country", "design")
DOSE_CUTS_UG = (1000.0, 10000.0)


def _fmt_ug(x: float) -> str:
    return f"{x / 1000:g} mg" if x >= 1000 else f"{x:g} µg"


def dose_band(ug_per_day: float | None, cuts: tuple[float, ...] = DOSE_CUTS_UG) -> str | None:
    """The band id for a daily dose in µg, e.g. ``'<1000'``, ``'1000-10000'``, ``'>=10000'``."""
    if ug_per_day is None:
        return None
    lo = None
    for c in cuts:
        if ug_per_day < c:
            return f"<{c:g}" if lo is None else f"{lo:g}-{c:g}"
        lo = c
    return f">={lo:g}"


def _dose_label(band: str, lang: str) -> str:
    per = "/天" if lang == "zh" else "/day"
    if band.startswith("<"):
        return f"< {_fmt_ug(float(band[1:]))}{per}"
    if band.startswith(">="):
        return f"≥ {_fmt_ug(float(band[2:]))}{per}"
    lo, hi = band.split("-")
    return f"{_fmt_ug(float(lo))}–{_fmt_ug(float(hi))}{per}"


def group_label(by: str, value: str, lang: str = "en") -> str:
    """Readable label of a subgroup value in ``lang`` (zh or en)."""
    if value in ("unknown", "", None):
        return "未知" if lang == "zh" else "unknown"
    if value == "multinational":
        return "多国" if lang == "zh" else "multinational"
    kind = {"form": "form", "population": "population", "country": "country", "design": "design"}.get(by)
    if kind and vocab().has(kind, value):
        return vocab().label(kind, value, lang)
    if by == "dose_band":
        try:
            return _dose_label(value, lang)
        except ValueError:
            return value
    return value
