"""Food-name search: Chinese (simplified and traditional), pinyin, English, synonyms and typos.

Names come from ``data/foods/names.csv`` (Chinese names and aliases with their English names, recipes included)
and from every USDA SR28 description. Traditional characters are converted with OpenCC (``opencc_purepy``),
pinyin comes from ``pypinyin`` (so a homophone typo such as 波菜 still finds 菠菜), and misspellings are scored
with ``rapidfuzz``. Scores run 0-100; 100 means an exact name or alias.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from kbone.diet.foods import FoodTable, load_foods
from kbone.diet.schema import ALL_FORMS, Candidate
from kbone.errors import KboneInputError
from kbone.paths import data_path

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PUNCT = re.compile(r"[^\w\u3400-\u9fff]+")
#: A diary name is accepted when its best match scores at least this …
ACCEPT_SCORE = 88.0
#: … and no other food scores within this margin of it (else it is ambiguous).
AMBIGUITY_MARGIN = 3.0


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("oes"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def norm_en(text: str) -> str:
    """English matching key: NFKC, lower case, punctuation → space, singular words."""
    t = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_singular(w) for w in _PUNCT.sub(" ", t).split())


def norm_zh(text: str) -> str:
    """Chinese matching key: NFKC, no spaces or punctuation (characters kept as written)."""
    t = unicodedata.normalize("NFKC", text).lower()
    return _PUNCT.sub("", t)


def has_cjk(text: str) -> bool:
    return bool(CJK.search(text))


@lru_cache(maxsize=1)
def _t2s():
    from opencc_purepy import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC t2s); other text unchanged."""
    return _t2s().convert(text) if has_cjk(text) else text


