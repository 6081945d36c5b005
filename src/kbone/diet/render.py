"""Readable (rich) output of kbone.diet results, in Chinese or English."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kbone.diet.schema import ALL_FORMS, FORMS, Candidate, IntakeResult
from kbone.i18n import pick

FORM_LABEL = {"k1": ("K1", "K1"), "mk4": ("MK-4", "MK-4"), "mk7": ("MK-7", "MK-7"),
              "mk_other": ("other MK", "其他MK"), "dihydro_k1": ("dihydro-K1", "二氢K1"), "total": ("total", "合计")}
QUALITY_LABEL = {"primary": ("primary", "原始文献"), "secondary": ("secondary", "二手来源"),
                 "approximate": ("approximate", "推算值"), "unverified": ("NOT VERIFIED", "未经核实"),
                 "assumption": ("assumption", "假设"), "definition": ("definition", "定义")}
MATCH_LABEL = {"exact": ("exact", "完全对应"), "close": ("close", "近似"), "proxy": ("proxy", "替代"),
               "recipe": ("recipe (assumed)", "配方(假设)")}
METHOD_LABEL = {"exact": ("exact", "精确"), "traditional": ("traditional → simplified", "繁→简"),
                "pinyin": ("pinyin", "拼音"), "fuzzy": ("fuzzy", "模糊"), "ndb_no": ("ndb_no", "编号")}


def fl(form: str, lang: str) -> str:
    en, zh = FORM_LABEL[form]
    return pick(en, zh, lang)


def ql(quality: str, lang: str) -> str:
    en, zh = QUALITY_LABEL.get(quality, (quality, quality))
    return pick(en, zh, lang)


def short_source(source_id: str) -> str:
    """Short label of a source id (sources.yaml ``short``): kamao2007 → Kamao 2007; a+b → 'A + B'."""
    from kbone.diet.foods import load_foods

    known = load_foods().sources
    return " + ".join(known[s].get("short", s) if s in known else s for s in source_id.split("+"))


def _num(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def amt(x: float, partial: bool, digits: int = 1) -> str:
    """An amount counted from known values only: '—' when nothing is known (0 so far), else 'x*' (a lower bound)."""
    if partial and x == 0:
        return "—"
    return f"{x:,.{digits}f}" + ("*" if partial else "")


def _food_label(name_zh: str | None, name_en: str, lang: str) -> str:
    if lang == "zh":
        return name_zh or name_en
    return name_en if not name_zh else f"{name_en} ({name_zh})"


def intake_report(r: IntakeResult, lang: str, top: int = 10) -> Group:
    parts = []
    title = pick("Vitamin K intake", "维生素K摄入量", lang)
    if r.basis == "diary":
        sub = pick(f"{r.n_days} day(s), {r.n_lines} diary line(s)", f"{r.n_days} 天，{r.n_lines} 行记录", lang)
    else:
        sub = pick("food-frequency estimate (mean per day)", "食物频率估计（每日平均）", lang)
    if r.source_file:
        sub += f" — {r.source_file}"
    parts.append(Text(f"{title}: {sub}", style="bold"))

    # per day
    t = Table(title=pick("Intake by day (µg)", "每日摄入量（微克）", lang), show_lines=False)
    t.add_column(pick("date", "日期", lang))
    for f in (*FORMS, "total", "dihydro_k1"):
        t.add_column(fl(f, lang), justify="right")
    t.add_column(pick("fat g", "脂肪 g", lang), justify="right")
    star = False
    for d in r.days:
        cells = []
        for f in (*FORMS, "total", "dihydro_k1"):
            part = f in d.incomplete_forms or (f == "total" and any(x in d.incomplete_forms for x in FORMS))
            star = star or part
            cells.append(amt(getattr(d, f), part))
        t.add_row(d.date, *cells, f"{d.fat_g:,.1f}")
    mean_label = pick("mean / day", "每日平均", lang)
    star = star or bool(r.mean.partial)
    t.add_row(Text(mean_label, style="bold"), *[Text(amt(getattr(r.mean, f), f in r.mean.partial), style="bold")
                                                  for f in (*FORMS, "total", "dihydro_k1")],
              Text(f"{r.mean_fat_g:,.1f}", style="bold"))
    parts.append(t)
    if star:
        parts.append(Text(pick("* lower bound: some foods have no value for this form (see 'unknown values'); "
                               "— unknown: no food eaten has a value.",
                               "* 下限值：部分食物缺少该形式的数据（见“未知数值”）；— 未知：所食食物均无数据。", lang),
                          style="dim"))

    # reference comparison
    if r.reference:
        rt = Table(title=pick("Compared with reference intakes (mean per day)", "与参考摄入量比较（每日平均）", lang))
        for col in (pick("authority", "机构", lang), pick("group", "人群", lang), pick("reference µg/d", "参考值 µg/天", lang),
                    pick("counts", "计入", lang), pick("intake µg/d", "摄入 µg/天", lang), "%", pick("source", "来源", lang)):
            rt.add_column(col, justify="right" if col in ("%",) else "left")
        for c in r.reference:
            ref = c.reference
            group = _group_label(ref, lang)
            counts = pick("K1 only", "仅K1", lang) if ref.compares == "k1" else pick("K1+K2", "K1+K2", lang)
            q = ql(ref.quality, lang)
            style = "red" if ref.quality == "unverified" else ("yellow" if ref.secondary else "")
            intake = f"{c.intake_ug:,.1f}" + ("" if c.intake_complete else "*")
            rt.add_row(pick(ref.authority_en, ref.authority_zh, lang), group, f"{ref.value_ug:g}", counts, intake,
                       f"{c.percent:,.0f}", Text(f"{short_source(ref.source_id)} ({q})", style=style))
        parts.append(rt)
        notes = []
        for c in r.reference:
            n = pick(c.reference.note_en, c.reference.note_zh, lang)
            if n and n not in notes and (c.reference.quality != "primary" or c.reference.per_kg_rule):
                notes.append(n)
        for n in notes:
            parts.append(Text(f"  • {n}", style="dim"))
        if r.profile.age is None:
            parts.append(Text(pick("  • Age not given: adult reference values shown (--age to change).",
                                   "  • 未给出年龄：显示成人参考值（可用 --age 指定）。", lang), style="dim"))

    # contributors
    if r.contributors:
        per = pick("per day", "每天", lang)
        ct = Table(title=pick(f"Top contributors ({per}, µg)", f"主要来源食物（{per}，微克）", lang))
        ct.add_column(pick("food", "食物", lang), min_width=8)
        ct.add_column("g", justify="right", no_wrap=True)
        for f in (*FORMS, "total"):
            ct.add_column(fl(f, lang), justify="right", no_wrap=True)
        ct.add_column(pick("share", "占比", lang), justify="right", no_wrap=True)
        k2_lines = []
        for c in r.contributors[:top]:
            a = c.amounts
            label = _food_label(c.name_zh, c.name_en, lang)
            if c.match_quality in ("recipe", "proxy", "close"):
                label += f" [{pick(*MATCH_LABEL[c.match_quality], lang)}]"
            cells = [amt(getattr(a, f), f in a.partial or f in c.unknown_forms) for f in (*FORMS, "total")]
            ct.add_row(label, f"{c.grams:,.0f}", *cells, f"{100 * c.share_of_total:.0f}%")
            k2 = [f"{fl(f, lang)} {short_source(s.source_id)} ({ql(s.quality, lang)})"
                  for f, s in c.sources.items() if f in ("mk4", "mk7", "mk_other") and s.source_id != "usda_sr28"]
            if k2:
                k2_lines.append(f"  {c.name_zh or c.name_en}: " + "; ".join(k2))
        parts.append(ct)
        if any(c.amounts.partial or c.unknown_forms for c in r.contributors[:top]):
            parts.append(Text(pick("* lower bound (an ingredient has no value); — unknown (no value; not zero).",
                                   "* 下限值（部分配料无数据）；— 未知（无数据，并非零）。", lang), style="dim"))
        parts.append(Text(pick("K1 (and most MK-4): USDA SR28. Menaquinone values from the literature:",
                               "K1（及多数 MK-4）：USDA SR28。文献中的甲萘醌数值：", lang), style="dim"))
        for line in k2_lines:
            parts.append(Text(line, style="dim"))

    # meals
    low = [m for m in r.meals if m.low_fat]
    if r.meals:
        mt = Table(title=pick("Fat eaten with each meal", "每餐同时摄入的脂肪", lang))
        for col in (pick("date", "日期", lang), pick("meal", "餐次", lang), pick("fat g", "脂肪 g", lang),
                    pick("vitamin K µg", "维生素K µg", lang), pick("note", "说明", lang)):
            mt.add_column(col)
        for m in r.meals:
            note = pick(m.note_en, m.note_zh, lang) if m.low_fat else ""
            fat = f"{m.fat_g:,.1f}" + ("" if m.fat_complete else "*")
            mt.add_row(m.date, pick(m.meal_label_en, m.meal_label_zh, lang), fat, f"{m.amounts.total:,.1f}",
                       Text(note, style="yellow") if note else "")
        parts.append(mt)
        if low:
            parts.append(Text(pick(f"  {len(low)} meal(s) with vitamin K came with little fat.",
                                   f"  有 {len(low)} 餐含维生素K但脂肪很少。", lang), style="dim"))

    # unknown values
    if r.unknown:
        k1_missing = [u for u in r.unknown if "k1" in u.forms or "k1" in u.partial_forms]
        lines = []
        if k1_missing:
            names = []
            for u in k1_missing:
                label = _food_label(u.name_zh, u.name_en, lang)
                if "k1" in u.partial_forms:
                    label += pick(f" (ingredients without K1: {', '.join(u.partial_forms['k1'])})",
                                  f"（无K1数据的配料：{'、'.join(u.partial_forms['k1'])}）", lang)
                names.append(label)
            lines.append(pick("K1 unknown (not counted): ", "K1 无数据（未计入）：", lang) + "; ".join(names))
        for f in ("mk4", "mk7", "mk_other"):
            n = sum(1 for u in r.unknown if f in u.forms)
            if n:
                lines.append(pick(f"{fl(f, lang)}: no value for {n} of {len(r.contributors)} foods",
                                  f"{fl(f, lang)}：{len(r.contributors)} 种食物中 {n} 种无数据", lang))
        parts.append(Panel("\n".join(lines), title=pick("Unknown values (never counted as zero)",
                                                        "未知数值（不按零计）", lang), border_style="yellow"))

    # name matches that were not exact
    fuzzy = [m for m in r.matches if m.method not in ("exact", "ndb_no")]
    if fuzzy:
        lines = [f"{m.text} → {m.name} ({pick(*METHOD_LABEL.get(m.method, (m.method, m.method)), lang)}, "
                 f"{m.score:g}; {pick('lines', '行', lang)} {', '.join(map(str, m.lines[:8]))})" for m in fuzzy]
        parts.append(Panel("\n".join(lines), title=pick("Names matched approximately — please check",
                                                        "近似匹配的名称——请核对", lang), border_style="cyan"))
    if r.skipped:
        lines = [f"{pick('line', '第', lang)} {s.line}{pick('', '行', lang)}: {s.food} ({s.reason})"
                 + (f" — {pick('did you mean', '是否指', lang)}: {', '.join(s.suggestions[:3])}" if s.suggestions else "")
                 for s in r.skipped]
        parts.append(Panel("\n".join(lines), title=pick(f"Skipped {len(r.skipped)} line(s) (--skip-unknown)",
                                                        f"已跳过 {len(r.skipped)} 行（--skip-unknown）", lang),
                           border_style="red"))
    if r.assumptions:
        shown = r.assumptions[:12]
        more = len(r.assumptions) - len(shown)
        body = "\n".join(shown) + (pick(f"\n… and {more} more (see --json)", f"\n……另有 {more} 条（见 --json）", lang)
                                   if more > 0 else "")
        parts.append(Panel(body, title=pick("Portion weights resting on assumptions", "基于假设的份量换算", lang),
                           border_style="magenta"))
    notes = r.notes_zh if lang == "zh" else r.notes_en
    for n in notes:
        parts.append(Text(f"• {n}", style="dim"))
    parts.append(Text(pick("Sources: ", "来源：", lang) + "; ".join(short_source(s) for s in r.sources), style="dim"))
    parts.append(Text(pick("This tool informs; it does not prescribe. People taking warfarin or other vitamin K "
                           "antagonists should keep vitamin K intake steady and discuss changes with their clinician.",
                           "本工具仅供参考，不作处方。服用华法林等维生素K拮抗剂者应保持维生素K摄入稳定，改变饮食前请咨询医生。",
                           lang), style="bold"))
    return Group(*parts)


def _group_label(ref, lang: str) -> str:
    age = f"{ref.age_min:g}+" if ref.age_max >= 150 else f"{ref.age_min:g}-{ref.age_max:g}"
    sex = {"male": pick("men", "男", lang), "female": pick("women", "女", lang), "any": pick("all", "不分性别", lang)}[ref.sex]
    stage = {"general": "", "pregnancy": pick(", pregnant", "，孕期", lang),
             "lactation": pick(", lactating", "，哺乳期", lang)}[ref.stage]
    return f"{age} {pick('y', '岁', lang)}, {sex}{stage}"


def candidates_table(query: str, cands: list[Candidate], lang: str) -> Table:
    t = Table(title=pick(f"Foods matching {query!r}", f"与“{query}”匹配的食物", lang))
    t.add_column("#", justify="right")
    t.add_column(pick("name", "名称", lang))
    t.add_column("ndb_no", no_wrap=True)
    t.add_column(pick("score", "分数", lang), justify="right", no_wrap=True)
    for f in FORMS:
        t.add_column(f"{fl(f, lang)}", justify="right", no_wrap=True)
    t.add_column(pick("note", "说明", lang))
    for i, c in enumerate(cands, 1):
        label = f"{c.name_zh}\n{c.name_en}" if c.name_zh else c.description
        p = c.per_100g
        mk = [f"{fl(f, lang)}: {short_source(s.source_id)}" for f, s in c.sources.items()
              if f in ("mk4", "mk7", "mk_other") and s.source_id != "usda_sr28"]
        note = [f"{pick('matched', '匹配', lang)} {c.matched} ({pick(*METHOD_LABEL.get(c.method, (c.method, c.method)), lang)})"]
        if c.match_quality in ("close", "proxy", "recipe"):
            note.append(pick(*MATCH_LABEL[c.match_quality], lang) + (f": {c.note}" if c.note else ""))
        note += mk
        t.add_row(str(i), label, c.ndb_no or pick("recipe", "配方", lang), f"{c.score:g}",
                  *[_num(getattr(p, f)) + ("*" if f in p.partial_forms else "") for f in FORMS], "; ".join(note)[:160])
    t.caption = pick("vitamin K per 100 g (µg); — = no value in the data (not zero); * = lower bound (an ingredient "
                     "has no value)", "每100克维生素K含量（微克）；— 表示无数据（并非零）；* 下限值（部分配料无数据）", lang)
    return t


def food_detail(c: Candidate, alternatives: list[dict], portions: list, ingredients: list, lang: str) -> Group:
    parts = [Text(f"{c.name_zh or ''} {c.name_en}  [{c.food_id}]", style="bold")]
    if c.description and c.description != c.name_en:
        parts.append(Text(f"USDA: {c.description}"))
    if c.match_quality:
        mq = MATCH_LABEL.get(c.match_quality, (c.match_quality, c.match_quality))
        parts.append(Text(pick("match: ", "对应：", lang) + pick(*mq, lang) + (f" — {c.note}" if c.note else "")))
    t = Table(title=pick("per 100 g", "每100克", lang))
    for col in (pick("form", "形式", lang), pick("value", "数值", lang), pick("source", "来源", lang),
                pick("quality", "质量", lang), pick("basis", "依据", lang)):
        t.add_column(col)
    for f in ALL_FORMS:
        s = c.sources.get(f)
        mark = "*" if f in c.per_100g.partial_forms else ""
        t.add_row(fl(f, lang), _num(getattr(c.per_100g, f)) + mark + " µg", short_source(s.source_id) if s else "—",
                  ql(s.quality, lang) if s else pick("no value", "无数据", lang), (s.basis or s.note)[:90] if s else "")
    t.add_row(pick("fat", "脂肪", lang), _num(c.per_100g.fat_g, 2) + " g", "USDA SR28", "", "")
    t.add_row(pick("energy", "能量", lang), _num(c.per_100g.energy_kcal, 0) + " kcal", "USDA SR28", "", "")
    parts.append(t)
    if c.per_100g.partial_forms or any(getattr(c.per_100g, f) is None for f in ALL_FORMS):
        parts.append(Text(pick("— = no value in the data (not zero); * = lower bound: some ingredients have no value",
                               "— 表示无数据（并非零）；* 下限值：部分配料无数据", lang), style="dim"))
    if alternatives:
        at = Table(title=pick("Other published values (not used)", "其他已发表数值（未采用）", lang))
        for col in (pick("form", "形式", lang), "µg/100 g", pick("source", "来源", lang), pick("why not used", "未采用原因", lang)):
            at.add_column(col)
        for a in alternatives:
            at.add_row(fl(a["form"], lang), a["ug_per_100g"], f"{short_source(a['source_id'])} ({ql(a['quality'], lang)})",
                       a["note"][:90])
        parts.append(at)
    if ingredients:
        it = Table(title=pick("Recipe (assumed composition, per serving)", "配方（假设组成，每份）", lang))
        it.add_column(pick("ingredient", "配料", lang))
        it.add_column("g", justify="right")
        it.add_column("ndb_no")
        for name, fid, g in ingredients:
            it.add_row(name, f"{g:g}", fid)
        parts.append(it)
    if portions:
        pt = Table(title=pick("USDA household measures", "USDA 家用量具", lang))
        pt.add_column(pick("measure", "量具", lang))
        pt.add_column("g", justify="right")
        for p in portions[:12]:
            pt.add_row(f"{p.amount:g} {p.description}", f"{p.grams:g}")
        parts.append(pt)
    return Group(*parts)
