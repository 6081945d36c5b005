"""Meta-analysis page and API: pool the evidence base for one outcome (``kbone.evidence.meta``), with the
forest plot from :func:`kbone.evidence.meta.plots.forest_plot` and the integrity toggle.

Wired to: ``kbone.evidence.meta.cli.analyse_evidence`` (records → study inputs → ``pipeline.analyse``; the
same path as ``kbone meta --outcome``), ``pipeline.Options``, ``results.MetaReport``, ``plots.forest_plot``.
"""

from __future__ import annotations

import base64
import tempfile
import threading
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from kbone.errors import KboneInputError
from kbone.evidence.meta.groups import BY_CHOICES
from kbone.evidence.meta.pipeline import ALL_MEASURES, ALL_METHODS, Options
from kbone.evidence.meta.results import MetaReport
from kbone.web import cache
from kbone.web.db import User
from kbone.web.deps import current_user, page_lang
from kbone.web.pages import problems_of, render

api = APIRouter(prefix="/api/v1", tags=["meta"])
pages = APIRouter(include_in_schema=False)

Measure = Literal[ALL_MEASURES]
Method = Literal[ALL_METHODS]
Scenario = Literal["all", "no_retracted", "no_retracted_or_flagged"]
By = Literal[BY_CHOICES]
MetricName = Literal["percent_change", "absolute_change", "final_value"]
EXCLUDE = {"all": (), "no_retracted": ("retracted",),
           "no_retracted_or_flagged": ("retracted", "flagged", "expression_of_concern")}
_plot_lock = threading.Lock()  # matplotlib rc_context changes global state


def run_meta(outcome: str, *, measure: str | None = None, method: str = "REML", test: str = "z",
             scenario: str = "all", by: str | None = None, metric: str | None = None) -> MetaReport:
    """The same analysis as ``kbone meta --outcome`` (cached: the evidence base only changes with its YAML)."""

    def build():
        from kbone.evidence.meta.cli import analyse_evidence

        opt = Options(measure=(measure or "").upper(), method=method.upper(), test=test, by=by,
                      exclude=EXCLUDE[scenario])
        return analyse_evidence(outcome, opt, metric, None)

    key = ("meta", outcome, measure, method, test, scenario, by, metric)
    rep = cache.cached(key, lambda: _capture(build))
    if isinstance(rep, KboneInputError):
        raise rep
    return rep


def _capture(fn):
    try:
        return fn()
    except KboneInputError as e:  # cached too: the same bad request gets the same answer
        return e


def forest_svg(rep: MetaReport, lang: str, key: tuple) -> bytes:
    """The forest plot of ``rep`` as SVG bytes, drawn by the meta-analysis part's own plotter."""

    def build():
        from kbone.evidence.meta.plots import forest_plot

        title = rep.outcome_label.get(lang) if rep.outcome_label else None
        with _plot_lock, tempfile.TemporaryDirectory() as d:
            path = forest_plot(rep, Path(d) / "forest.svg", lang, title=title)
            return path.read_bytes()

    return cache.cached(("forest", *key, lang), build)


def poolable_outcomes() -> list[tuple[str, str, str]]:
    """(id, en, zh) of outcomes that at least one comparative trial in the evidence base reports."""

    def build():
        from kbone.evidence.loader import load_records
        from kbone.evidence.meta.from_records import TRIAL_DESIGNS
        from kbone.vocab import vocab

        v = vocab()
        seen: dict[str, int] = {}
        for r in load_records():
            if r.design in TRIAL_DESIGNS:
                for o in r.outcomes:
                    seen[o.outcome] = seen.get(o.outcome, 0) + 1
        ids = sorted(seen, key=lambda o: (-seen[o], o))
        return [(o, v.get("outcome", o).en, v.get("outcome", o).zh) for o in ids]

    return cache.cached(("outcomes",), build)


@api.get("/meta", response_model=MetaReport)
def api_meta(outcome: str = Query(..., min_length=1, max_length=80, description="outcome id or any zh/en name"),
             measure: Measure | None = Query(None, description="default: OR for events, MD for means"),
             method: Method = "REML", knha: bool = Query(False, description="Knapp-Hartung test"),
             scenario: Scenario = Query("all", description="integrity: all trials, or without retracted / flagged"),
             by: By | None = Query(None, description="subgroups"), metric: MetricName | None = None):
    """Pool the evidence base for one outcome (``kbone meta --outcome … --json``)."""
    return run_meta(outcome, measure=measure, method=method, test="knha" if knha else "z", scenario=scenario,
                    by=by, metric=metric)


@api.get("/meta/forest.svg", response_class=Response,
         responses={200: {"content": {"image/svg+xml": {}}, "description": "forest plot"}})
def api_forest(outcome: str = Query(..., min_length=1, max_length=80), measure: Measure | None = None,
               method: Method = "REML", knha: bool = False, scenario: Scenario = "all", by: By | None = None,
               metric: MetricName | None = None, lang: Literal["en", "zh"] = "en"):
    """The forest plot (SVG) of the same analysis."""
    test = "knha" if knha else "z"
    rep = run_meta(outcome, measure=measure, method=method, test=test, scenario=scenario, by=by, metric=metric)
    svg = forest_svg(rep, lang, (outcome, measure, method, test, scenario, by, metric))
    return Response(svg, media_type="image/svg+xml")


@pages.get("/meta", response_class=HTMLResponse)
def meta_page(request: Request, outcome: str | None = None, measure: str | None = None, method: str = "REML",
              scenario: str = "all", by: str | None = None, metric: str | None = None,
              user: User | None = Depends(current_user)):
    lang = page_lang(request)
    outcome = (outcome or "").strip()[:80] or None
    measure = measure.upper() if measure and measure.upper() in ALL_MEASURES else None
    method = method.upper() if method and method.upper() in ALL_METHODS else "REML"
    scenario = scenario if scenario in EXCLUDE else "all"
    by = by if by in BY_CHOICES else None
    metric = metric if metric in ("percent_change", "absolute_change", "final_value") else None
    ctx = dict(outcomes=poolable_outcomes(), outcome=outcome, measure=measure, method=method, scenario=scenario,
               by=by, metric=metric, measures=ALL_MEASURES, methods=ALL_METHODS, by_choices=BY_CHOICES,
               rep=None, problems=None, forest=None, all_rep=None)
    status = 200
    if outcome:
        try:
            rep = run_meta(outcome, measure=measure, method=method, scenario=scenario, by=by, metric=metric)
            svg = forest_svg(rep, lang, (outcome, measure, method, "z", scenario, by, metric))
            ctx.update(rep=rep, forest="data:image/svg+xml;base64," + base64.b64encode(svg).decode())
            if scenario != "all":  # the side-by-side scenarios come from the analysis of all trials
                try:
                    ctx["all_rep"] = run_meta(outcome, measure=measure, method=method, by=by, metric=metric)
                except KboneInputError:
                    ctx["all_rep"] = None
            else:
                ctx["all_rep"] = rep
        except KboneInputError as err:
            ctx["problems"] = problems_of(err)
            status = 422
    return render(request, "meta.html", user, status_code=status, **ctx)
