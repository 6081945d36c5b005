#!/usr/bin/env python3
"""Build kbone's food tables (src/kbone/data/foods/) from the shared food data (../shared/data/foods/).

Inputs (shared, read-only): usda_sr28_vitamin_k.csv, usda_sr28_portions.csv, menaquinones_literature.csv,
food_names_zh.csv. Inputs (hand-curated, in src/kbone/data/foods/): names_zh_extra.csv, name_aliases.csv,
menaquinone_map.yaml, recipes.yaml, portion_units.yaml, reference_intakes.yaml, sources.yaml.

Outputs (committed, so the package works without ../shared):
  sr28_foods.csv      every SR28 food: K1, MK-4, dihydrophylloquinone, fat, energy per 100 g (empty = no value)
  sr28_portions.csv   SR28 household measures (copied)
  menaquinones.csv    literature menaquinone values applied to SR28 foods, one row per value, with source,
                      quality, whether it is the chosen value, and the arithmetic used
  names.csv           Chinese / English names and aliases → SR28 food or recipe, with match quality and origin
  build_info.json     input checksums, counts, literature rows left unused and why

Usage:  python scripts/build_foods.py [--shared DIR] [--out DIR] [--check]
        --check  rebuild into a temporary folder and fail if it differs from the committed tables.
The script is deterministic: running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import hashlib
import io
import json
import re
import sys
import tempfile
import unicodedata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "src" / "kbone" / "data" / "foods"
SHARED_DEFAULT = REPO.parent / "shared" / "data" / "foods"

SR28_COLS = ["ndb_no", "description", "food_group", "phylloquinone_ug_per_100g", "menaquinone4_ug_per_100g",
             "dihydrophylloquinone_ug_per_100g", "fat_g_per_100g", "energy_kcal_per_100g"]
LIT_NUM_COLS = ["mk4", "mk5", "mk6", "mk7", "mk8", "mk9", "mk10", "total_mk", "total_vitamin_k"]
FORMS = ("mk4", "mk7", "mk_other")
QUALITIES = ("primary", "secondary", "approximate")
SR28_FORM_COL = {"k1": "phylloquinone_ug_per_100g", "mk4": "menaquinone4_ug_per_100g"}
CJK = re.compile(r"[\u3400-\u9fff]")


class BuildError(Exception):
    pass


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_csv(path: Path, cols: list[str], rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: r.get(c, "") for c in cols})
    path.write_text(buf.getvalue(), encoding="utf-8")


def norm(text: str) -> str:
    """Matching key for a name: NFKC, lower case, single spaces (same rule as kbone.diet.names)."""
    t = unicodedata.normalize("NFKC", text).lower().strip()
    t = re.sub(r"\s+", " ", t)
    if CJK.search(t):
        t = t.replace(" ", "")
    return t


def split_list(cell: str) -> list[str]:
    return [x.strip() for x in (cell or "").split("|") if x.strip()]


def fnum(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def fmt(x: float) -> str:
    """Stable decimal text for derived values (up to 4 decimals, no trailing zeros)."""
    s = f"{x:.4f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


# ---------------------------------------------------------------------------------------------------------------
def build_sr28(shared: Path) -> tuple[list[dict], list[dict]]:
    foods = read_csv(shared / "usda_sr28_vitamin_k.csv")
    if [c for c in SR28_COLS if c not in foods[0]]:
        raise BuildError("usda_sr28_vitamin_k.csv lacks expected columns")
    seen = set()
    for r in foods:
        if not re.fullmatch(r"\d{5}", r["ndb_no"]):
            raise BuildError(f"bad ndb_no {r['ndb_no']!r}")
        if r["ndb_no"] in seen:
            raise BuildError(f"duplicate ndb_no {r['ndb_no']}")
        seen.add(r["ndb_no"])
        for c in SR28_COLS[3:]:
            v = fnum(r[c])
            if v is not None and v < 0:
                raise BuildError(f"{r['ndb_no']}: negative {c}")
    portions = read_csv(shared / "usda_sr28_portions.csv")
    for p in portions:
        if p["ndb_no"] not in seen:
            raise BuildError(f"portion for unknown food {p['ndb_no']}")
        if float(p["gram_weight"]) <= 0 or float(p["amount"]) <= 0:
            raise BuildError(f"non-positive portion {p}")
    return foods, portions


def build_menaquinones(shared: Path, foods: dict[str, dict], sources: dict) -> tuple[list[dict], list[dict]]:
    lit = {r["food"]: r for r in read_csv(shared / "menaquinones_literature.csv")}
    spec = yaml.safe_load((DATA / "menaquinone_map.yaml").read_text(encoding="utf-8"))
    rows: list[dict] = []
    chosen_keys: set[tuple[str, str]] = set()
    used_lit: set[str] = set()
    for ch in spec["choices"]:
        ndb, litname, src = ch["ndb"], ch["literature"], ch["source"]
        if ndb not in foods:
            raise BuildError(f"menaquinone_map: unknown ndb_no {ndb}")
        if litname not in lit:
            raise BuildError(f"menaquinone_map: literature row {litname!r} not in menaquinones_literature.csv")
        if src not in sources:
            raise BuildError(f"menaquinone_map: unknown source id {src!r}")
        lrow = lit[litname]
        used_lit.add(litname)
        for v in ch["values"]:
            form, col = v["form"], v["from"]
            if form not in FORMS or col not in LIT_NUM_COLS:
                raise BuildError(f"menaquinone_map {ndb}/{litname}: bad form or column {form}/{col}")
            if v["quality"] not in QUALITIES:
                raise BuildError(f"menaquinone_map {ndb}: bad quality {v['quality']!r}")
            read = fnum(lrow[col])
            if read is None:
                raise BuildError(f"menaquinone_map {ndb}/{litname}: column {col} is empty in the literature file")
            value = read * float(v.get("scale", 1.0))
            basis = f"{col} {fmt(read)} µg/100 g"
            derived = "scale" in v
            if "scale" in v:
                basis += f" × {v['scale']}"
            for minus in v.get("minus_sr28", []) or []:
                sv = fnum(foods[ndb][SR28_FORM_COL[minus]])
                if sv is not None:
                    value -= sv
                    derived = True
                    basis += f" − SR28 {minus} {fmt(sv)}"
            if value < 0:
                raise BuildError(f"menaquinone_map {ndb}: derived value is negative ({basis})")
            if v["chosen"]:
                if (ndb, form) in chosen_keys:
                    raise BuildError(f"menaquinone_map: two chosen {form} values for {ndb}")
                if form == "mk4" and fnum(foods[ndb]["menaquinone4_ug_per_100g"]) is not None:
                    raise BuildError(f"menaquinone_map: {ndb} has an SR28 MK-4; literature MK-4 may not replace it")
                chosen_keys.add((ndb, form))
            rows.append({"ndb_no": ndb, "form": form, "ug_per_100g": fmt(value), "chosen": "yes" if v["chosen"] else "no",
                         "quality": v["quality"], "source_id": src, "literature_food": litname,
                         "basis": basis + (f" = {fmt(value)}" if derived else ""),
                         "note": v.get("note", "")})
    unused = []
    for u in spec.get("unused", []):
        if u["literature"] not in lit:
            raise BuildError(f"menaquinone_map unused: {u['literature']!r} not in literature file")
        unused.append({"literature": u["literature"], "reason": u["reason"]})
    listed = used_lit | {u["literature"] for u in unused}
    missing = sorted(set(lit) - listed)
    if missing:
        raise BuildError(f"literature rows neither used nor listed as unused: {missing}")
    rows.sort(key=lambda r: (r["ndb_no"], r["form"], r["chosen"] != "yes", r["source_id"]))
    return rows, unused


NOTE_ALSO = re.compile(r"also ([^;,(]+)")


def note_aliases(note: str) -> list[str]:
    out = []
    for m in NOTE_ALSO.finditer(note or ""):
        for part in m.group(1).split("/"):
            part = part.strip()
            if part and CJK.search(part) and not re.search(r"[A-Za-z]", part):
                out.append(part)
    return out


def build_names(shared: Path, foods: dict[str, dict]) -> list[dict]:
    entries: dict[str, dict] = {}

    def add_entry(name, name_en, food_id, quality, origin, note, aliases_zh=(), aliases_en=()):
        if name in entries:
            raise BuildError(f"duplicate Chinese food name {name!r}")
        entries[name] = {"name_zh": name, "name_en": name_en, "food_id": food_id, "match_quality": quality,
                         "origin": origin, "note": note, "aliases_zh": list(aliases_zh), "aliases_en": list(aliases_en)}

    for r in read_csv(shared / "food_names_zh.csv"):
        if r["ndb_no"] not in foods:
            raise BuildError(f"food_names_zh: unknown ndb_no {r['ndb_no']}")
        add_entry(r["name_zh"], r["name_en"], r["ndb_no"], r["match_quality"], "shared:food_names_zh.csv", r["note"],
                  note_aliases(r["note"]), [r["name_en"]])
    for r in read_csv(DATA / "names_zh_extra.csv"):
        if r["ndb_no"] not in foods:
            raise BuildError(f"names_zh_extra: unknown ndb_no {r['ndb_no']} ({r['name_zh']})")
        if r["match_quality"] not in ("exact", "close", "proxy"):
            raise BuildError(f"names_zh_extra: bad match_quality for {r['name_zh']}")
        add_entry(r["name_zh"], r["name_en"], r["ndb_no"], r["match_quality"], "kbone:names_zh_extra.csv", r["note"],
                  split_list(r["aliases_zh"]), [r["name_en"], *split_list(r["aliases_en"])])
    for r in read_csv(DATA / "name_aliases.csv"):
        e = entries.get(r["name_zh"])
        if e is None:
            raise BuildError(f"name_aliases: {r['name_zh']!r} is not a food name")
        e["aliases_zh"] += split_list(r["aliases_zh"])
        e["aliases_en"] += split_list(r["aliases_en"])
        if r["override_ndb_no"]:
            if r["override_ndb_no"] not in foods:
                raise BuildError(f"name_aliases: unknown override ndb_no {r['override_ndb_no']}")
            e["note"] = f"{r['override_note']} [kbone override of shared ndb_no {e['food_id']}]"
            e["food_id"], e["match_quality"] = r["override_ndb_no"], r["override_quality"]
            e["origin"] += "+kbone:name_aliases.csv"
    recipes = yaml.safe_load((DATA / "recipes.yaml").read_text(encoding="utf-8"))["recipes"]
    for rec in recipes:
        for ing in rec["ingredients"]:
            if ing not in entries and not any(ing in e["aliases_zh"] for e in entries.values()):
                raise BuildError(f"recipe {rec['name']}: ingredient {ing!r} is not a food name")
        add_entry(rec["name"], rec["en"], f"recipe:{rec['name']}", "recipe", "kbone:recipes.yaml",
                  rec.get("note", ""), rec.get("aliases", []), [rec["en"], *rec.get("aliases_en", [])])
    # every surface form must name one food (several names may share a food)
    owner: dict[str, str] = {}
    for e in entries.values():
        for s in [e["name_zh"], *e["aliases_zh"], *e["aliases_en"]]:
            k = norm(s)
            prev = owner.get(k)
            if prev is not None and entries[prev]["food_id"] != e["food_id"]:
                raise BuildError(f"name {s!r} would name two foods: {prev} ({entries[prev]['food_id']}) and "
                                 f"{e['name_zh']} ({e['food_id']})")
            owner.setdefault(k, e["name_zh"])
    rows = []
    for e in entries.values():
        zh = list(dict.fromkeys(a for a in e["aliases_zh"] if a != e["name_zh"]))
        en = list(dict.fromkeys(e["aliases_en"]))
        rows.append({**e, "aliases_zh": "|".join(zh), "aliases_en": "|".join(en)})
    return rows


def validate_yaml(foods: dict[str, dict], names: list[dict], sources: dict) -> dict:
    counts = {}
    units = yaml.safe_load((DATA / "portion_units.yaml").read_text(encoding="utf-8"))
    zh_names = {r["name_zh"] for r in names}
    for fu in units["food_units"]:
        if "food" in fu and fu["food"] not in foods:
            raise BuildError(f"portion_units: unknown food {fu['food']}")
        if "name" in fu and fu["name"] not in zh_names:
            raise BuildError(f"portion_units: unknown food name {fu['name']}")
        if fu["source"] not in sources:
            raise BuildError(f"portion_units: unknown source {fu['source']}")
    counts["food_specific_unit_weights"] = len(units["food_units"])
    ref = yaml.safe_load((DATA / "reference_intakes.yaml").read_text(encoding="utf-8"))
    for v in ref["values"]:
        if v["authority"] not in ref["authorities"] or v["source"] not in sources:
            raise BuildError(f"reference_intakes: bad authority or source in {v}")
    counts["reference_values"] = len(ref["values"])
    return counts


def build(shared: Path, out: Path) -> dict:
    sources = yaml.safe_load((DATA / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    foods_rows, portions = build_sr28(shared)
    foods = {r["ndb_no"]: r for r in foods_rows}
    mk_rows, unused = build_menaquinones(shared, foods, sources)
    names = build_names(shared, foods)
    counts = validate_yaml(foods, names, sources)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "sr28_foods.csv", SR28_COLS, foods_rows)
    write_csv(out / "sr28_portions.csv", ["ndb_no", "amount", "unit_description", "gram_weight"], portions)
    write_csv(out / "menaquinones.csv", ["ndb_no", "form", "ug_per_100g", "chosen", "quality", "source_id",
                                          "literature_food", "basis", "note"], mk_rows)
    write_csv(out / "names.csv", ["name_zh", "name_en", "food_id", "match_quality", "origin", "aliases_zh",
                                  "aliases_en", "note"], names)
    zh_forms = {r["name_zh"] for r in names} | {a for r in names for a in split_list(r["aliases_zh"])}
    info = {
        "generated_by": "scripts/build_foods.py",
        "inputs": {p: sha256(shared / p) for p in ("usda_sr28_vitamin_k.csv", "usda_sr28_portions.csv",
                                                   "menaquinones_literature.csv", "food_names_zh.csv")},
        "curated_inputs": {p: sha256(DATA / p) for p in ("names_zh_extra.csv", "name_aliases.csv",
                                                         "menaquinone_map.yaml", "recipes.yaml")},
        "counts": {
            "sr28_foods": len(foods_rows), "sr28_portions": len(portions),
            "menaquinone_values": len(mk_rows), "menaquinone_values_chosen": sum(r["chosen"] == "yes" for r in mk_rows),
            "chinese_food_entries": sum(not r["food_id"].startswith("recipe:") for r in names),
            "recipes": sum(r["food_id"].startswith("recipe:") for r in names),
            "chinese_names_all": len(names),
            "chinese_surface_forms_incl_aliases": len(zh_forms),
            **counts,
        },
        "unused_literature": unused,
    }
    (out / "build_info.json").write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return info


OUTPUTS = ("sr28_foods.csv", "sr28_portions.csv", "menaquinones.csv", "names.csv", "build_info.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED_DEFAULT, help="folder of the shared food data")
    ap.add_argument("--out", type=Path, default=DATA, help="output folder (default: src/kbone/data/foods)")
    ap.add_argument("--check", action="store_true", help="fail if the committed tables differ from a rebuild")
    a = ap.parse_args(argv)
    if not (a.shared / "usda_sr28_vitamin_k.csv").exists():
        print(f"build_foods: shared data not found in {a.shared}", file=sys.stderr)
        return 2
    try:
        if a.check:
            with tempfile.TemporaryDirectory() as tmp:
                build(a.shared, Path(tmp))
                bad = [f for f in OUTPUTS if not filecmp.cmp(Path(tmp) / f, a.out / f, shallow=False)]
            if bad:
                print(f"build_foods --check: out of date: {', '.join(bad)} — run scripts/build_foods.py", file=sys.stderr)
                return 1
            print("build_foods --check: committed tables are up to date")
            return 0
        info = build(a.shared, a.out)
    except BuildError as e:
        print(f"build_foods: {e}", file=sys.stderr)
        return 2
    print(json.dumps(info["counts"], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
