"""Normalise article text and repair OCR damage — every change recorded, nothing rewritten silently.

Passes, in order: web boilerplate lines removed (copyright, ICP, leaked template code, share prompts);
full-width → half-width (Chinese sentence punctuation kept); traditional → simplified (``opencc_purepy``,
only on lines that are traditional); layout (hard-wrapped lines joined, blank lines collapsed); and, for
OCR-damaged text, OCR repair driven by the vocabulary (stray citation marks, subscript loss such as
``维生素K：`` → ``维生素K2``, glyph confusions such as ``0bjective`` → ``Objective``, ``13本人`` → ``日本人``).

Every content change is a :class:`Repair` with its position in the *original* input (``start``/``end`` are
code-point offsets into the decoded input), the text before and after, and the rule id. Whitespace and
line-join changes are counted in ``layout_changes``. :meth:`Normalized.to_original` maps a span of the
clean text back to the original input, so a sentence found in clean text can be quoted exactly.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel, Field, PrivateAttr

from kbone.claims.rules import norm_rules
from kbone.vocab import vocab

_CJK = re.compile(r"[\u4e00-\u9fff]")
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


class Repair(BaseModel):
    """One change to the text: original span, before, after, the rule that made it and why."""

    start: int = Field(description="offset of the first changed character in the original input")
    end: int = Field(description="offset after the last changed character in the original input")
    before: str
    after: str
    rule: str
    note: str | None = None


class Normalized(BaseModel):
    """Clean text, the repairs that produced it and the map back to the original input."""

    original: str
    text: str
    repairs: list[Repair] = Field(default_factory=list)
    layout_changes: int = 0
    ocr: bool = Field(False, description="OCR repair was applied")
    ocr_signals: int = 0
    converted_traditional: bool = False
    _starts: list[int] = PrivateAttr(default_factory=list)
    _ends: list[int] = PrivateAttr(default_factory=list)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original-input span of the clean-text span ``[start, end)``."""
        if end <= start:
            pos = self._starts[start] if start < len(self._starts) else len(self.original)
            return pos, pos
        return self._starts[start], self._ends[end - 1]

    def repairs_in(self, start: int, end: int) -> list[Repair]:
        """Repairs whose original span lies within ``[start, end)`` of the original input."""
        return [r for r in self.repairs if r.start >= start and r.end <= end and not r.rule.startswith("boilerplate")]


class _Buffer:
    """Text plus, for every character, the original span it came from."""

    def __init__(self, text: str):
        self.original = text
        self.text = text
        self.starts = list(range(len(text)))
        self.ends = list(range(1, len(text) + 1))
        self.repairs: list[Repair] = []
        self.layout = 0

    def apply(self, edits: list[tuple[int, int, str, str | None, str | None]]) -> None:
        """Apply non-overlapping edits ``(start, end, replacement, rule, note)`` (current coordinates).

        ``rule=None`` marks a layout edit (counted, not listed).
        """
        if not edits:
            return
        edits = sorted(edits, key=lambda e: (e[0], e[1]))
        out: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        n = len(self.text)
        for s, e, rep, rule, note in edits:
            if s < pos:  # overlapping edit: skip it
                continue
            out.append(self.text[pos:s])
            starts.extend(self.starts[pos:s])
            ends.extend(self.ends[pos:s])
            if e > s:
                o_s, o_e = self.starts[s], self.ends[e - 1]
            else:
                o_s = self.starts[s] if s < n else (self.ends[-1] if n else 0)
                o_e = o_s
            out.append(rep)
            starts.extend([o_s] * len(rep))
            ends.extend([o_e] * len(rep))
            if rule is None:
                self.layout += 1
            else:
                self.repairs.append(Repair(start=o_s, end=o_e, before=self.original[o_s:o_e], after=rep,
                                           rule=rule, note=note))
            pos = e
        out.append(self.text[pos:])
        starts.extend(self.starts[pos:])
        ends.extend(self.ends[pos:])
        self.text = "".join(out)
        self.starts, self.ends = starts, ends


# ---- passes --------------------------------------------------------------------------------------

