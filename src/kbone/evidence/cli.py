"""``kbone evidence …``: list, show, search, validate and summarise the evidence base."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kbone.errors import KboneInputError, Problem
from kbone.evidence import render
from kbone.i18n import norm_lang, pick
from kbone.output import console, emit_json
from kbone.vocab import vocab

evidence_app = typer.Typer(no_args_is_help=True, help="The evidence base / 证据库: studies, meta-analyses, guidelines.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="zh or en (default: KBONE_LANG or locale).")]


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")


def _summary_dict(rec) -> dict:
    return {"id": rec.id, "citation": rec.citation.text(), "short": rec.citation.short(), "year": rec.year,
            "design": rec.design, "country": rec.country, "forms": rec.forms, "outcomes": rec.outcome_ids,
            "n_total": rec.n_total, "integrity": rec.integrity.status,
            "doi": rec.citation.doi, "pmid": rec.citation.pmid}


def _resolve(kind: str, value: str | None, field: str) -> str | None:
    return None if value is None else vocab().resolve_or_raise(kind, value, field=field).id


def _records(ids: list[str]):
    from kbone.store import fetch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recs = fetch(ids)
    for w in caught:
        console.print(f"[yellow]warning: {w.message}[/]")
    return recs


@evidence_app.command("list")
def list_cmd(
    form: Annotated[str | None, typer.Option(help="Vitamin K form (K1, MK-4, MK-7, K2 …; zh or en).")] = None,
    outcome: Annotated[str | None, typer.Option(help="Outcome (bmd_lumbar_spine, fracture_vertebral, 椎体骨折 …).")] = None,
    design: Annotated[str | None, typer.Option(help="Study design (rct, meta_analysis, cohort …).")] = None,
    integrity: Annotated[str | None, typer.Option(help="ok | flagged | expression_of_concern | retracted")] = None,
    as_json: JsonOpt = False, lang: LangOpt = None,
) -> None:
    """List records, filtered. / 列出证据记录。"""
    from kbone.store import query_ids

    lang = norm_lang(lang)
    if integrity is not None and integrity not in render.INTEGRITY_LABEL:
        raise KboneInputError(Problem(field="integrity", reason=f"unknown integrity status {integrity!r}",
                                      fix="use ok, flagged, expression_of_concern or retracted"))
    ids = query_ids(form=_resolve("form", form, "form"), outcome=_resolve("outcome", outcome, "outcome"),
                    design=_resolve("design", design, "design"), integrity=integrity)
    recs = _records(ids)
    if as_json:
        emit_json([_summary_dict(r) for r in recs])
        return
    console.print(render.records_table(recs, lang))


@evidence_app.command("show")
def show_cmd(
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Record id, e.g. braam2003.")],
    as_json: JsonOpt = False, lang: LangOpt = None,
    fhir: Annotated[bool, typer.Option("--fhir", help="FHIR R5 Evidence/Citation Bundle (JSON).")] = False,
) -> None:
    """Show one record with every number and its source. / 显示一条记录。"""
    from kbone.evidence.loader import get_record

    lang = norm_lang(lang)
    recs = _records([record_id])
    rec = recs[0] if recs else get_record(record_id)  # raises with suggestions when unknown
    if fhir:
        from kbone.evidence.fhir import to_fhir

        emit_json(to_fhir(rec))
        return
    if as_json:
        data = rec.model_dump(mode="json")
        data["derived"] = {"forms": rec.forms, "outcomes": rec.outcome_ids, "n_total": rec.n_total,
                           "duration_weeks": rec.duration_weeks, "region": rec.region}
        emit_json(data)
        return
    console.print(render.record_panel(rec, lang))


@evidence_app.command("search")
def search_cmd(text: Annotated[str, typer.Argument(help="Words to find (zh or en), e.g. '骨折 MK-4' or 'femoral neck'.")],
               as_json: JsonOpt = False, lang: LangOpt = None) -> None:
    """Search citations, populations, results and notes. / 搜索证据。"""
    from kbone.store import query_ids

    lang = norm_lang(lang)
    if not text.strip():
        raise KboneInputError(Problem(field="text", reason="empty search", fix="give one or more words"))
    recs = _records(query_ids(text=text))
    if as_json:
        emit_json([_summary_dict(r) for r in recs])
        return
    console.print(render.records_table(recs, lang))


@evidence_app.command("validate")
def validate_cmd(path: Annotated[Path | None, typer.Argument(help="A record file or folder (default: shipped base).")] = None,
                 as_json: JsonOpt = False, lang: LangOpt = None) -> None:
    """Validate record YAML; exit 2 naming file, record, field and reason. / 校验记录。"""
    from kbone.evidence.loader import validate_path

    lang = norm_lang(lang)
    records, problems = validate_path(path)
    if problems:
        raise KboneInputError(problems)
    if as_json:
        emit_json({"valid": True, "records": len(records)})
        return
    console.print(pick(f"[green]OK[/]: {len(records)} records valid", f"[green]通过[/]：{len(records)} 条记录有效", lang))


@evidence_app.command("summary")
def summary_cmd(as_json: JsonOpt = False, lang: LangOpt = None) -> None:
    """Counts by form, outcome, design and integrity. / 证据库概况。"""
    from kbone.store import counts, ensure_store

    lang = norm_lang(lang)
    ensure_store()
    data = {k: counts(k) for k in ("form", "outcome", "design", "integrity")}
    data["records"] = sum(data["design"].values())
    if as_json:
        emit_json(data)
        return
    v = vocab()
    console.print(pick(f"[bold]kbone evidence base: {data['records']} records[/]",
                       f"[bold]kbone 证据库：{data['records']} 条记录[/]", lang))
    kinds = {"form": "form", "outcome": "outcome", "design": "design"}
    for key, (en, zh) in {"form": ("By vitamin K form", "按维生素K形式"), "outcome": ("By outcome", "按结局"),
                          "design": ("By design", "按研究设计"), "integrity": ("By integrity", "按诚信状态")}.items():
        t = Table(title=pick(en, zh, lang))
        t.add_column(pick("value", "类别", lang))
        t.add_column(pick("records", "记录数", lang), justify="right")
        for val, n in data[key].items():
            label = v.label(kinds[key], val, lang) if key in kinds else render.integrity_label(val, lang)
            t.add_row(label, str(n))
        console.print(t)