def pinyin_key(text: str) -> str:
    """Toneless pinyin without separators (绿豆 → lvdou)."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text)).lower()


def norm_pinyin_query(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower().replace("ü", "v").replace("u:", "v")
    return re.sub(r"[^a-z]", "", t)


@dataclass(slots=True)
class Entry:
    """One named food: a Chinese name with its aliases, or (for USDA foods without one) an SR28 description."""

    key: str
    food_id: str
    name_zh: str | None
    name_en: str
    match_quality: str
    note: str
    aliases_zh: list[str] = field(default_factory=list)
    aliases_en: list[str] = field(default_factory=list)


class NameIndex:
    """Ranked name search over the food table."""

    def __init__(self, table: FoodTable):
        self.table = table
        self.entries: dict[str, Entry] = {}
        self.by_food: dict[str, str] = {}  # food id → first entry key
        self.zh: dict[str, str] = {}  # normalised zh name/alias → entry key
        self.en: dict[str, str] = {}  # normalised English name/alias/description → entry key
        self.py: dict[str, str] = {}  # pinyin → entry key
        self.display: dict[str, str] = {}  # normalised key → the spelling to show
        with data_path("foods", "names.csv").open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                e = Entry(key=r["name_zh"], food_id=r["food_id"], name_zh=r["name_zh"], name_en=r["name_en"],
                          match_quality=r["match_quality"], note=r["note"],
                          aliases_zh=[a for a in r["aliases_zh"].split("|") if a],
                          aliases_en=[a for a in r["aliases_en"].split("|") if a])
                self._add(e)
        for fid, food in table.foods.items():
            if food.ndb_no is None:
                continue
            key = self.by_food.get(fid)
            if key is None:
                key = "sr28:" + fid
                self._add(Entry(key=key, food_id=fid, name_zh=None, name_en=food.description, match_quality="exact",
                                note=""))
            self.en.setdefault(norm_en(food.description), key)
            self.display.setdefault(norm_en(food.description), food.description)
        self._resolved: dict[str, tuple] = {}
        self._zh_keys = list(self.zh)
        self._en_keys = list(self.en)
        self._py_keys = list(self.py)

    def _add(self, e: Entry) -> None:
        self.entries[e.key] = e
        self.by_food.setdefault(e.food_id, e.key)
        if e.name_zh:
            for s in [e.name_zh, *e.aliases_zh]:
                k = norm_zh(s)
                self.zh.setdefault(k, e.key)
                self.display.setdefault(k, s)
                self.py.setdefault(pinyin_key(s), e.key)
        for s in e.aliases_en:
            k = norm_en(s)
            self.en.setdefault(k, e.key)
            self.display.setdefault(k, s)

    # ---- search ------------------------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10) -> list[Candidate]:
        """Ranked candidates for ``query`` (zh, traditional zh, pinyin, English, ndb_no), best first."""
        scored = self._score(query)
        ranked = sorted(scored.items(), key=lambda kv: (-kv[1][0], self._rank_key(kv[0])))
        return [self.candidate(key, score, matched, method) for key, (score, matched, method) in ranked[:limit]]

    def _rank_key(self, key: str) -> tuple:
        e = self.entries[key]
        return (e.key.startswith("sr28:"), len(e.name_zh or e.name_en), e.key)

    def _score(self, query: str) -> dict[str, tuple[float, str, str]]:
        q = unicodedata.normalize("NFKC", str(query)).strip()
        if not q:
            raise KboneInputError("empty food name", field="food", fix="give a food name, e.g. 菠菜 or spinach")
        out: dict[str, tuple[float, str, str]] = {}

        def hit(key: str, score: float, matched: str, method: str) -> None:
            score = min(100.0, score)
            if key not in out or score > out[key][0]:
                out[key] = (round(score, 1), self.display.get(matched, matched), method)

        if re.fullmatch(r"\d{5}", q) and q in self.table:
            hit(self.by_food[q], 100, q, "ndb_no")
        if has_cjk(q):
            simp = to_simplified(q)
            k = norm_zh(simp)
            if k in self.zh:
                hit(self.zh[k], 100, k, "exact" if norm_zh(q) == k else "traditional")
            py = pinyin_key(k)
            if py in self.py:
                hit(self.py[py], 96, py, "pinyin")
            for key_s, score, _ in process.extract(k, self._zh_keys, scorer=fuzz.WRatio, limit=25, score_cutoff=55):
                hit(self.zh[key_s], score, key_s, "fuzzy")
            for key_s, score, _ in process.extract(py, self._py_keys, scorer=fuzz.ratio, limit=10, score_cutoff=85):
                hit(self.py[key_s], score * 0.95, key_s, "pinyin")
        else:
            k = norm_en(q)
            if k in self.en:
                hit(self.en[k], 100, k, "exact")
            pq = norm_pinyin_query(q)
            if pq and pq in self.py:
                hit(self.py[pq], 98, pq, "pinyin")
            for key_s, score, _ in process.extract(k, self._en_keys, scorer=fuzz.WRatio, limit=40, score_cutoff=60):
                curated = not self.en[key_s].startswith("sr28:") and self.display.get(key_s) != \
                    self.table.get(self.entries[self.en[key_s]].food_id).description
                hit(self.en[key_s], score if curated else score * 0.97, key_s, "fuzzy")
            if pq and len(pq) >= 4:
                for key_s, score, _ in process.extract(pq, self._py_keys, scorer=fuzz.ratio, limit=10,
                                                       score_cutoff=85):
                    hit(self.py[key_s], score * 0.97, key_s, "pinyin")
        return out

    def candidate(self, key: str, score: float, matched: str = "", method: str = "") -> Candidate:
        e = self.entries[key]
        food = self.table.get(e.food_id)
        names = [*e.aliases_zh, *[a for a in e.aliases_en if a != e.name_en]]
        return Candidate(food_id=e.food_id, ndb_no=food.ndb_no, recipe=food.recipe, name_zh=e.name_zh,
                         name_en=e.name_en, description=food.description, names=names, score=score, matched=matched,
                         method=method, match_quality=e.match_quality, note=e.note or food.note,
                         assumption=food.assumption, per_100g=food.content(),
                         sources={f: s for f, s in food.sources.items() if f in ALL_FORMS})

    # ---- resolution (diaries) ----------------------------------------------------------------------------------
    def resolve(self, text: str, use_cache: bool = True) \
            -> tuple[str, Entry, float, str] | tuple[None, list[Candidate], float, str]:
        """Resolve a diary food name.

        Returns ``(entry_key, entry, score, method)`` when one food is clearly meant, else
        ``(None, suggestions, best_score, reason)`` with reason ``unknown`` or ``ambiguous``. Answers are cached
        for the life of the index (the data are read-only); ``use_cache=False`` recomputes.
        """
        if use_cache:
            hit = self._resolved.get(text)
            if hit is None:
                if len(self._resolved) > 200_000:
                    self._resolved.clear()
                hit = self._resolved[text] = self._resolve(text)
            return hit
        return self._resolve(text)

    def _resolve(self, text: str):
        scored = self._score(text)
        if not scored:
            return None, [], 0.0, "unknown"
        ranked = sorted(scored.items(), key=lambda kv: (-kv[1][0], self._rank_key(kv[0])))
        best_key, (best, _m, method) = ranked[0]
        best_food = self.entries[best_key].food_id
        rivals = [s for k, (s, _, _) in ranked[1:] if self.entries[k].food_id != best_food]
        if best >= 100 or (best >= ACCEPT_SCORE and (not rivals or rivals[0] <= best - AMBIGUITY_MARGIN)):
            return best_key, self.entries[best_key], best, method
        sugg = [self.candidate(k, s, m, me) for k, (s, m, me) in ranked[:5]]
        return None, sugg, best, ("ambiguous" if best >= ACCEPT_SCORE else "unknown")


@lru_cache(maxsize=1)
def name_index() -> NameIndex:
    """The name index over the shipped food table (built once per process)."""
    return NameIndex(load_foods())


def search_foods(query: str, limit: int = 10) -> list[Candidate]:
    """Ranked food candidates for a name in Chinese (simplified/traditional), pinyin or English."""
    if limit < 1:
        raise KboneInputError(f"limit must be ≥ 1 (got {limit})", field="limit", fix="use --limit 10")
    return name_index().search(query, limit)