def _boilerplate(buf: _Buffer) -> None:
    rules = norm_rules().boilerplate
    edits = []
    pos = 0
    for line in buf.text.split("\n"):
        end = pos + len(line)
        if line.strip():
            for rule, rx in rules:
                if rx.search(line):
                    stop = end + 1 if end < len(buf.text) else end
                    edits.append((pos, stop, "", f"boilerplate:{rule}", "web boilerplate line removed"))
                    break
        pos = end + 1
    buf.apply(edits)


def _width(buf: _Buffer) -> None:
    keep = norm_rules().keep_fullwidth
    edits = []
    run_s = run_e = -1
    run = []
    for i, ch in enumerate(buf.text):
        o = ord(ch)
        rep = None
        if 0xFF01 <= o <= 0xFF5E and ch not in keep:
            rep = chr(o - 0xFEE0)
        elif ch == "\u3000" or ch == "\u00a0":
            rep = " "
        elif ch in _INVISIBLE:
            rep = ""
        if rep is None:
            continue
        if i == run_e:
            run_e = i + 1
            run.append(rep)
        else:
            if run_s >= 0:
                edits.append((run_s, run_e, "".join(run), "width", "full-width to half-width"))
            run_s, run_e, run = i, i + 1, [rep]
    if run_s >= 0:
        edits.append((run_s, run_e, "".join(run), "width", "full-width to half-width"))
    buf.apply(edits)


@lru_cache(maxsize=1)
def _opencc():
    import opencc_purepy

    cc = opencc_purepy.OpenCC("t2s")
    ts = cc.dictionary.ts_characters[0]
    return cc, ts


def _traditional(buf: _Buffer) -> bool:
    """Convert lines written in traditional characters to simplified (per line, only where traditional)."""
    if not _CJK.search(buf.text):
        return False
    cc, ts = _opencc()
    also = norm_rules().simplified_too
    edits = []
    pos = 0
    for line in buf.text.split("\n"):
        n_trad = sum(1 for ch in line if ch in ts and ch not in also)
        if n_trad >= 2 or (n_trad == 1 and len(_CJK.findall(line)) <= 4):
            conv = cc.convert(line)
            if len(conv) == len(line):
                i = 0
                while i < len(line):
                    if conv[i] != line[i]:
                        j = i
                        while j < len(line) and conv[j] != line[j]:
                            j += 1
                        edits.append((pos + i, pos + j, conv[i:j], "t2s", "traditional to simplified (OpenCC t2s)"))
                        i = j
                    else:
                        i += 1
            elif conv != line:
                edits.append((pos, pos + len(line), conv, "t2s", "traditional to simplified (OpenCC t2s)"))
        pos += len(line) + 1
    buf.apply(edits)
    return bool(edits)


def display_width(s: str) -> int:
    return sum(2 if ord(c) > 0x2E7F else 1 for c in s)


_HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\s*[\u4e00-\u9fffA-Za-z]|[一二三四五六七八九十]+[、.]|第[一二三四五六七八九十\d]+[章节部分]|"
                      r"(?:摘要|关键词|abstract|keywords?|references?|参考文献|参考资料)\b)", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^(?:\d+[.、．)]|\(\d+\)|（[一二三四五六七八九十\d]+）|[一二三四五六七八九十]+、|[①-⑳•·▪◆■\-*])")


def _ends_terminal(line: str, colon: bool = True) -> bool:
    """Does the line end a sentence (terminal punctuation, an English full stop, or a colon if ``colon``)?"""
    r = norm_rules()
    s = line.rstrip()
    while s and s[-1] in r.closers:
        s = s[:-1]
    if not s:
        return False
    if s[-1] == "." and len(s) > 1 and (s[-2].isalpha() or s[-2] in ")）"):
        return True
    return s[-1] in r.terminal or (colon and s[-1] in ":：")


