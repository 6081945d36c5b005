"""Sentences, claims, study mentions and references from normalised text (Chinese and English).

Terms (vitamin K forms, outcomes, populations, agents, countries) are found with the shared vocabulary's
surface forms; short Chinese terms must fall on jieba word boundaries (the vocabulary is jieba's user
dictionary), so ``钙`` inside ``钙化`` is not calcium. Cue words, directions and hedges come from
``data/claims/lexicon.yaml``; number, study-name and reference patterns from ``data/claims/patterns.yaml``.
Every span is given in the original input (``input[start:end] == text``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from kbone.claims.models import Claim, Number, Parts, Reference, Sentence, StudyMention
from kbone.claims.normalize import Normalized, norm_rules
from kbone.claims.rules import foods, lexicon, patterns, trie_regex
from kbone.claims.tokenize import token_bounds
from kbone.vocab import vocab

_CJK = re.compile(r"[\u4e00-\u9fff]")
TERM_KINDS = ("form", "outcome", "population", "agent", "country")
CLINICAL_GROUPS = {"bmd", "fracture", "oa", "osteoporosis"}
_ABBREV = {"al", "vs", "e.g", "i.e", "fig", "no", "dr", "et", "approx", "ca", "eds", "ref"}
_QUESTION = re.compile(r"[?？]\s*[”’\"']?\s*$|吗[?？]?\s*$")


# ---- sentences ---------------------------------------------------------------------------------

def split_sentences(norm: Normalized) -> list[Sentence]:
    """Sentences of the clean text, each with its exact span in the original input."""
    r = norm_rules()
    pats = patterns()
    text = norm.text
    out: list[Sentence] = []
    pos = 0
    in_refs = False
    for p_idx, para in enumerate(text.split("\n")):
        p_start = pos
        pos += len(para) + 1
        if not para.strip():
            continue
        if pats.ref_heading.match(para):
            in_refs = True
        heading = _is_heading(para)
        bounds = [(0, len(para))] if in_refs else _sentence_bounds(para, r.terminal, r.closers)
        for s, e in bounds:
            seg = para[s:e]
            lead = len(seg) - len(seg.lstrip())
            trail = len(seg.rstrip())
            if trail <= lead:
                continue
            cs, ce = p_start + s + lead, p_start + s + trail
            os_, oe = norm.to_original(cs, ce)
            out.append(Sentence(index=len(out), start=os_, end=oe, clean_start=cs, clean_end=ce,
                                text=norm.original[os_:oe], clean=text[cs:ce], paragraph=p_idx,
                                heading=heading, in_references=in_refs and not pats.ref_heading.match(para)))
    return out


def _is_heading(para: str) -> bool:
    p = para.strip()
    return len(p) <= 40 and not re.search(r"[。！？!?]$", p) and bool(
        re.match(r"^(?:\d+(?:\.\d+)*\s*[.、．)]?\s*\S|[一二三四五六七八九十]+、)", p))


def _sentence_bounds(para: str, terminal: set[str], closers: set[str]):
    stops = set("。！？!?") | ({"…"} & terminal)
    start = 0
    i = 0
    n = len(para)
    while i < n:
        ch = para[i]
        end = None
        if ch in stops:
            j = i + 1
            while j < n and (para[j] in stops or para[j] in closers):
                j += 1
            end = j
        elif ch == "." and _english_stop(para, i):
            end = i + 1
        if end is not None:
            yield start, end
            start = i = end
            continue
        i += 1
    if start < n:
        yield start, n


def _english_stop(para: str, i: int) -> bool:
    before = para[max(0, i - 6):i]
    after = para[i + 1:i + 3]
    if not before or not re.search(r"(?:[a-z]{2}|[)\]])$", before):
        return False
    word = re.search(r"([A-Za-z.]+)$", before)
    if word and word.group(1).lower().rstrip(".") in _ABBREV:
        return False
    if not after:
        return True
    return bool(re.match(r"\s+[A-Z0-9(\[“\"]|[A-Z]|[\u4e00-\u9fff]", after))


# ---- terms -------------------------------------------------------------------------------------

@dataclass
class TermHit:
    kind: str
    id: str
    start: int
    end: int
    surface: str


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class TermIndex:
    """Vocabulary surface forms compiled into two prefix-tree regexes (case-folded and exact)."""

    def __init__(self) -> None:
        v = vocab()
        self.folded: dict[str, list[tuple[str, str]]] = {}
        self.exact: dict[str, list[tuple[str, str]]] = {}
        for kind in TERM_KINDS:
            for t in v.terms(kind):
                for s in (t.id, t.en, t.zh, *t.synonyms):
                    s = str(s).strip()
                    if not self._usable(s):
                        continue
                    table = self.exact if s.isascii() and len(s) <= 4 and s.upper() == s else self.folded
                    k = s if table is self.exact else s.translate(_ASCII_LOWER)
                    entry = table.setdefault(k, [])
                    if all(kd != kind for kd, _ in entry):
                        entry.append((kind, t.id))
        self.rx_folded = re.compile(trie_regex(list(self.folded)))
        self.rx_exact = re.compile(trie_regex(list(self.exact)))

    @staticmethod
    def _usable(s: str) -> bool:
        if not s or re.search(r"[，。：；’‘,:;]", s) or s[0].isdigit():
            return False
        if s.isascii() and len(s) < 2:
            return False
        return not (len(s) == 1 and not _CJK.match(s))

    @staticmethod
    def _boundary_ok(text: str, s: int, e: int) -> bool:
        a, b = text[s], text[e - 1]
        if a.isascii() and a.isalnum() and s > 0 and text[s - 1].isascii() and text[s - 1].isalnum():
            return False
        return not (b.isascii() and b.isalnum() and e < len(text) and text[e].isascii() and text[e].isalnum())

    def find(self, text: str, word_check: bool = True) -> list[TermHit]:
        """Terms in ``text`` (leftmost-longest; one hit per kind and span). Short Chinese terms must
        fall on jieba word boundaries when ``word_check``."""
        found: list[tuple[int, int, list[tuple[str, str]]]] = []
        low = text.translate(_ASCII_LOWER)
        for rx, table, src in ((self.rx_folded, self.folded, low), (self.rx_exact, self.exact, text)):
            pos = 0
            while True:
                m = rx.search(src, pos)
                if not m:
                    break
                s, e = m.span()
                if e == s:
                    pos = s + 1
                    continue
                if self._boundary_ok(text, s, e):
                    found.append((s, e, table[m.group(0)]))
                pos = e
        hits: list[TermHit] = []
        for s, e, entries in sorted(found, key=lambda x: (x[0], -(x[1] - x[0]))):
            surface = text[s:e]
            if word_check and _CJK.search(surface) and len(surface) <= 2 and not _on_word_boundary(text, s, e):
                continue
            for kind, tid in entries:
                hits.append(TermHit(kind, tid, s, e, surface))
        # within a kind, keep non-overlapping hits (longest first)
        out: list[TermHit] = []
        last: dict[str, int] = {}
        for h in hits:
            if h.start < last.get(h.kind, -1):
                continue
            out.append(h)
            last[h.kind] = h.end
        return out


def _on_word_boundary(text: str, s: int, e: int, margin: int = 6) -> bool:
    """Does jieba (with kbone's vocabulary) segment ``text[s:e]`` as whole words? (local window)"""
    w0 = max(0, s - margin)
    starts, ends = token_bounds(text[w0:e + margin])
    return (s - w0) in starts and (e - w0) in ends


@lru_cache(maxsize=1)
def term_index() -> TermIndex:
    return TermIndex()


# ---- numbers -----------------------------------------------------------------------------------

_UNIT = {"微克": "ug", "µg": "ug", "μg": "ug", "ug": "ug", "mcg": "ug", "毫克": "mg", "mg": "mg", "克": "g", "g": "g",
         "年": "year", "years": "year", "year": "year", "yr": "year", "yrs": "year", "个月": "month", "月": "month",
         "months": "month", "month": "month", "周": "week", "星期": "week", "个星期": "week", "weeks": "week",
         "week": "week", "wk": "week", "天": "day", "days": "day", "day": "day", "日": "day", "d": "day"}
_ORDER = ("ratio", "dose", "percent", "duration", "n", "fold", "p", "age", "grade")
_CHANGE_BEFORE = re.compile(r"(?:降低|减少|多出|少|增加|提高|下降|升高|减轻|缓解|改善|高出|低|reduc|increas|decreas|lower|higher|improv|cut|\bby)[^\d%]{0,24}$", re.I)
_OVER = re.compile(r"(?:超过|大于|高于|逾|多于|more than|over|above)\s*$", re.I)
_ABOUT = re.compile(r"(?:约|大约|近|将近|接近|平均|about|approximately|around|nearly)\s*$", re.I)


def parse_numbers(clean: str, offset: int, norm: Normalized) -> list[Number]:
    pats = patterns().numbers
    taken: list[tuple[int, int]] = []
    out: list[Number] = []
    for kind in _ORDER:
        for m in pats[kind].finditer(clean):
            s, e = m.span()
            if any(s < b and a < e for a, b in taken):
                continue
            num = _number(kind, m, clean)
            if num is None:
                continue
            os_, oe = norm.to_original(offset + s, offset + e)
            num.start, num.end, num.text = os_, oe, norm.original[os_:oe]
            out.append(num)
            taken.append((s, e))
    out.sort(key=lambda n: n.start)
    return out


def _f(x: str | None) -> float | None:
    return float(x.replace(",", "")) if x else None


def _number(kind: str, m: re.Match, clean: str) -> Number | None:
    g = m.groupdict()
    before = clean[max(0, m.start() - 12):m.start()]
    after = clean[m.end():m.end() + 14]
    base = dict(kind=kind, text=m.group(0), clean=m.group(0).strip(), start=0, end=0)
    if kind == "ratio":
        return Number(**base, value=_f(g["value"]), low=_f(g.get("lo")), high=_f(g.get("hi")),
                      measure={"相对危险度": "RR", "比值比": "OR", "风险比": "HR", "relative risk": "RR",
                               "odds ratio": "OR", "hazard ratio": "HR"}.get(g["measure"].lower(), g["measure"].upper()))
    if kind == "dose":
        unit = _UNIT.get(g["unit"].lower() if g["unit"].isascii() else g["unit"], "ug")
        if unit == "g" and not re.search(r"维生素|vitamin|K", clean, re.I):
            return None
        per = {"天": "day", "日": "day", "d": "day", "day": "day", "周": "week", "week": "week", "wk": "week"}.get(
            (g.get("per") or "").lower() or g.get("per") or "")
        value, low = _f(g["value"]), _f(g.get("low"))
        factor = vocab().convert(1, unit, "ug")
        per_day = 1 / 7 if per == "week" else 1
        if per is None and re.search(r"每[天日]|每日|daily|a day|per day|/d", clean, re.I):
            per = "day"
        return Number(**base, value=value, low=low, unit=unit, per=per,
                      ug_per_day=value * factor * per_day if value is not None else None)
    if kind == "percent":
        role = "change" if _CHANGE_BEFORE.search(before) else "level"
        if re.match(r"\s*的?\s*[\u4e00-\u9fff]{0,8}(?:患者|病人|人群|者|人|受试者|女性|男性|妇女|participants|patients|of)", after) \
                or re.search(r"占[^\d]{0,6}$", before):
            role = "proportion" if role != "change" else role
        qual = "over" if _OVER.search(before) else ("about" if _ABOUT.search(before) else None)
        return Number(**base, value=_f(g["value"]), low=_f(g.get("low")), unit="percent", role=role, qualifier=qual)
    if kind == "duration":
        value = _f(g["value"])
        unit = _UNIT.get(g["unit"].lower() if g["unit"].isascii() else g["unit"])
        if unit is None or value is None:
            return None
        if unit == "year" and value >= 1900:
            return None
        if re.search(r"第\s*$", before) or re.match(r"[第的]?[\d]*期", after):
            return None
        low = _f(g.get("low"))
        weeks = vocab().convert(value, unit, "week")
        return Number(**base, value=value, low=low, unit=unit, weeks=weeks)
    if kind == "n":
        v = g.get("eq") or g.get("value")
        if not v:
            return None
        if re.search(r"[万亿]\s*$", m.group(0)):
            return None
        return Number(**base, value=_f(v), unit="count")
    if kind == "fold":
        return Number(**base, value=_f(g["value"]), unit="ratio")
    if kind == "p":
        return Number(**base, value=_f(g["value"]), measure=g["op"])
    if kind == "age":
        return Number(**base, value=_f(g["value"]), unit="year", qualifier="over" if g.get("above") in ("以上", "及以上") else None)
    if kind == "grade":
        letter = (g.get("zh") or g.get("en") or "").translate(str.maketrans("ＡＢＣＤ", "ABCD"))
        return Number(**base, label=letter)
    return None


# ---- directions --------------------------------------------------------------------------------

_CLAUSE = re.compile(r"[，,；;：:]|但是|但|而且|然而|却|whereas|\bbut\b")


def _clauses(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for m in _CLAUSE.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return [(s, e) for s, e in out if e > s]


def _better(outcome_id: str | None, group: str | None, clause: str) -> str:
    pats = patterns()
    if pats.cue["negative_quantities"].search(clause):
        return "down"
    if pats.cue["positive_quantities"].search(clause):
        return "up"
    if outcome_id:
        b = vocab().get("outcome", outcome_id).get("better")
        if b in ("up", "down"):
            return b
        group = group or vocab().get("outcome", outcome_id).get("group")
    return {"bmd": "up", "fracture": "down", "oa": "down", "osteoporosis": "down", "marker": "down"}.get(group or "", "down")


def clause_direction(clause: str, better: str, deficiency: bool) -> str:
    """Direction of *more vitamin K* on an outcome whose good direction is ``better``."""
    pats = patterns().direction
    if pats["null"].search(clause):
        d = "null"
    elif pats["harm"].search(clause):
        d = "harm"
    else:
        loss = [m.span() for m in pats["loss"].finditer(clause)]

        def hits(name):
            return [m for m in pats[name].finditer(clause) if not any(a <= m.start() < b for a, b in loss)]

        up, down = hits("up"), hits("down")
        if up or down:
            polarity = "up" if len(up) > len(down) or (up and down and up[-1].start() > down[-1].start()) else "down"
            if loss and better == "up":
                polarity = "down" if polarity == "up" else "up"
            d = "benefit" if polarity == better else "harm"
        elif pats["benefit"].search(clause):
            d = "benefit"
        else:
            return "unclear"
    if deficiency and d in ("benefit", "harm"):
        d = "harm" if d == "benefit" else "benefit"
    return d


_SEGMENT = re.compile(r"[；;。]")
_K_MENTION = re.compile(r"维生素\s?K|维K|vitamin K|\bK[12]\b|MK-?\d|甲萘醌|叶绿醌|补K|menaquinone|phylloquinone", re.I)


def group_direction(clean: str, outcomes: list[str], group: str, deficiency: bool) -> str | None:
    """Direction stated for one outcome group, preferring the part of the sentence that names vitamin K
    ("单独服用阿仑膦酸钠…没有受到影响；同时服用维生素K2…下降": the second part is about vitamin K)."""
    rx = patterns().outcome_groups.get(group)
    segs, start = [], 0
    for m in _SEGMENT.finditer(clean):
        segs.append(clean[start:m.start()])
        start = m.end()
    segs.append(clean[start:])
    ordered = [s for s in segs if _K_MENTION.search(s)] + [s for s in segs if not _K_MENTION.search(s)]
    for seg in ordered:
        for cs, ce in _clauses(seg):
            clause = seg[cs:ce]
            outs = [o for o in outcomes if vocab().get("outcome", o).get("group") == group
                    and any(s_ in clause for s_ in (vocab().get("outcome", o).zh, *vocab().get("outcome", o).synonyms))]
            if (rx and rx.search(clause)) or outs:
                d = clause_direction(clause, _better(outs[0] if outs else None, group, clause), deficiency)
                if d != "unclear":
                    return d
    return None


# ---- claims ------------------------------------------------------------------------------------

@dataclass
class Extraction:
    sentences: list[Sentence]
    claims: list[Claim]
    studies: list[StudyMention]
    references: list[Reference]
    doc_forms: list[str] = field(default_factory=list)
    doc_groups: list[str] = field(default_factory=list)


def _specific_forms(forms: list[str]) -> list[str]:
    v = vocab()
    out = list(dict.fromkeys(forms))
    for f in list(out):
        for child in v.get("form", f).get("parent_of", []) or []:
            if child in out and f in out:
                out.remove(f)
                break
    return out


def analyse_sentence(sent: Sentence, norm: Normalized, hits: list[TermHit] | None = None) -> tuple[Parts, list[TermHit]]:
    """The parts of one sentence (terms, numbers, cues, direction), before any inference from context.

    ``hits`` are the sentence's vocabulary terms (offsets within the sentence); found here when not given.
    """
    pats = patterns()
    clean = sent.clean
    if hits is None:
        hits = term_index().find(clean)
    # "骨关节炎患者": the disease names the population, not an outcome
    pop_spans = {(h.start, h.end) for h in hits if h.kind == "population"}
    hits = [h for h in hits if not (h.kind == "outcome" and (h.start, h.end) in pop_spans
                                    and re.match(r"\s*(?:患者|病人|人群|者|patients|人)", clean[h.end:h.end + 3]))]
    p = Parts()
    for kind, attr in (("form", "forms"), ("outcome", "outcomes"), ("population", "populations"),
                       ("agent", "agents"), ("country", "countries")):
        vals = list(dict.fromkeys(h.id for h in hits if h.kind == kind))
        setattr(p, attr, vals)
    if re.search(r"(?<=[补缺])K(?![A-Za-z0-9])", clean) and "K" not in p.forms:
        p.forms.append("K")
    p.forms = _specific_forms(p.forms)
    if not p.forms:  # "每天吃纳豆…": a vitamin K-rich food stands for the form it carries
        found = [(fid, form) for s_, e_, fid, form in foods().find(clean)
                 if not (_CJK.search(clean[s_:e_]) and e_ - s_ <= 2 and not _on_word_boundary(clean, s_, e_))]
        p.foods = list(dict.fromkeys(fid for fid, _ in found))
        p.forms = _specific_forms([form for _, form in found])
    groups = []
    for o in p.outcomes:
        g = vocab().get("outcome", o).get("group")
        if g:
            groups.append(g)
    for g, rx in pats.outcome_groups.items():
        if rx.search(clean):
            groups.append(g)
    p.outcome_groups = list(dict.fromkeys(groups))
    p.numbers = parse_numbers(clean, sent.clean_start, norm)
    p.hedges = list(dict.fromkeys(m.group(0) for m in pats.cue["hedges"].finditer(clean)))
    p.hedged = bool(p.hedges)
    p.anticoagulant = bool(pats.cue["anticoagulants"].search(clean)) or "on_vka" in p.populations
    p.caution = bool(pats.cue["caution_cues"].search(clean))
    p.advice = bool(pats.cue["advice_cues"].search(clean))
    p.mechanism = bool(pats.cue["mechanism_cues"].search(clean))
    p.question = bool(_QUESTION.search(clean))
    deficiency = bool(pats.direction["deficiency"].search(clean))
    if deficiency:
        p.exposure = "deficiency"
    elif pats.cue["intervention_cues"].search(clean):
        p.exposure = "intervention"
    elif pats.cue["status_cues"].search(clean):
        p.exposure = "status"
    p.causal = bool(pats.cue["causal_cues"].search(clean))
    for comp, rx in pats.comparators.items():
        if rx.search(clean):
            p.comparator = comp
            break
    # direction: per clause, for the outcomes named in that clause
    dirs = []
    for cs, ce in _clauses(clean):
        clause = clean[cs:ce]
        outs = [h.id for h in hits if h.kind == "outcome" and cs <= h.start < ce]
        grp = next((g for g, rx in pats.outcome_groups.items() if rx.search(clause)), None)
        if not outs and not grp:
            continue
        d = clause_direction(clause, _better(outs[0] if outs else None, grp, clause), deficiency)
        if d != "unclear":
            dirs.append(d)
    if not dirs and (p.outcomes or p.outcome_groups):
        d = clause_direction(clean, _better(p.outcomes[0] if p.outcomes else None,
                                            p.outcome_groups[0] if p.outcome_groups else None, clean), deficiency)
        if d != "unclear":
            dirs.append(d)
    for d in ("benefit", "harm", "null"):
        if d in dirs:
            p.direction = d
            break
    return p, hits


def _study_name(sent: Sentence, norm: Normalized) -> StudyMention | None:
    pats = patterns()
    stop = {w.lower() for w in lexicon().get("not_authors", [])}
    for m in pats.study_name.finditer(sent.clean):
        author = m.group("author").strip()
        surname = author.split()[0]
        if surname.lower() in stop or vocab().resolve("form", surname) or vocab().resolve("outcome", surname):
            continue
        os_, oe = norm.to_original(sent.clean_start + m.start(), sent.clean_start + m.end())
        year = int(m.group("year")) if m.group("year") else None
        return StudyMention(kind="named", author=author, year=year, text=norm.original[os_:oe], start=os_, end=oe)
    return None


def _guideline(sent: Sentence, norm: Normalized, parts: Parts) -> StudyMention | None:
    m = re.search(r"指南|共识|guidelines?|consensus", sent.clean, re.I)
    if not m:
        return None
    window = sent.clean[max(0, m.start() - 20):m.end() + 10]
    country = None
    for h in term_index().find(window, word_check=False):
        if h.kind == "country":
            country = h.id
            break
    if country is None:
        country = parts.countries[0] if parts.countries else None
    ym = re.search(r"(?:19|20)\d{2}", window)
    os_, oe = norm.to_original(sent.clean_start + max(0, m.start() - 20), sent.clean_start + min(len(sent.clean), m.end() + 10))
    return StudyMention(kind="guideline", country=country, year=int(ym.group(0)) if ym else None,
                        text=norm.original[os_:oe], start=os_, end=oe)


def _reference(sent: Sentence, norm: Normalized) -> Reference | None:
    pats = patterns()
    clean = pats.ref_item.sub("", sent.clean, count=1)
    m = pats.ref_zh.search(clean)
    if m and (sent.in_references or pats.ref_item.match(sent.clean)):
        g = m.groupdict()
        return Reference(kind="list", title=g["title"].strip(), journal=(g.get("journal") or "").strip(" ,，.") or None,
                         year=int(g["year"]) if g.get("year") else None, volume=g.get("volume"), issue=g.get("issue"),
                         text=sent.text, start=sent.start, end=sent.end)
    m = pats.ref_en.search(clean)
    if m and (sent.in_references or pats.ref_item.match(sent.clean)):
        g = m.groupdict()
        return Reference(kind="list", authors=g["authors"], title=g["title"], journal=g["journal"].strip(),
                         year=int(g["year"]), volume=g.get("volume"), issue=g.get("issue"),
                         text=sent.text, start=sent.start, end=sent.end)
    m = pats.ref_intext_zh.search(sent.clean)
    if m:
        os_, oe = norm.to_original(sent.clean_start + m.start(), sent.clean_start + m.end())
        return Reference(kind="intext", journal=m.group("journal").strip(), text=norm.original[os_:oe], start=os_, end=oe)
    if sent.in_references and "《" in clean:
        t = re.search(r"《([^》]+)》", clean)
        return Reference(kind="list", title=t.group(1) if t else None, text=sent.text, start=sent.start, end=sent.end)
    return None


def extract(norm: Normalized) -> Extraction:
    """Sentences, claims (verdicts not yet set), study mentions and references of a normalised text."""
    pats = patterns()
    sentences = split_sentences(norm)
    text = norm.text
    all_hits = term_index().find(text)
    per_sentence: list[list[TermHit]] = [[] for _ in sentences]
    j = 0
    for h in sorted(all_hits, key=lambda h: h.start):
        while j < len(sentences) and sentences[j].clean_end <= h.start:
            j += 1
        if j < len(sentences) and sentences[j].clean_start <= h.start and h.end <= sentences[j].clean_end:
            off = sentences[j].clean_start
            per_sentence[j].append(TermHit(h.kind, h.id, h.start - off, h.end - off, h.surface))
    analysed = [analyse_sentence(s, norm, hs) for s, hs in zip(sentences, per_sentence, strict=True)]
    form_counts = Counter(f for p, _ in analysed if not p.foods for f in p.forms)
    group_counts = Counter(g for p, _ in analysed for g in p.outcome_groups if g in CLINICAL_GROUPS)
    doc_forms = [f for f, _ in form_counts.most_common(3)]
    doc_groups = [g for g, _ in group_counts.most_common(2)]
    claims: list[Claim] = []
    studies: list[StudyMention] = []
    references: list[Reference] = []
    last_study: tuple[int, StudyMention] | None = None
    last_intext: tuple[int, Reference] | None = None
    ctx: tuple[int, int, list[str]] | None = None  # (sentence, paragraph, forms) of the last sentence naming a form
    intro: tuple[int, list[str]] | None = None  # last sentence ending with a colon that names a form (a list follows)
    for sent, (parts, _hits) in zip(sentences, analysed, strict=True):
        clean = sent.clean
        ref = _reference(sent, norm) if ("《" in clean or sent.in_references or pats.ref_item.match(clean)) else None
        study = None
        if ref is None or ref.kind == "intext":
            study = _study_name(sent, norm) or _guideline(sent, norm, parts)
            if study is None and pats.cue["anaphora"].match(clean.lstrip()) and last_study and \
                    sent.index - last_study[0] <= 3:
                study = last_study[1].model_copy(update={"kind": "anaphora"})
        explicit_forms = bool(parts.forms) and not parts.foods
        clinical = bool(set(parts.outcome_groups) & CLINICAL_GROUPS) or any(
            vocab().get("outcome", o).get("group") in CLINICAL_GROUPS for o in parts.outcomes)
        effect_cue = bool(pats.cue["effect_cues"].search(clean))
        study_cue = bool(pats.cue["study_cues"].search(clean))
        numbers = [n for n in parts.numbers if n.kind in ("percent", "ratio", "dose", "fold")]
        specific = bool(parts.nums("duration") or parts.nums("n") or parts.nums("dose") or parts.comparator)
        described = bool(pats.cue["trial_description"].search(clean)) and bool(parts.nums("duration") or parts.nums("n"))
        unnamed = study is None and ref is None and (
            (pats.cue["study_intro"].search(clean) and study_cue) or described)
        if unnamed and specific and (explicit_forms or clinical or parts.outcomes or numbers):
            study = StudyMention(kind="unnamed", text=sent.text, start=sent.start, end=sent.end)
        elif unnamed and pats.cue["study_intro"].search(clean) and re.search(r"[:：]\s*$", clean):
            study = StudyMention(kind="unnamed", text=sent.text, start=sent.start, end=sent.end)
        list_item = bool(re.match(r"^\d+[.、)]\s*\D", clean)) and not re.match(r"^\d+\.\d", clean)
        section_heading = sent.heading and not list_item
        title = sent.index == 0 and not re.search(r"[。！？!?.]$", clean)
        if parts.question and ref is None and study is None:
            continue
        if pats.cue["meta_statements"].match(clean) and ref is None and study is None:
            continue
        if not parts.forms and (clinical or parts.outcomes) and (effect_cue or numbers):
            inherited = None
            if pats.cue["pronouns"].search(clean) or re.match(r"^(?:其|它)(?!他|它|中)", clean):
                inherited = ctx[2] if ctx and sent.index - ctx[0] <= 3 else doc_forms[:1]
            elif ctx and ctx[1] == sent.paragraph and sent.index - ctx[0] <= 2 and \
                    pats.cue["continuation"].match(clean):
                inherited = ctx[2]
            elif list_item and intro is not None and sent.index - intro[0] <= 8:
                inherited = intro[1]
            if inherited:
                parts.forms, parts.forms_inferred = list(inherited), True
        if explicit_forms:
            ctx = (sent.index, sent.paragraph, list(parts.forms))
            if re.search(r"[:：]\s*$", clean):
                intro = (sent.index, list(parts.forms))
        has_form = bool(parts.forms)
        kind = None
        if ref is not None:
            kind = "reference"
        elif study is not None:
            kind = "study"
        elif parts.anticoagulant and (parts.caution or parts.advice) and (has_form or "补" in clean):
            kind = "safety"
        elif parts.nums("dose") and (parts.advice or re.search(r"安全|safe", clean, re.I)) and has_form:
            kind = "dose"
        elif has_form and "pk" in parts.outcome_groups and pats.cue["comparison_cues"].search(clean):
            kind = "pk"
        elif has_form and (clinical or parts.outcomes) and parts.exposure in ("status", "deficiency") and (effect_cue or numbers):
            kind = "association"
        elif has_form and (clinical or any(vocab().get("outcome", o).get("group") not in ("pk",) for o in parts.outcomes)) \
                and (effect_cue or numbers) and not (parts.mechanism and not clinical):
            kind = "effect"
        elif has_form and parts.mechanism and effect_cue:
            kind = "mechanism"
        if kind is None or ((section_heading or title) and kind in ("effect", "mechanism", "association", "pk")):
            continue
        if not has_form and kind not in ("reference", "study", "safety"):
            continue
        if parts.forms_inferred and kind not in ("effect", "association", "study"):
            parts.forms, parts.forms_inferred = [], False
        claim = Claim(id=f"c{len(claims) + 1}", kind=kind, text=sent.text, start=sent.start, end=sent.end,
                      sentence=sent.index, clean=clean, parts=parts, study=study, reference=ref,
                      repairs=norm.repairs_in(sent.start, sent.end))
        if ref is not None:
            references.append(ref)
            if ref.kind == "intext":
                last_intext = (sent.index, ref)
        elif last_intext and sent.index - last_intext[0] == 1 and re.search(r"[:：]\s*$", sentences[last_intext[0]].clean):
            claim.attributed_to = last_intext[1]
        if study is not None and study.kind != "anaphora":
            studies.append(study)
            last_study = (sent.index, study)
        claims.append(claim)
    return Extraction(sentences, claims, studies, references, doc_forms, doc_groups)
