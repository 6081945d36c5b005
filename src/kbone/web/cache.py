"""In-memory caches keyed on the evidence base's content hash.

The evidence base changes only when its YAML changes, so the rendered table of a filter, the body of a
record page, meta-analyses and the trial model fit are kept (keyed on the YAML's content hash, the inputs
and the language); so are recent assessment reports (bucket ``assess``: same profile, same day, same
evidence → same report) and renderings of saved reports (bucket ``report``, looked up only after the owner
check); nothing of them is logged or written. The hash is re-read at most once a second;
when it changes, every cache is dropped. Other shipped data (rules, drugs, model parameters) change only
with a new kbone version, i.e. with a server restart.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from markupsafe import Markup

from kbone.i18n import pick

MAX_ENTRIES = {"evidence": 512, "assess": 128, "report": 64}
RECHECK_SECONDS = 1.0

_lock = threading.Lock()
_buckets: dict[str, OrderedDict[tuple, object]] = {b: OrderedDict() for b in MAX_ENTRIES}
_digest: str | None = None
_checked_at = 0.0


def _current_digest() -> str:
    global _digest, _checked_at
    now = time.monotonic()
    if _digest is None or now - _checked_at > RECHECK_SECONDS:
        from kbone.evidence.loader import content_hash, yaml_files

        d = content_hash(yaml_files(None))
        with _lock:
            if d != _digest:
                for b in _buckets.values():
                    b.clear()
            _digest, _checked_at = d, now
    return _digest


def cached(key: tuple, build, bucket: str = "evidence"):
    """The value for ``key`` under the current evidence digest, built once by ``build()``.

    Buckets are LRU-bounded separately (``MAX_ENTRIES``); cached values are shared, never modified."""
    full = (_current_digest(), *key)
    entries = _buckets[bucket]
    with _lock:
        if full in entries:
            entries.move_to_end(full)
            return entries[full]
    value = build()
    with _lock:
        entries[full] = value
        while len(entries) > MAX_ENTRIES[bucket]:
            entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        for b in _buckets.values():
            b.clear()


def _fragment(name: str, lang: str, **ctx) -> Markup:
    from kbone.web.pages import templates

    tpl = templates.env.get_template(name)
    return Markup(tpl.render(lang=lang, t=lambda en, zh: pick(en, zh, lang), **ctx))


def evidence_list_html(filters: dict, lang: str) -> Markup:
    """The results table for the evidence browser's filters (vocabulary ids)."""

    def build():
        from kbone.evidence.render import integrity_label
        from kbone.store import fetch, query_ids
        from kbone.vocab import vocab

        recs = fetch(query_ids(**filters))
        return _fragment("_evidence_table.html", lang, records=recs, vocab=vocab(), integrity_label=integrity_label)

    return cached(("list", tuple(sorted(filters.items())), lang), build)


def record_html(record_id: str, lang: str) -> Markup | None:
    """The body of one record's page, or None when there is no such record."""

    def build():
        from kbone.evidence.render import integrity_label
        from kbone.store import fetch
        from kbone.vocab import vocab

        recs = fetch([record_id])
        if not recs:
            return None
        return _fragment("_record.html", lang, rec=recs[0], vocab=vocab(), integrity_label=integrity_label)

    return cached(("record", record_id, lang), build)


def record_title(record_id: str) -> str:
    def build():
        from kbone.store import fetch

        recs = fetch([record_id])
        return recs[0].citation.short() if recs else record_id

    return cached(("title", record_id), build)


def evidence_filters_html(selected: dict, lang: str) -> Markup:
    """The evidence browser's filter form (every vocabulary term as an option) with ``selected`` chosen."""

    def build():
        from kbone.vocab import vocab

        return _fragment("_evidence_filters.html", lang, vocab=vocab(), integrity_states=INTEGRITY, **selected)

    return cached(("filters", tuple(sorted(selected.items())), lang), build)


INTEGRITY = ("ok", "flagged", "expression_of_concern", "retracted")
