"""``kbone check FILE|-`` (articles) and ``kbone ingest FILE|-`` (scientific text: repairs and linked studies)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kbone.claims.decode import MAX_BYTES
from kbone.errors import KboneInputError, Problem
from kbone.i18n import norm_lang
from kbone.output import atomic_write, console, emit_json

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="zh or en (default: KBONE_LANG or locale).")]
FileArg = Annotated[str, typer.Argument(metavar="FILE|-", help="A text file, or - for standard input.")]
HtmlOpt = Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML report to this file.")]


def register(app: typer.Typer) -> None:
    """Add ``check`` and ``ingest`` to the root kbone app."""
    app.command("check")(check_cmd)
    app.command("ingest")(ingest_cmd)


def read_input(file: str) -> tuple[bytes, str]:
    """Bytes of ``file`` (``-`` = standard input), refusing anything over the size limit before reading it."""
    if file == "-":
        stream = getattr(sys.stdin, "buffer", None)
        raw = stream.read(MAX_BYTES + 1) if stream is not None else sys.stdin.read(MAX_BYTES + 1).encode("utf-8")
        return raw, "<stdin>"
    p = Path(file)
    if not p.exists():
        raise KboneInputError(Problem(field="FILE", reason=f"{file} does not exist",
                                      fix="give the path of a text file, or - to read standard input"))
    if p.is_dir():
        raise KboneInputError(Problem(field="FILE", reason=f"{file} is a folder, not a file", fix="give one text file"))
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise KboneInputError(Problem(field="FILE", reason=f"{file} is {size / 1024 / 1024:.1f} MB; the limit is 5 MB",
                                      fix="split the text into articles of at most 5 MB"))
    try:
        return p.read_bytes(), str(p)
    except OSError as e:
        raise KboneInputError(Problem(field="FILE", reason=f"cannot read {file}: {e.strerror}",
                                      fix="check the file's permissions")) from None


def _run(file: str, as_json: bool, html: Path | None, lang: str | None, ocr: bool | None, ingest: bool) -> None:
    lang = norm_lang(lang)
    if html is not None and not html.parent.exists():
        raise KboneInputError(Problem(field="--html", reason=f"folder {html.parent} does not exist",
                                      fix="create the folder or choose another path"))
    from kbone.claims.check import check_bytes
    from kbone.claims.report import render_html, render_text, report_json

    raw, source = read_input(file)
    rep = check_bytes(raw, lang=lang, source=source, ocr=ocr)
    if html is not None:
        from kbone.claims.decode import decode_bytes

        original = decode_bytes(raw, name=source).text
        atomic_write(html, render_html(rep, original, lang))
    if as_json:
        emit_json(report_json(rep, ingest=ingest))
        return
    if ingest:
        console.print(rep.clean_text, markup=False, highlight=False)
        console.print()
    render_text(rep, lang, console, ingest=ingest)
    if html is not None:
        console.print(("HTML report: " if lang == "en" else "HTML 报告：") + str(html))


def check_cmd(file: FileArg, as_json: JsonOpt = False, html: HtmlOpt = None, lang: LangOpt = None,
              ocr: Annotated[bool | None, typer.Option("--ocr/--no-ocr", help="Force OCR repair on or off (default: when the text shows OCR damage).")] = None) -> None:
    """Check a health article's claims against the evidence. / 核查健康文章中的说法。"""
    _run(file, as_json, html, lang, ocr, ingest=False)


def ingest_cmd(file: FileArg, as_json: JsonOpt = False, html: HtmlOpt = None, lang: LangOpt = None) -> None:
    """Read scientific text: repair OCR damage, link named studies to records. / 读入科学文献：修复OCR错误并关联研究记录。"""
    _run(file, as_json, html, lang, True, ingest=True)
