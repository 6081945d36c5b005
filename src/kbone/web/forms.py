"""HTML form fields → the library's input mappings, and uploaded files → text.

Nothing here validates medicine: values are passed on as typed (numbers converted when they look like
numbers) and the library (:func:`kbone.assess.profile.parse_profile`) names every bad field. Uploaded files
are never written to disk; their names are reduced to a bare, printable base name for display only.
"""

from __future__ import annotations

import json
import re
import unicodedata

from starlette.datastructures import FormData, UploadFile

from kbone.errors import KboneInputError, Problem

N_MEDICINES = 4
N_SUPPLEMENTS = 3
N_FOODS = 6
T_SITES = ("lumbar_spine", "femoral_neck", "total_hip")
RISK_FLAGS = ("current_smoker", "alcohol_3_or_more_units_per_day", "parental_hip_fracture")
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-|–|~|～|to|至|到)\s*(\d+(?:\.\d+)?)\s*$")


def _s(form: FormData, key: str) -> str:
    v = form.get(key)
    return v.strip() if isinstance(v, str) else ""


def _num(text: str):
    """A number when the text is one (full-width digits accepted), else the text for the library to reject."""
    t = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    if _NUM.match(t):
        f = float(t)
        return int(f) if f.is_integer() and "." not in t else f
    return text


def _put(d: dict, key: str, value) -> None:
    if value not in ("", None, [], {}):
        d[key] = value


def _rows(form, prefix: str, n: int):
    """(index, {"name", "dose"}) for each filled row ``{prefix}_name_i`` / ``{prefix}_dose_i`` of a repeated fieldset."""
    for i in range(n):
        name = _s(form, f"{prefix}_name_{i}")
        if name:
            row: dict = {"name": name}
            _put(row, "dose", _s(form, f"{prefix}_dose_{i}"))
            yield i, row


def profile_from_form(form: FormData) -> dict:
    """The assessment form's fields as a profile mapping (see ``kbone assess --schema``)."""
    p: dict = {}
    _put(p, "id", _s(form, "label"))
    _put(p, "age", _num(_s(form, "age")) if _s(form, "age") else None)
    _put(p, "sex", _s(form, "sex"))
    _put(p, "weight", _num(_s(form, "weight")) if _s(form, "weight") else None)
    _put(p, "height", _num(_s(form, "height")) if _s(form, "height") else None)
    meno = _s(form, "menopause")
    if meno:
        m: dict = {"status": meno}
        _put(m, "years_since", _num(_s(form, "menopause_years")) if _s(form, "menopause_years") else None)
        p["menopause"] = m
    conds = [c for c in form.getlist("conditions") if isinstance(c, str) and c.strip()]
    conds += [c.strip() for c in re.split(r"[,，;；、\n]", _s(form, "conditions_other")) if c.strip()]
    _put(p, "conditions", list(dict.fromkeys(conds)))
    meds = []
    for i, med in _rows(form, "med", N_MEDICINES):
        inr = _s(form, f"med_inr_{i}")
        if inr:
            r = _RANGE.match(unicodedata.normalize("NFKC", inr))
            med["inr_target"] = [float(r.group(1)), float(r.group(2))] if r else _num(inr)
        if form.get(f"med_other_{i}"):
            med["other"] = True
        meds.append(med)
    _put(p, "medicines", meds)
    supps = [sup for _i, sup in _rows(form, "supp", N_SUPPLEMENTS)]
    _put(p, "supplements", supps)
    labs: dict = {}
    t_scores = {site: _num(_s(form, f"t_{site}")) for site in T_SITES if _s(form, f"t_{site}")}
    _put(labs, "t_scores", t_scores)
    for key in ("ucoc", "inr", "egfr"):
        if _s(form, key):
            labs[key] = _num(_s(form, key))
    if _s(form, "vitamin_d_25oh"):
        labs["vitamin_d_25oh"] = {"value": _num(_s(form, "vitamin_d_25oh")),
                                  "unit": _s(form, "vitamin_d_unit") or "nmol/L"}
    _put(p, "labs", labs)
    diet: dict = {}
    if _s(form, "intake_ug_per_day"):
        diet["intake_ug_per_day"] = _num(_s(form, "intake_ug_per_day"))
    foods = []
    for i in range(N_FOODS):
        name = _s(form, f"food_{i}")
        if not name:
            continue
        item: dict = {"food": name}
        _put(item, "serving", _s(form, f"food_serving_{i}"))
        _put(item, "frequency", _s(form, f"food_freq_{i}"))
        foods.append(item)
    _put(diet, "foods", foods)
    _put(p, "diet", diet)
    rf: dict = {k: True for k in RISK_FLAGS if form.get(k)}
    for k in ("falls_past_year", "fractures_after_50"):
        if _s(form, k):
            rf[k] = _num(_s(form, k))
    _put(p, "risk_factors", rf)
    _put(p, "interests", [x for x in form.getlist("interests") if isinstance(x, str) and x.strip()])
    return p


def safe_filename(name: str | None) -> str:
    """A display name for an uploaded file: base name only (no folders, no ``..``), printable, ≤ 100 chars."""
    raw = unicodedata.normalize("NFKC", name or "")
    base = re.split(r"[\\/]", raw)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    base = base.strip().lstrip(".")
    return base[:100] or "upload"


async def read_upload(upload: UploadFile | None, *, field: str, suffixes: tuple[str, ...],
                      max_bytes: int = 1_000_000) -> tuple[str, str] | None:
    """(safe name, UTF-8 text) of an uploaded file, or None when none was chosen."""
    if upload is None or not isinstance(upload, UploadFile) or not (upload.filename or "").strip():
        return None
    name = safe_filename(upload.filename)
    data = await upload.read(max_bytes + 1)
    if not data:
        return None
    if len(data) > max_bytes:
        raise KboneInputError(Problem(field=field, reason="file larger than 1 MB", fix="upload a smaller file"))
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if suffix not in suffixes:
        raise KboneInputError(Problem(field=field, reason=f"{name}: not a {' / '.join(suffixes)} file",
                                      fix=f"upload a {' or '.join(suffixes)} file"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KboneInputError(Problem(field=field, reason=f"{name} is not UTF-8 text", fix="save it as UTF-8")) from None
    return name, text


def profile_from_upload(name: str, text: str) -> dict:
    """A profile mapping from an uploaded YAML or JSON file (validated later by the library)."""
    import yaml

    try:
        data = json.loads(text) if name.lower().endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        mark = getattr(e, "problem_mark", None)
        raise KboneInputError(Problem(field="profile file", file=name,
                                      line=(mark.line + 1) if mark is not None else getattr(e, "lineno", None),
                                      reason="cannot parse the file", fix="fix the YAML/JSON syntax")) from None
    if not isinstance(data, dict):
        raise KboneInputError(Problem(field="profile file", file=name, reason="a profile must be a mapping",
                                      fix="age:, sex:, weight: … (see kbone assess --schema)"))
    if "diet" in data and isinstance(data["diet"], dict) and data["diet"].get("diary"):
        raise KboneInputError(Problem(field="diet.diary", file=name,
                                      reason="a diary file cannot be read from an uploaded profile",
                                      fix="list the foods under diet.foods, or give intake_ug_per_day"))
    return data
