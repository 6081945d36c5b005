"""The SQL store of the evidence base: built from the YAML (the source of truth), queried by every face.

SQLite by default (``$KBONE_HOME/evidence.sqlite``), PostgreSQL when ``KBONE_DATABASE_URL`` says so.
The store remembers the content hash of the YAML it was built from and is rebuilt when the YAML changes.
It is never rebuilt from invalid data: if the YAML does not validate, the previous good store stays in use
(with a warning) and ``kbone evidence validate`` names the problems.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

from sqlalchemy import (
    Column,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    insert,
    select,
)

from kbone.errors import KboneInputError, Problem
from kbone.evidence.loader import content_hash, validate_path, yaml_files
from kbone.evidence.schema import Record
from kbone.paths import state_dir
from kbone.vocab import vocab

SCHEMA_VERSION = "1"
metadata = MetaData()

ev_meta = Table("ev_meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text))
ev_records = Table(
    "ev_records", metadata,
    Column("id", String(64), primary_key=True),
    Column("design", String(32), index=True),
    Column("year", Integer),
    Column("integrity", String(32), index=True),
    Column("country", String(64)),
    Column("region", String(16)),
    Column("n_total", Integer),
    Column("duration_weeks", Float),
    Column("short", String(128)),
    Column("citation", Text),
    Column("population", Text),
    Column("search_text", Text),
    Column("json", Text, nullable=False),
)
ev_record_forms = Table("ev_record_forms", metadata,
                        Column("record_id", String(64), ForeignKey("ev_records.id", ondelete="CASCADE"), index=True),
                        Column("form", String(16), index=True))
ev_record_outcomes = Table("ev_record_outcomes", metadata,
                           Column("record_id", String(64), ForeignKey("ev_records.id", ondelete="CASCADE"), index=True),
                           Column("outcome", String(48), index=True))


class StoreWarning(UserWarning):
    """The YAML is invalid; queries are answered from the previous good store."""


def database_url() -> str:
    """The configured database: ``KBONE_DATABASE_URL`` or the embedded SQLite file."""
    return os.environ.get("KBONE_DATABASE_URL") or f"sqlite:///{state_dir() / 'evidence.sqlite'}"


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_path(url: str) -> Path:
    return Path(url.split("sqlite:///", 1)[1])


def _search_text(r: Record) -> str:
    v = vocab()
    parts = [r.id, r.citation.text(), r.notes or "", r.provenance]
    if r.population:
        parts.append(r.population.description)
        parts += [v.get("population", t).en + " " + v.get("population", t).zh for t in r.population.terms]
    for f in r.forms:
        t = v.get("form", f)
        parts.append(" ".join((t.en, t.zh, *t.synonyms)))
    for o in r.outcome_ids:
        t = v.get("outcome", o)
        parts.append(" ".join((t.en, t.zh)))
    for c in r.country:
        t = v.get("country", c)
        parts.append(f"{t.en} {t.zh}")
    parts += [o.result or "" for o in r.outcomes]
    parts += [m.text for m in r.seed_mentions]
    parts += [d.seed_says + " " + d.source_says for d in r.seed_discrepancies]
    parts += [e.reason for e in r.integrity.events]
    return " \n".join(parts).lower()


def _rows(records: list[Record]):
    for r in records:
        yield {
            "id": r.id, "design": r.design, "year": r.year, "integrity": r.integrity.status,
            "country": ",".join(r.country), "region": r.region, "n_total": r.n_total,
            "duration_weeks": r.duration_weeks, "short": r.citation.short(), "citation": r.citation.text(),
            "population": r.population.description if r.population else None,
            "search_text": _search_text(r), "json": r.model_dump_json(exclude_none=True),
        }


def _fill(conn, records: list[Record], digest: str) -> None:
    conn.execute(insert(ev_records), list(_rows(records)))
    forms = [{"record_id": r.id, "form": f} for r in records for f in r.forms]
    if forms:
        conn.execute(insert(ev_record_forms), forms)
    outs = [{"record_id": r.id, "outcome": o} for r in records for o in r.outcome_ids]
    if outs:
        conn.execute(insert(ev_record_outcomes), outs)
    conn.execute(insert(ev_meta), [{"key": "yaml_sha256", "value": digest},
                                   {"key": "schema_version", "value": SCHEMA_VERSION},
                                   {"key": "n_records", "value": str(len(records))}])


def _stored_digest(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            rows = dict(conn.execute(select(ev_meta.c.key, ev_meta.c.value)).all())
    except Exception:  # no store yet, or an old layout
        return None
    if rows.get("schema_version") != SCHEMA_VERSION:
        return None
    return rows.get("yaml_sha256")


def build(records: list[Record], digest: str, url: str | None = None) -> Engine:
    """(Re)build the store from validated records, atomically."""
    url = url or database_url()
    if _is_sqlite(url):
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".evidence.", suffix=".sqlite", dir=str(target.parent))
        os.close(fd)
        try:
            eng = create_engine(f"sqlite:///{tmp}")
            metadata.create_all(eng)
            with eng.begin() as conn:
                _fill(conn, records, digest)
            eng.dispose()
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; the store holds only public evidence
            os.replace(tmp, target)  # readers see the old file or the new one, never half of one
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return create_engine(url)
    eng = create_engine(url)
    metadata.create_all(eng)
    with eng.begin() as conn:  # one transaction: all or nothing
        for t in (ev_record_forms, ev_record_outcomes, ev_records, ev_meta):
            conn.execute(delete(t))
        _fill(conn, records, digest)
    return eng


_ENGINES: dict[str, Engine] = {}


def ensure_store(path: str | Path | None = None) -> Engine:
    """An engine on a store that matches the YAML; rebuild when the YAML changed and is valid."""
    url = database_url()
    files = yaml_files(path)
    digest = content_hash(files)
    eng = _ENGINES.get(url) or create_engine(url)
    _ENGINES[url] = eng
    current = _stored_digest(eng)
    if current == digest:
        return eng
    records, problems = validate_path(path)
    if problems:
        if current is not None:
            warnings.warn(f"evidence YAML has {len(problems)} problem(s); using the previous good store "
                          "(run 'kbone evidence validate')", StoreWarning, stacklevel=2)
            return eng
        raise KboneInputError(problems)
    eng.dispose()
    eng = build(records, digest, url)
    _ENGINES[url] = eng
    return eng


def query_ids(*, form: str | None = None, outcome: str | None = None, design: str | None = None,
              integrity: str | None = None, text: str | None = None) -> list[str]:
    """Record ids matching every given filter (vocabulary ids; ``text`` matches all its words)."""
    eng = ensure_store()
    q = select(ev_records.c.id)
    if form:
        forms = [form]
        parent = vocab().get("form", form).get("parent_of")
        if parent:
            forms += list(parent)
        q = q.where(ev_records.c.id.in_(select(ev_record_forms.c.record_id).where(ev_record_forms.c.form.in_(forms))))
    if outcome:
        q = q.where(ev_records.c.id.in_(select(ev_record_outcomes.c.record_id)
                                        .where(ev_record_outcomes.c.outcome == outcome)))
    if design:
        q = q.where(ev_records.c.design == design)
    if integrity:
        q = q.where(ev_records.c.integrity == integrity)
    if text:
        for word in text.lower().split():
            q = q.where(ev_records.c.search_text.contains(word))
    q = q.order_by(ev_records.c.year, ev_records.c.id)
    with eng.connect() as conn:
        return [r[0] for r in conn.execute(q)]


def fetch(ids: list[str]) -> list[Record]:
    """Records by id, from the store, in the order given."""
    eng = ensure_store()
    with eng.connect() as conn:
        rows = dict(conn.execute(select(ev_records.c.id, ev_records.c.json).where(ev_records.c.id.in_(ids))).all())
    return [Record.model_validate(json.loads(rows[i])) for i in ids if i in rows]


def counts(column: str) -> dict[str, int]:
    """Number of records per value of ``column`` (design, integrity, form, outcome, region)."""
    eng = ensure_store()
    if column == "form":
        col, table = ev_record_forms.c.form, ev_record_forms
    elif column == "outcome":
        col, table = ev_record_outcomes.c.outcome, ev_record_outcomes
    elif column in ("design", "integrity", "region"):
        col, table = ev_records.c[column], ev_records
    else:
        raise KboneInputError(Problem(field="column", reason=f"cannot count by {column!r}"))
    with eng.connect() as conn:
        rows = conn.execute(select(col, func.count()).select_from(table).group_by(col).order_by(func.count().desc()))
        return {str(k): int(n) for k, n in rows}
