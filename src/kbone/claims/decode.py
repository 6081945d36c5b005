"""Turn input bytes into text, or refuse with a clear reason (empty, binary, too large, undecodable).

UTF-8 (with or without BOM) and UTF-16 with a BOM are read as they are. Other bytes are tried as GB18030
(a superset of GBK and GB2312) and Big5 with Python's codecs; the candidate whose characters are the most
common Chinese words (jieba's dictionary frequencies) wins and its encoding is named in the result.
"""

from __future__ import annotations

import codecs
import math
import re

from pydantic import BaseModel

from kbone.errors import KboneInputError, Problem

MAX_BYTES = 5 * 1024 * 1024
_CJK = re.compile(r"[\u4e00-\u9fff]")


class Decoded(BaseModel):
    text: str
    encoding: str
    bytes: int
    note: str | None = None


def _bad(reason: str, fix: str, field: str = "input") -> KboneInputError:
    return KboneInputError(Problem(field=field, reason=reason, fix=fix))


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\n\r\t\f\v") or 0xE000 <= ord(c) <= 0xF8FF or c == "\ufffd")
    return bad / len(text)


def _plausibility(text: str) -> float:
    """Mean log frequency of the Chinese characters (jieba dictionary); higher = more like real Chinese."""
    from kbone.claims.tokenize import tokenizer

    freq = tokenizer().FREQ
    chars = _CJK.findall(text[:20000])
    if not chars:
        return 0.0
    return sum(math.log(freq.get(c, 0) + 1) for c in chars) / len(chars)


def decode_bytes(raw: bytes, *, name: str = "input") -> Decoded:
    """Decode ``raw`` or raise :class:`KboneInputError` (the CLI turns it into exit status 2)."""
    n = len(raw)
    if n > MAX_BYTES:
        raise _bad(f"{name} is {n / 1024 / 1024:.1f} MB; kbone checks texts up to 5 MB",
                   "split the text into articles of at most 5 MB")
    if not raw.strip(b" \t\r\n\f\v\x00"):
        raise _bad(f"{name} is empty", "give a file (or standard input) that contains the article text")
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                text = raw.decode(enc)
            except UnicodeDecodeError as e:
                raise _bad(f"{name} starts with a {enc} byte-order mark but is not valid {enc} (byte {e.start})",
                           "save the file as UTF-8") from None
            return _check_text(Decoded(text=text, encoding=enc.replace("-sig", ""), bytes=n), name)
    if b"\x00" in raw[:8192]:
        raise _bad(f"{name} looks binary (it contains NUL bytes), not text",
                   "give a plain-text article (.txt); convert PDF or Word files to text first")
    try:
        return _check_text(Decoded(text=raw.decode("utf-8"), encoding="utf-8", bytes=n), name)
    except UnicodeDecodeError as e:
        utf8_error = f"{e.reason} at byte {e.start}"
    candidates = []
    for enc in ("gb18030", "big5"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if _control_share(text) > 0.01:
            continue
        candidates.append((_plausibility(text), enc, text))
    if not candidates:
        raise _bad(f"{name} is not UTF-8 ({utf8_error}), nor GB18030/GBK or Big5 text",
                   "save the file as UTF-8 (e.g. iconv -f <encoding> -t UTF-8)")
    candidates.sort(key=lambda c: -c[0])
    score, enc, text = candidates[0]
    if score < 6.0 and _CJK.search(text):
        raise _bad(f"{name} is not UTF-8 ({utf8_error}); decoding it as {enc.upper()} gives unlikely characters",
                   "save the file as UTF-8 (e.g. iconv -f <encoding> -t UTF-8)")
    label = {"gb18030": "GB18030", "big5": "Big5"}[enc]
    return _check_text(Decoded(text=text, encoding=label, bytes=n,
                               note=f"not UTF-8; decoded as {label} (Python codec '{enc}')"), name)


def _check_text(d: Decoded, name: str) -> Decoded:
    if _control_share(d.text) > 0.05:
        raise _bad(f"{name} looks binary ({_control_share(d.text):.0%} control characters), not text",
                   "give a plain-text article (.txt)")
    if not d.text.strip():
        raise _bad(f"{name} is empty", "give a file (or standard input) that contains the article text")
    return d
