"""Render a claims :class:`~kbone.claims.models.Report`: readable text (zh/en), JSON, self-contained HTML.

The HTML page shows the original text with every claim highlighted by its verdict (colour and a
superscript link to its row), then the claims with reasons and records, the safety alerts first, and the
repairs made to the text. Templates live in ``kbone/claims/templates`` (Jinja2, autoescaped).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kbone.claims.evidence import evidence_base
from kbone.claims.models import VERDICT_LABELS, VERDICTS, Report
from kbone.i18n import pick

VERDICT_STYLE = {"supported": "green", "partly_supported": "yellow", "unsupported": "red",
                 "contradicted": "bold red", "not_checkable": "dim"}
KIND_LABELS = {"effect": ("effect", "效果"), "association": ("association", "关联"), "study": ("study", "研究"),
               "reference": ("reference", "参考文献"), "safety": ("safety", "安全"), "dose": ("dose", "剂量"),
               "pk": ("pharmacokinetics", "药代动力学"), "mechanism": ("mechanism", "机制"), "general": ("general", "一般")}


def verdict_label(v: str, lang: str) -> str:
    en, zh = VERDICT_LABELS.get(v, (v, v))
    return pick(en, zh, lang)


def report_json(rep: Report, *, ingest: bool = False) -> dict:
    """The JSON document: ``claims`` (each with text, start, end, verdict, reason, records …) and context."""
    d = rep.model_dump(mode="json")
    if not ingest:
        d.pop("clean_text", None)
    d["claims"] = [_claim_json(c) for c in rep.claims]
    d["records"] = _records_used(rep)
    return d


def _claim_json(c) -> dict:
    d = c.model_dump(mode="json", exclude={"clean"})
    d["clean_text"] = c.clean
    return d


def _records_used(rep: Report) -> dict[str, dict]:
    eb = evidence_base()
    out = {}
    for c in rep.claims:
        for rid in c.records:
            r = eb.by_id.get(rid)
            if r is not None and rid not in out:
                out[rid] = {"citation": r.citation.text(), "design": r.design, "integrity": r.integrity.status,
                            "doi": r.citation.doi, "pmid": r.citation.pmid, "url": r.citation.url}
    return out


def _repair_summary(rep: Report) -> Counter:
    return Counter(r.rule for r in rep.repairs)


def render_text(rep: Report, lang: str, console: Console, *, ingest: bool = False, limit_repairs: int = 60) -> None:
    """Readable output: alerts first, then the verdict counts, the claims and the repairs."""
    head = Text()
    head.append(pick("kbone check — claims and evidence", "kbone 核查——说法与证据", lang), style="bold")
    head.append(f"\n{rep.source} · {rep.encoding} · {rep.chars} " + pick("characters", "字符", lang))
    head.append(f" · {rep.sentences} " + pick("sentences", "句", lang) + f" · {len(rep.claims)} " + pick("claims", "条说法", lang))
    if rep.ocr:
        head.append(" · " + pick("OCR repaired", "已修复OCR错误", lang))
    console.print(Panel(head))
    for a in rep.alerts:
        console.print(Panel(Text(a, style="bold"), title=pick("Safety", "安全提示", lang), border_style="red"))
    counts = " · ".join(f"{verdict_label(v, lang)} {rep.summary.get(v, 0)}" for v in VERDICTS)
    console.print(counts)
    for n in rep.notes:
        console.print(Text(n, style="dim"))
    ordered = sorted(rep.claims, key=lambda c: (not c.alert, c.start))
    if ingest:
        _studies_table(rep, lang, console)
    t = Table(show_lines=True, expand=True)
    for h in (("#", "#"), ("verdict", "结论"), ("claim", "原文"), ("reason", "理由"), ("records", "记录")):
        t.add_column(pick(*h, lang), overflow="fold")
    for c in ordered:
        kind = pick(*KIND_LABELS.get(c.kind, (c.kind, c.kind)), lang)
        verdict = Text(verdict_label(c.verdict, lang), style=VERDICT_STYLE.get(c.verdict, ""))
        verdict.append(f"\n{kind}", style="dim")
        if c.grade:
            verdict.append("\nGRADE: " + c.grade, style="dim")
        t.add_row(c.id, verdict, Text(" ".join(c.text.split())), Text(c.reason), Text(", ".join(c.records) or "—"))
    console.print(t)
    summary = _repair_summary(rep)
    if summary:
        console.print(pick("Repairs to the text: ", "文本修复：", lang) +
                      ", ".join(f"{k} ×{v}" for k, v in sorted(summary.items())) +
                      (pick(f" (+{rep.layout_changes} layout changes)", f"（另有{rep.layout_changes}处排版调整）", lang)
                       if rep.layout_changes else ""))
        shown = [r for r in rep.repairs if r.rule != "width"][:limit_repairs if not ingest else None]
        if shown:
            rt = Table(title=pick("Repairs", "修复明细", lang))
            for h in (("position", "位置"), ("before", "原文"), ("after", "修复后"), ("rule", "规则")):
                rt.add_column(pick(*h, lang))
            for r in shown:
                rt.add_row(f"{r.start}–{r.end}", Text(repr(r.before[:60])), Text(repr(r.after)), r.rule)
            console.print(rt)


def _studies_table(rep: Report, lang: str, console: Console) -> None:
    studies = [c for c in rep.claims if c.kind == "study" and c.study is not None]
    if not studies:
        return
    t = Table(title=pick("Studies named in the text", "文中提及的研究", lang))
    for h in (("mention", "提及"), ("record", "记录"), ("how", "识别方式"), ("verdict", "结论")):
        t.add_column(pick(*h, lang), overflow="fold")
    for c in studies:
        s = c.study
        who = s.author or (f"{s.country or ''} {s.year or ''} guideline" if s.kind == "guideline" else s.kind)
        t.add_row(Text(who), s.record or "—", s.match or "—", Text(verdict_label(c.verdict, lang), style=VERDICT_STYLE[c.verdict]))
    console.print(t)


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=PackageLoader("kbone.claims", "templates"), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def _segments(rep: Report, original: str) -> list[dict]:
    """The original text cut into plain pieces and claim pieces (claims do not overlap)."""
    out, pos = [], 0
    for c in sorted(rep.claims, key=lambda c: c.start):
        if c.start < pos:
            continue
        if c.start > pos:
            out.append({"text": original[pos:c.start]})
        out.append({"text": original[c.start:c.end], "claim": c})
        pos = c.end
    if pos < len(original):
        out.append({"text": original[pos:]})
    return out


def render_html(rep: Report, original: str, lang: str, *, title: str | None = None) -> str:
    """A self-contained HTML page (inline CSS, no scripts or external files)."""
    ordered = sorted(rep.claims, key=lambda c: (not c.alert, c.start))
    return _env().get_template("report.html.j2").render(
        rep=rep, lang=lang, segments=_segments(rep, original), claims=ordered, records=_records_used(rep),
        verdicts=VERDICTS, verdict_label=lambda v: verdict_label(v, lang),
        kind_label=lambda k: pick(*KIND_LABELS.get(k, (k, k)), lang), t=lambda en, zh: pick(en, zh, lang),
        repairs=[r for r in rep.repairs if r.rule != "width"], repair_counts=sorted(_repair_summary(rep).items()),
        title=title or rep.source)
