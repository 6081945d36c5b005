"""Load and validate evidence records from YAML (one file per record, named ``<id>.yaml``).

``load_records()`` returns validated :class:`~kbone.evidence.schema.Record` objects or raises
:class:`~kbone.errors.KboneInputError` listing every problem (file, record, field, reason). It never lets a
YAML or validation traceback reach the user.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from kbone.errors import KboneInputError, Problem
from kbone.evidence.schema import Record
from kbone.paths import data_path

EVIDENCE_DIR = data_path("evidence")


def yaml_files(path: str | Path | None = None) -> list[Path]:
    """The record files under ``path`` (a folder or one file); default: the shipped evidence base."""
    p = Path(path) if path else EVIDENCE_DIR
    if p.is_file():
        return [p]
    if not p.exists():
        raise KboneInputError(Problem(field="path", reason=f"{p} does not exist",
                                      fix="give a YAML file or a folder of record YAML files"))
    return sorted(x for x in p.glob("*.yaml") if not x.name.startswith("_"))


_FILE_DIGESTS: dict[tuple[str, int, int], bytes] = {}


def content_hash(files: list[Path]) -> str:
    """SHA-256 over file names and contents: changes whenever any record changes.

    Each file's own digest is remembered by (path, size, modification time in ns), so asking again reads
    only the files that changed (assessments and web requests ask often)."""
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        key = (str(f), st.st_size, st.st_mtime_ns)
        d = _FILE_DIGESTS.get(key)
        if d is None:
            d = hashlib.sha256(f.read_bytes()).digest()
            if len(_FILE_DIGESTS) > 10_000:
                _FILE_DIGESTS.clear()
            _FILE_DIGESTS[key] = d
        h.update(f.name.encode())
        h.update(b"\0")
        h.update(d)
    return h.hexdigest()


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out or "record"


def parse_file(path: Path) -> tuple[Record | None, list[Problem]]:
    """Parse one record file; return the record or the problems found in it."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        return None, [Problem(file=name, field="file", reason=f"not UTF-8 text ({e.reason} at byte {e.start})",
                              fix="save the file as UTF-8")]
    except OSError as e:
        return None, [Problem(file=name, field="file", reason=f"cannot read: {e.strerror}")]
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(e, "problem", None) or "malformed YAML"
        return None, [Problem(file=name, line=line, field="yaml", reason=f"YAML syntax error: {reason}",
                              fix="fix the YAML syntax (indentation, quotes, colons)")]
    except (ValueError, TypeError, RecursionError) as e:  # e.g. absurd nesting
        return None, [Problem(file=name, field="yaml", reason=f"unreadable YAML: {type(e).__name__}")]
    if not isinstance(doc, dict):
        return None, [Problem(file=name, field="record", reason="a record file must hold one mapping (id:, citation:, …)",
                              fix="start the file with 'id: <record id>'")]
    rid = doc.get("id") if isinstance(doc.get("id"), str) else None
    try:
        rec = Record.model_validate(doc)
    except ValidationError as e:
        probs = []
        for err in e.errors(include_url=False):
            msg = err["msg"].removeprefix("Value error, ")
            probs.append(Problem(file=name, record=rid, field=_field_path(err["loc"]), reason=msg,
                                 fix=_fix_hint(err)))
        return None, probs
    except (ValueError, TypeError, RecursionError) as e:
        return None, [Problem(file=name, record=rid, field="record", reason=str(e) or type(e).__name__)]
    if rec.id != path.stem:
        return None, [Problem(file=name, record=rec.id, field="id",
                              reason=f"record id {rec.id!r} differs from the file name {path.stem!r}",
                              fix=f"rename the file to {rec.id}.yaml or change the id")]
    return rec, []


def _fix_hint(err: dict) -> str | None:
    t = err.get("type", "")
    if t == "missing":
        return "add this field"
    if t == "extra_forbidden":
        return "remove or rename this field (see kbone/evidence/schema.py for the allowed fields)"
    if t.startswith("greater_than") or t.startswith("int_") or t == "int_parsing":
        return "give a positive whole number" if "int" in t or "greater" in t else None
    if t == "literal_error":
        return "use one of the allowed values"
    return None


def validate_path(path: str | Path | None = None) -> tuple[list[Record], list[Problem]]:
    """Validate every record file under ``path``; cross-check ids and references between records."""
    files = yaml_files(path)
    records: list[Record] = []
    problems: list[Problem] = []
    for f in files:
        rec, probs = parse_file(f)
        problems.extend(probs)
        if rec is not None:
            records.append(rec)
    ids = {}
    for r in records:
        if r.id in ids:
            problems.append(Problem(record=r.id, field="id", reason=f"duplicate id (also in {ids[r.id]})"))
        ids[r.id] = r.id
    known = set(ids)
    full_base = path is None or Path(path).resolve() == EVIDENCE_DIR.resolve()
    if full_base:
        for r in records:
            for sid in r.included_studies:
                if sid not in known:
                    problems.append(Problem(record=r.id, field="included_studies",
                                            reason=f"names record {sid!r}, which is not in the evidence base",
                                            fix="add that record, or move the study to included_other"))
    return records, problems


@lru_cache(maxsize=4)
def _load_cached(dir_key: str, digest: str) -> tuple[Record, ...]:
    records, problems = validate_path(dir_key or None)
    if problems:
        raise KboneInputError(problems)
    return tuple(records)


def load_records(path: str | Path | None = None) -> list[Record]:
    """All records, validated (cached until a file changes)."""
    files = yaml_files(path)
    return list(_load_cached(str(path) if path else "", content_hash(files)))


def records_by_id(path: str | Path | None = None) -> dict[str, Record]:
    return {r.id: r for r in load_records(path)}


def get_record(record_id: str) -> Record:
    """One record by id; unknown ids raise with the closest ids as suggestions."""
    by_id = records_by_id()
    if record_id in by_id:
        return by_id[record_id]
    from rapidfuzz import process

    sugg = [m[0] for m in process.extract(record_id, list(by_id), limit=3)]
    raise KboneInputError(Problem(field="id", reason=f"no record {record_id!r}", suggestions=sugg,
                                  fix="list ids with 'kbone evidence list'"))
