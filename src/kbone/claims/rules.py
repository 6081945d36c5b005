"""The claims part's data files (``data/claims/*.yaml``), loaded once and compiled.

``lexicon()`` cue words, ``patterns()`` compiled regular expressions, ``norm_rules()`` normalisation and
OCR rules, ``messages()`` bilingual reason templates. Malformed files raise :class:`KboneInputError`
naming the file and the fault.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

from kbone.errors import KboneInputError, Problem
from kbone.paths import data_path


def _load(name: str) -> dict[str, Any]:
    path = data_path("claims", name)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise KboneInputError(Problem(file=str(path), field="file", reason=f"cannot read claims data: {e}",
                                      fix="restore the file from the repository")) from None
    if not isinstance(doc, dict):
        raise KboneInputError(Problem(file=str(path), field="file", reason="expected a mapping"))
    return doc


def _compile(pattern: str, name: str, macros: dict[str, str] | None = None, flags: int = 0) -> re.Pattern:
    for k, v in (macros or {}).items():
        pattern = pattern.replace("{" + k + "}", v)
    try:
        return re.compile(pattern, flags)
    except re.error as e:
        raise KboneInputError(Problem(file="data/claims", field=name, reason=f"bad regular expression: {e}",
                                      fix="fix the pattern")) from None


def words(entry: dict | list | None) -> list[str]:
    """All words of a ``{zh: [...], en: [...]}`` entry (or a plain list)."""
    if entry is None:
        return []
    if isinstance(entry, list):
        return [str(w) for w in entry]
    return [str(w) for lang in ("zh", "en") for w in entry.get(lang, []) or []]


def trie_regex(words: list[str]) -> str:
    """A regex matching any of ``words``, built as a prefix tree: fast, and longest match first."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if end else body

    return build(trie) if trie else r"(?!x)x"


def any_of(ws: list[str], *, word_boundary_ascii: bool = True, flags: int = re.IGNORECASE) -> re.Pattern:
    """One regex matching any of ``ws`` (longest first); purely ASCII words get word boundaries."""
    ws = sorted(set(w for w in ws if w))
    if flags & re.IGNORECASE:
        ws = sorted(set(w.lower() for w in ws))
    ascii_words = [w for w in ws if word_boundary_ascii and w.isascii() and w[:1].isalnum()]
    other = [w for w in ws if w not in set(ascii_words)]
    parts = []
    if other:
        parts.append(trie_regex(other))
    if ascii_words:
        parts.append(r"(?<![A-Za-z0-9])" + trie_regex(ascii_words) + r"(?![A-Za-z0-9])")
    return re.compile("|".join(f"(?:{p})" for p in parts) if parts else r"(?!x)x", flags)


@lru_cache(maxsize=1)
def lexicon() -> dict[str, Any]:
    return _load("lexicon.yaml")


