"""Input decoding: UTF-8, GB18030/GBK and Big5 named when used; empty, binary, huge and garbage refused."""

from __future__ import annotations

import os

import pytest

from kbone.claims.decode import MAX_BYTES, decode_bytes
from kbone.errors import KboneInputError

SAMPLE = "抗凝治疗患者应谨慎补充维生素K，需由医生评估后决定剂量。骨质疏松症患者每天补充维生素K2。"


def test_utf8_and_bom():
    assert decode_bytes(SAMPLE.encode("utf-8")).encoding == "utf-8"
    d = decode_bytes(b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"))
    assert d.text == SAMPLE and d.encoding == "utf-8"
    assert decode_bytes(SAMPLE.encode("utf-16")).text == SAMPLE


def test_gbk_decoded_with_the_encoding_named():
    d = decode_bytes(SAMPLE.encode("gbk"))
    assert d.text == SAMPLE
    assert d.encoding == "GB18030"
    assert "GB18030" in d.note


def test_big5_decoded_with_the_encoding_named():
    trad = "抗凝治療患者應謹慎補充維生素K，需由醫生評估後決定劑量。骨質疏鬆症患者每天補充維生素K2。"
    d = decode_bytes(trad.encode("big5"))
    assert d.text == trad
    assert d.encoding == "Big5"


@pytest.mark.parametrize("raw,words", [
    (b"", "empty"),
    (b"   \n\t  ", "empty"),
    (b"\x00\x01\x02binary\x00\xff\xfe\x00" * 50, "binary"),
    (bytes(range(128, 256)) * 40, "not UTF-8"),
])
def test_bad_input_is_a_clear_error(raw, words):
    with pytest.raises(KboneInputError) as e:
        decode_bytes(raw, name="x.txt")
    assert words in str(e.value)
    assert e.value.problems[0].fix


def test_over_5_mb_is_refused():
    with pytest.raises(KboneInputError) as e:
        decode_bytes(b"a" * (MAX_BYTES + 1))
    assert "5 MB" in str(e.value)


def test_random_bytes_never_raise_anything_but_input_errors():
    rnd = os.urandom(4096)
    try:
        decode_bytes(rnd)
    except KboneInputError:
        pass
