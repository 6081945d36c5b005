"""The journal list (``data/claims/journals.yaml``): is a cited journal a real one kbone knows?

Names are matched after NFKC, lower-casing and removing spaces, dots and punctuation, against each
journal's Chinese and English names, ISO abbreviation and aliases. A miss returns the closest names
(rapidfuzz) so the reader can see what the article may have meant.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import yaml
from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process

from kbone.errors import KboneInputError, Problem
from kbone.paths import data_path


class Journal(BaseModel):
    id: str
    en: str
    zh: str | None = None
    abbrev: str | None = None
    aliases: list[str] = Field(default_factory=list)
    issn: str
    eissn: str | None = None
    language: str
    source: dict
    seen: str
    assumption: bool = False

    def label(self, lang: str = "en") -> str:
        if lang == "zh" and self.zh:
            return f"{self.zh}（{self.en}）" if self.language == "en" else self.zh
        return self.en if self.language == "en" or not self.zh else f"{self.en} ({self.zh})"


class JournalMatch(BaseModel):
    query: str
    journal: Journal | None = None
    suggestions: list[str] = Field(default_factory=list)
    foreign_translation: bool = False


def key(name: str) -> str:
    t = unicodedata.normalize("NFKC", name).lower()
    t = re.sub(r"^the\s+", "", t)
    t = re.sub(r"[\s.,:;'\"()（）《》〈〉\-–&_/·]", "", t)
    return t.replace("and", "")


class JournalList:
    def __init__(self) -> None:
        path = data_path("claims", "journals.yaml")
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            self.journals = [Journal(**j) for j in doc["journals"]]
        except Exception as e:  # malformed data file: a clear error naming the file
            raise KboneInputError(Problem(file=str(path), field="journals", reason=f"cannot load journal list: {e}",
                                          fix="restore data/claims/journals.yaml")) from None
        self.foreign_prefixes = list(doc.get("foreign_prefixes", []))
        self.index: dict[str, Journal] = {}
        self.display: dict[str, str] = {}
        for j in self.journals:
            for name in (j.en, j.zh, j.abbrev, *j.aliases):
                if name:
                    self.index.setdefault(key(name), j)
                    self.display.setdefault(key(name), name)

    def __len__(self) -> int:
        return len(self.journals)

    def lookup(self, name: str) -> JournalMatch:
        k = key(name)
        j = self.index.get(k)
        if j is None:
            k2 = re.sub(r"(?:电子版|杂志社|编辑部)$", "", k)
            j = self.index.get(k2)
        if j is not None:
            return JournalMatch(query=name, journal=j)
        sugg = []
        for cand, score, _ in process.extract(k, [x for x in self.index if len(x) >= 3], scorer=fuzz.ratio, limit=6):
            if score >= 45:
                label = self.index[cand].label("zh" if re.search(r"[\u4e00-\u9fff]", name) else "en")
                if label not in sugg:
                    sugg.append(label)
            if len(sugg) == 3:
                break
        foreign = any(name.startswith(p) for p in self.foreign_prefixes)
        return JournalMatch(query=name, suggestions=sugg, foreign_translation=foreign)


@lru_cache(maxsize=1)
def journals() -> JournalList:
    return JournalList()