def _layout(buf: _Buffer) -> None:
    """Strip line-edge spaces, collapse blank lines, join hard-wrapped lines."""
    text = buf.text
    spans = []  # (line_start, content_start, content_end, line_end)
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        stripped = line.strip(" \t\r\f\v")
        if stripped:
            cs = pos + (len(line) - len(line.lstrip(" \t\r\f\v")))
            spans.append((pos, cs, cs + len(stripped), end))
        pos = end + 1
    if not spans:
        return
    contents = [text[cs:ce] for _, cs, ce, _ in spans]
    widths = sorted(display_width(c) for c in contents)
    full = widths[int(0.75 * (len(widths) - 1))] if widths else 0
    unterminated = sum(1 for c in contents[:-1] if not _ends_terminal(c))
    hard_wrapped = len(contents) >= 6 and unterminated >= 0.5 * (len(contents) - 1)
    edits: list = []
    first_ls, first_cs = spans[0][0], spans[0][1]
    if first_cs > 0:
        edits.append((0, first_cs, "", None, None))
    elif first_ls < first_cs:
        edits.append((first_ls, first_cs, "", None, None))
    for k in range(len(spans) - 1):
        _, _, ce, _ = spans[k]
        _, ncs, _, _ = spans[k + 1]
        prev, nxt = contents[k], contents[k + 1]
        gap = text[ce:ncs]
        if hard_wrapped and not _break_between(prev, nxt, k == 0, full):
            a, b = prev[-1], nxt[0]
            sep = " " if (a.isascii() and a.isalnum() or a in ",;.") and b.isascii() and b.isalnum() else ""
            if gap != sep:
                edits.append((ce, ncs, sep, None, None))
        elif gap != "\n":
            edits.append((ce, ncs, "\n", None, None))
    last_ce = spans[-1][2]
    if last_ce < len(text):
        edits.append((last_ce, len(text), "", None, None))
    buf.apply(edits)


def _break_between(prev: str, nxt: str, prev_is_first: bool, full: int) -> bool:
    """In hard-wrapped text: does a paragraph (or heading) end between these two lines?"""
    if _ends_terminal(prev, colon=False):
        return True
    w = display_width(prev)
    short = w < 0.6 * full
    heading = bool(_HEADING.match(prev)) and w < 0.85 * full
    if prev_is_first and w < 0.8 * full:
        return True  # a title
    if heading:
        return True
    if prev[-1:].isascii() and prev[-1:].isalpha() and nxt[:1].islower():
        return False  # English sentence running on
    if prev[-1] in "，,、(（-–":
        return False
    if short:
        return True
    if _LIST_ITEM.match(nxt) and (_HEADING.match(nxt) or _LIST_ITEM.match(prev)):
        return display_width(nxt) < 0.8 * full
    return False


# ---- OCR repair ----------------------------------------------------------------------------------

def ocr_signals(text: str) -> int:
    """How many OCR-damage signals the text shows (stray citation marks, subscript loss …)."""
    return sum(len(rx.findall(text)) for rx in norm_rules().ocr_signals)


def _matches(patterns, text):
    found = []
    for rx in patterns:
        for m in rx.finditer(text):
            if m.end() > m.start():
                found.append((m.start(), m.end()))
    found.sort(key=lambda x: (x[0], -(x[1] - x[0])))
    out, last = [], -1
    for s, e in found:
        if s >= last:
            out.append((s, e))
            last = e
    return out


def _citation_marks(buf: _Buffer) -> None:
    r = norm_rules()
    edits = [(s, e, "", "ocr_citation_mark", "stray citation mark removed") for s, e in _matches(r.citation_marks, buf.text)]
    buf.apply(edits)
    stop = r.double_stop
    edits = []
    i = buf.text.find(stop)
    while i >= 0:
        edits.append((i, i + len(stop), stop[0], "ocr_double_stop", "doubled full stop"))
        i = buf.text.find(stop, i + len(stop))
    buf.apply(edits)


_K2_EXPLICIT = re.compile(r"K\s?2(?!\d)|K[：:’‘]|MK-?\d")
_K1_EXPLICIT = re.compile(r"K\s?1(?!\d)|phylloquinone|叶绿醌")


def _dominant_form(text: str) -> str | None:
    first = text.split("\n", 1)[0]
    k2 = len(_K2_EXPLICIT.findall(text)) + 3 * len(_K2_EXPLICIT.findall(first))
    k1 = len(_K1_EXPLICIT.findall(text)) + 3 * len(_K1_EXPLICIT.findall(first))
    if k2 > k1:
        return "2"
    if k1 > k2:
        return "1"
    return None


