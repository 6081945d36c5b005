"""Medicine names → drugs and classes, through the vocabulary in ``data/drugs/drugs.yaml``.

Names are matched in Chinese (simplified or traditional) and English, generic or brand, ignoring case,
spaces, hyphens and full/half width: ``华法林钠``, ``Coumadin``, ``苄丙酮香豆素`` all resolve to warfarin.
Common suffixes of a product name (片, 胶囊, 注射液, tablets, 5 mg …) are stripped before a second try.
An unknown name raises :class:`KboneInputError` with the closest known names as suggestions.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml
from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz, process

from kbone.errors import KboneInputError, Problem
from kbone.paths import data_path
from kbone.vocab import normalize_key


class DrugClass(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    en: str
    zh: str
    source: dict


class Drug(BaseModel):
    """One medicine: INN id, zh/en names, classes, and every spelling it is known by."""

    model_config = ConfigDict(frozen=True)

    id: str
    en: str
    zh: str
    classes: tuple[str, ...]
    synonyms: tuple[str, ...] = ()
    class_source: dict | None = None

    def label(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


class Resolved(BaseModel):
    """A name as the user wrote it and the drug it resolved to."""

    name: str
    drug: Drug
    matched: str = Field(description="the vocabulary spelling that matched")
    brand_or_synonym: bool = False


_SUFFIXES = re.compile(
    r"(\d+(\.\d+)?\s*(mg|µg|ug|mcg|g|iu|毫克|微克|克|单位)?)|"
    r"(片|胶囊|软胶囊|注射液|注射用|颗粒|散|口服液|缓释片|肠溶片|分散片|干混悬剂|粉针|"
    r"tablets?|capsules?|injection|for injection|oral|sodium|钠)$", re.IGNORECASE)


def _t2s(text: str) -> str:
    return _cc().convert(text) if any("\u4e00" <= ch <= "\u9fff" for ch in text) else text


@lru_cache(maxsize=1)
def _cc():
    from opencc_purepy import OpenCC

    return OpenCC("t2s")


class DrugVocabulary:
    """All drugs and classes, indexed by every normalised spelling."""

    def __init__(self, drugs: list[Drug], classes: dict[str, DrugClass], names_source: str):
        self.drugs = {d.id: d for d in drugs}
        self.classes = classes
        self.names_source = names_source
        self._index: dict[str, tuple[Drug, str, bool]] = {}
        for d in drugs:
            for s in (d.id, d.en, d.zh):
                self._index.setdefault(normalize_key(s), (d, s, False))
        for d in drugs:
            for s in d.synonyms:
                self._index.setdefault(normalize_key(s), (d, s, True))
        for d in drugs:
            bad = [c for c in d.classes if c not in classes]
            if bad:
                raise ValueError(f"drugs.yaml: drug {d.id!r} names unknown class(es) {bad}")

    def find(self, name: str) -> Resolved | None:
        """The drug ``name`` names, or None."""
        raw = str(name).strip()
        for cand in _candidates(raw):
            hit = self._index.get(normalize_key(cand))
            if hit:
                d, s, syn = hit
                return Resolved(name=raw, drug=d, matched=s, brand_or_synonym=syn)
        return None

    def resolve(self, name: str, *, field: str = "medicines") -> Resolved:
        """Like :meth:`find`, but an unknown name raises with suggestions."""
        r = self.find(name)
        if r is None:
            raise KboneInputError(Problem(
                field=field, reason=f"unknown medicine {name!r}",
                fix="write the generic or brand name (Chinese or English), e.g. 华法林 / warfarin / Coumadin; "
                    "see src/kbone/data/drugs/drugs.yaml for the names kbone knows",
                suggestions=self.suggest(name)))
        return r

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Closest known drug names (label as 'generic (zh)')."""
        key = normalize_key(_t2s(str(name)))
        if not key:
            return []
        out: list[str] = []
        for k, _score, _ in process.extract(key, list(self._index), scorer=fuzz.WRatio, limit=n * 4):
            d = self._index[k][0]
            lbl = f"{d.en} ({d.zh})"
            if lbl not in out:
                out.append(lbl)
            if len(out) == n:
                break
        return out

    def in_class(self, drug_id: str, cls: str) -> bool:
        return cls in self.drugs[drug_id].classes


def _candidates(raw: str) -> list[str]:
    s = _t2s(raw)
    out = [raw, s]
    cur = s
    for _ in range(4):  # strip stacked suffixes: "华法林钠片 3mg"
        nxt = _SUFFIXES.sub("", cur.strip()).strip()
        if nxt == cur or not nxt:
            break
        out.append(nxt)
        cur = nxt
    return out


@lru_cache(maxsize=1)
def drug_vocab() -> DrugVocabulary:
    """The shipped drug vocabulary (loaded once)."""
    doc = yaml.safe_load(data_path("drugs", "drugs.yaml").read_text(encoding="utf-8"))
    classes = {k: DrugClass(id=k, **v) for k, v in doc["classes"].items()}
    drugs = []
    for raw in doc["drugs"]:
        raw = dict(raw)
        raw["classes"] = tuple(raw["classes"])
        raw["synonyms"] = tuple(str(s) for s in raw.get("synonyms", []) or [])
        drugs.append(Drug(**raw))
    return DrugVocabulary(drugs, classes, doc.get("names_source", "assumption"))
