"""The claims pipeline: text → normalised text → claims → verdicts, as one :class:`Report`.

``check_text(text)`` for an article already decoded, ``check_bytes(raw)`` for file contents (encoding
detection and input errors included). ``ingest`` is the same analysis with OCR repair forced on, for
scientific text. Safety claims (anticoagulants) are listed first in ``alerts``.
"""

from __future__ import annotations

from collections import Counter

from kbone.claims.decode import decode_bytes
from kbone.claims.evidence import evidence_base
from kbone.claims.extract import extract
from kbone.claims.models import VERDICTS, Report
from kbone.claims.normalize import normalize
from kbone.claims.rules import messages
from kbone.claims.verify import verify_claim
from kbone.i18n import norm_lang


def check_text(text: str, *, lang: str | None = "en", source: str = "<text>", encoding: str = "utf-8",
               ocr: bool | None = None) -> Report:
    """Check every claim in ``text``. ``ocr=None`` repairs OCR damage only where the text shows it."""
    lang = norm_lang(lang)
    norm = normalize(text, ocr=ocr)
    ex = extract(norm)
    eb = evidence_base()
    context: dict = {"doc_groups": ex.doc_groups, "doc_forms": ex.doc_forms}
    for c in ex.claims:
        c.apply(verify_claim(c, eb, context=context), lang)
    counts = Counter(c.verdict for c in ex.claims)
    alerts = []
    if any(c.alert or c.kind == "dose" for c in ex.claims):
        m = messages()["alert_anticoagulant"]
        alerts.append(m["zh"] if lang == "zh" else m["en"])
    notes = []
    if norm.ocr:
        n_rep = sum(1 for r in norm.repairs if r.rule.startswith("ocr"))
        notes.append(f"OCR repair applied ({n_rep} repairs; {norm.ocr_signals} damage signals)")
    if norm.converted_traditional:
        notes.append("traditional characters converted to simplified (OpenCC t2s)")
    return Report(source=source, encoding=encoding, chars=len(text), lang=lang, ocr=norm.ocr,
                  converted_traditional=norm.converted_traditional, clean_text=norm.text, repairs=norm.repairs,
                  layout_changes=norm.layout_changes, sentences=len(ex.sentences), claims=ex.claims,
                  studies=list(ex.studies), references=ex.references,
                  summary={v: counts.get(v, 0) for v in VERDICTS}, alerts=alerts, notes=notes)


def check_bytes(raw: bytes, *, lang: str | None = "en", source: str = "<stdin>", ocr: bool | None = None) -> Report:
    """Decode ``raw`` (UTF-8, or GB18030/Big5 with the encoding named) and check it."""
    d = decode_bytes(raw, name=source)
    rep = check_text(d.text, lang=lang, source=source, encoding=d.encoding, ocr=ocr)
    if d.note:
        rep.notes.insert(0, d.note)
    return rep