class Foods:
    """Foods as vitamin K exposures (``foods.yaml``): one regex over every food word, word → (food id, form)."""

    def __init__(self) -> None:
        from kbone.vocab import vocab

        doc = _load("foods.yaml")
        self.by_word: dict[str, tuple[str, str]] = {}
        for f in doc.get("foods", []):
            fid, form = f.get("id"), f.get("form")
            if not fid or not vocab().has("form", form):
                raise KboneInputError(Problem(file="data/claims/foods.yaml", field=f"foods.{fid}.form",
                                              reason=f"unknown vitamin K form {form!r}",
                                              fix="use a form id from data/vocab/forms.yaml (K1, MK-4, MK-7, K2 …)"))
            for w in words(f):
                self.by_word[w.lower()] = (fid, form)
        self.regex = any_of(list(self.by_word))

    def find(self, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, food id, form) for each food word in ``text``."""
        return [(m.start(), m.end(), *self.by_word[m.group(0).lower()]) for m in self.regex.finditer(text)]


@lru_cache(maxsize=1)
def foods() -> Foods:
    return Foods()


@lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    doc = _load("messages.yaml")
    out = {}
    for key, val in doc.get("messages", {}).items():
        if not isinstance(val, dict) or not {"en", "zh"} <= set(val):
            raise KboneInputError(Problem(file="data/claims/messages.yaml", field=key,
                                          reason="every message needs both 'en' and 'zh'"))
        out[key] = val
    return out


class Patterns:
    """Compiled patterns from ``patterns.yaml`` and cue regexes from ``lexicon.yaml``."""

    def __init__(self) -> None:
        doc = _load("patterns.yaml")
        macros = doc.get("macros", {})
        self.numbers = {k: _compile(v, f"numbers.{k}", macros, re.IGNORECASE) for k, v in doc["numbers"].items()}
        self.year = _compile(doc["year"], "year", macros)
        self.study_name = _compile(doc["study_name"], "study_name", macros)
        refs = doc["references"]
        self.ref_zh = _compile(refs["zh"], "references.zh", macros)
        self.ref_en = _compile(refs["en"], "references.en", macros)
        self.ref_intext_zh = _compile(refs["intext_zh"], "references.intext_zh", macros)
        self.ref_heading = _compile(refs["heading"], "references.heading", macros, re.IGNORECASE)
        self.ref_item = _compile(refs["item"], "references.item", macros)
        lex = lexicon()
        self.cue = {k: any_of(words(lex[k])) for k in (
            "effect_cues", "study_cues", "anaphora", "caution_cues", "advice_cues", "hedges", "mechanism_cues",
            "anticoagulants", "study_intro", "status_cues", "intervention_cues", "guideline_cues",
            "positive_quantities", "trial_description", "comparison_cues", "continuation", "pronouns",
            "negative_quantities", "meta_statements", "causal_cues")}
        self.direction = {k: any_of(words(v)) for k, v in lex["direction"].items()}
        self.outcome_groups = {g: any_of(words(v)) for g, v in lex["outcome_groups"].items()}
        self.group_aliases: dict[str, list[str]] = dict(lex.get("group_aliases", {}))
        self.comparators = {c: any_of(words(v)) for c, v in lex["comparators"].items()}


@lru_cache(maxsize=1)
def patterns() -> Patterns:
    return Patterns()


class NormRules:
    """Compiled normalisation rules from ``normalize.yaml``."""

    def __init__(self) -> None:
        doc = _load("normalize.yaml")
        self.boilerplate = [(rule, _compile(p, f"boilerplate.{rule}"))
                            for rule, ps in doc["boilerplate"].items() for p in ps]
        self.keep_fullwidth = set(doc["keep_fullwidth"])
        self.simplified_too = set(doc["simplified_too"])
        self.terminal = set(doc["terminal"])
        self.closers = set(doc["closers"])
        ocr = doc["ocr"]
        self.ocr_min_signals = int(ocr["min_signals"])
        self.ocr_signals = [_compile(p, "ocr.signals") for p in ocr["signals"]]
        self.citation_marks = [_compile(p, "ocr.citation_marks") for p in ocr["citation_marks"]]
        self.double_stop = ocr["double_stop"]
        sub = ocr["subscript"]
        marks = re.escape(sub["marks_2"] + sub["marks_1"] + sub["ambiguous"])
        self.subscript = _compile(sub["prefix"] + r"\s?K(?P<mark>[" + marks + "])", "ocr.subscript")
        self.marks_2 = set(sub["marks_2"])
        self.marks_1 = set(sub["marks_1"])
        self.after_1 = _compile(sub["after_1"], "ocr.subscript.after_1")
        self.context_window = int(sub["context_window"])
        self.k1_context = any_of(sub["k1_context"])
        self.k2_context = any_of(sub["k2_context"])
        self.confusions = []
        for c in ocr["confusions"]:
            self.confusions.append({**c, "regex": _compile(c["pattern"], f"ocr.confusions.{c['rule']}")})
        self.words = {w.lower() for w in ocr["words"]}


@lru_cache(maxsize=1)
def norm_rules() -> NormRules:
    return NormRules()