def _subscripts(buf: _Buffer) -> None:
    r = norm_rules()
    text = buf.text
    dominant = _dominant_form(text)
    edits = []
    for m in r.subscript.finditer(text):
        mark = m.group("mark")
        i = m.start("mark")
        nxt = text[i + 1:i + 2]
        if mark in r.marks_2:
            digit, note = "2", f"'{mark}' after K is a lost subscript 2"
        elif mark in r.marks_1:
            if not r.after_1.match(nxt):
                continue
            digit, note = "1", f"'{mark}' after K followed by '{nxt}' is a lost subscript 1"
        else:
            window = text[max(0, m.start() - r.context_window):m.end() + r.context_window]
            k1, k2 = r.k1_context.search(window), r.k2_context.search(window)
            if k1 and not k2:
                digit, note = "1", f"ambiguous '{mark}' after K read as 1 (context: {k1.group(0)})"
            elif k2 and not k1:
                digit, note = "2", f"ambiguous '{mark}' after K read as 2 (context: {k2.group(0)})"
            elif dominant:
                digit, note = dominant, f"ambiguous '{mark}' after K read as {dominant} (the form the document names most)"
            else:
                continue
        # keep a following number apart: "K：2年" is K2 taken for 2 years, not "K22年"
        edits.append((i, i + 1, digit + (" " if nxt.isdigit() else ""), f"ocr_subscript_k{digit}", note))
    buf.apply(edits)


@lru_cache(maxsize=1)
def _known_words() -> tuple[frozenset, frozenset, int]:
    """Known CJK words (vocabulary surface forms + jieba dictionary) and Latin words (lower case)."""
    from kbone.claims.tokenize import tokenizer

    cjk, latin = set(), set(norm_rules().words)
    for s in vocab().surface_forms():
        if _CJK.search(s):
            cjk.add(s)
        elif s.isascii():
            latin.add(s.lower())
    tk = tokenizer()
    return frozenset(cjk), frozenset(latin), id(tk)


def _cjk_word_at(text: str, i: int) -> str | None:
    from kbone.claims.tokenize import tokenizer

    cjk, _, _ = _known_words()
    freq = tokenizer().FREQ
    best = None
    for k in range(3, 7):
        w = text[i:i + k]
        if len(w) < k:
            break
        if w in cjk or freq.get(w):
            best = w
    return best


_ROMAN = re.compile(r"^(?:I{1,3}|IV|VI{0,3}|IX|X{1,3})$")


def _confusions(buf: _Buffer) -> None:
    r = norm_rules()
    text = buf.text
    edits = []
    for c in r.confusions:
        for m in c["regex"].finditer(text):
            s, e = m.span("x")
            x = m.group("x")
            frm, to = str(c["from"]), str(c["to"])
            rep = "".join(to[frm.index(ch)] if ch in frm else ch for ch in x) if len(frm) == len(to) else to
            if rep == x:
                continue
            v = c.get("validate", "none")
            candidate = text[:s] + rep + text[e:]
            if v == "cjk_word":
                word = _cjk_word_at(candidate, s)
                if not word:
                    continue
                note = f"'{x}' read as '{rep}' (forms the known word {word})"
            elif v == "latin_word":
                ws = re.match(r"[A-Za-z]+", candidate[s:])
                _, latin, _ = _known_words()
                if not ws or ws.group(0).lower() not in latin:
                    continue
                note = f"'{x}' read as '{rep}' (forms the word {ws.group(0)})"
            elif v == "roman":
                if not _ROMAN.match(rep):
                    continue
                note = f"'{x}' read as Roman numeral '{rep}'"
            else:
                note = f"'{x}' read as '{rep}'"
            edits.append((s, e, rep, c["rule"], note))
    buf.apply(edits)


def normalize(text: str, *, ocr: bool | None = None) -> Normalized:
    """Normalise ``text``; ``ocr=None`` applies OCR repair only when the text shows OCR damage."""
    buf = _Buffer(text)
    _boilerplate(buf)
    _width(buf)
    converted = _traditional(buf)
    _layout(buf)
    signals = ocr_signals(buf.text)
    use_ocr = signals >= norm_rules().ocr_min_signals if ocr is None else ocr
    if use_ocr:
        _citation_marks(buf)
        _subscripts(buf)
        _confusions(buf)
    out = Normalized(original=text, text=buf.text, repairs=sorted(buf.repairs, key=lambda r: (r.start, r.end)),
                     layout_changes=buf.layout, ocr=use_ocr, ocr_signals=signals, converted_traditional=converted)
    out._starts, out._ends = buf.starts, buf.ends
    return out
