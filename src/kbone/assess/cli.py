"""``kbone assess PROFILE``: a person's vitamin K and bone-health assessment (text, JSON, HTML, PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kbone.errors import KboneInputError, Problem
from kbone.i18n import norm_lang
from kbone.output import atomic_write, console, emit_json


def register(app: typer.Typer) -> None:
    """Add ``kbone assess`` to the root app."""
    app.command("assess")(assess_cmd)


def assess_cmd(
    profile: Annotated[Path | None, typer.Argument(metavar="PROFILE", help="Profile YAML/JSON (see examples/).")] = None,
    diary: Annotated[Path | None, typer.Option("--diary", help="Food diary (overrides the profile's diet).")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="zh or en (default: KBONE_LANG or locale).")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write a PDF report here (needs a CJK font).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")] = False,
    no_model: Annotated[bool, typer.Option("--no-model", help="Skip the PK/PD and bone-model estimates (faster).")] = False,
    schema: Annotated[bool, typer.Option("--schema", help="Print the profile's JSON Schema and exit.")] = False,
) -> None:
    """Assess a person: safety alerts first, bone screening, intake, evidence-graded options.
    / 个人评估：安全警示优先、骨骼筛查、摄入量、分级证据方案。"""
    from kbone.assess.profile import load_profile, profile_schema

    lang = norm_lang(lang)
    if schema:
        emit_json(profile_schema())
        return
    if profile is None:
        raise KboneInputError(Problem(field="PROFILE", reason="no profile given",
                                      fix="kbone assess examples/profiles/seed004_knee_oa.yaml (or --schema for the format)"))
    for out in (html, pdf):
        if out is not None and out.exists() and out.is_dir():
            raise KboneInputError(Problem(field="--html/--pdf", reason=f"{out} is a folder", fix="give a file name"))
    from kbone.assess.assessment import assess
    from kbone.assess.report import render_html, render_pdf, render_text

    prof = load_profile(profile)
    result = assess(prof, diary=diary, base_dir=profile.resolve().parent, model=not no_model)
    # render everything before writing anything: no half-written outputs
    html_text = render_html(result, lang) if (html or pdf) else None
    pdf_bytes = render_pdf(html_text) if pdf else None
    if html:
        atomic_write(html, html_text)
    if pdf:
        atomic_write(pdf, pdf_bytes)
    if as_json:
        emit_json(result)
        return
    render_text(result, lang, console)
    for label, out in (("HTML", html), ("PDF", pdf)):
        if out:
            console.print(f"{label}: {out}")
