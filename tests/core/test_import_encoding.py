"""core.imports reads a CSV in the encoding its whole content has: UTF-8 (with or without a byte-order
mark) first, else GB18030 (which covers GBK and GB2312, what Excel saves as "CSV" in Chinese); a file
that is neither is refused with one clear message. Both imports (allocation plans, verified
emissions) read through it."""

from __future__ import annotations

import io

import pytest

from core.errors import InvalidInput
from core.imports import _CHUNK, read_table

HEADER = "uscc,name,verified_emissions\r\n"
NAMES = ["华能济南电厂", "大唐南京热电", "国电投𠀀热电"]  # the last one has a character outside GBK (GB18030 only)


def read(content: bytes, filename: str = "v.csv"):
    return read_table(io.BytesIO(content), filename, required=["uscc", "verified_emissions"])


def text(names: list[str]) -> str:
    return HEADER + "".join(f"9137000000000000{index:02d},{name},{index}\r\n" for index, name in enumerate(names))


@pytest.mark.parametrize(("encoding", "names", "read_as"), [
    ("utf-8", NAMES, "utf-8-sig"),
    ("utf-8-sig", NAMES, "utf-8-sig"),
    ("gb18030", NAMES, "gb18030"),
    ("gbk", NAMES[:2], "gb18030"),
    ("gb2312", NAMES[:2], "gb18030"),
], ids=["utf-8", "utf-8-bom", "gb18030", "gbk", "gb2312"])
def test_a_csv_is_read_in_its_encoding(encoding, names, read_as):
    rows = read(text(names).encode(encoding))
    assert rows.encoding == read_as
    assert rows.header == ["uscc", "name", "verified_emissions"]  # no byte-order mark glued to the first name
    assert [row.values["name"] for row in rows] == names
    assert [row.number for row in rows] == list(range(2, 2 + len(names)))  # file order, spreadsheet numbering


def test_a_gb18030_byte_order_mark_is_not_part_of_the_first_column():
    rows = read(("\ufeff" + text(NAMES)).encode("gb18030"))
    assert rows.header[0] == "uscc" and rows[0].values["uscc"] == "913700000000000000"


def test_the_encoding_is_decided_by_the_whole_file_not_its_first_chunk():
    # ASCII for more than a chunk, then the Chinese: a GBK file is not taken for UTF-8 (and refused
    # half-way), nor a UTF-8 file for GB18030.
    filler = "".join(f"9137000000000{index:05d},ascii only,{index}\r\n" for index in range(_CHUNK // 30 + 10))
    for encoding, read_as in (("gbk", "gb18030"), ("utf-8", "utf-8-sig")):
        content = (HEADER + filler + f"913799999999999999,{NAMES[1]},5\r\n").encode(encoding)
        assert len(content) > _CHUNK
        rows = read(content)
        assert rows.encoding == read_as and rows[-1].values["name"] == NAMES[1]


@pytest.mark.parametrize("content", [
    text(NAMES).encode("utf-16"),  # Excel's "Unicode text"
    HEADER.encode() + b"913700000000000000,\x80\xff\xfe,5\r\n",  # bytes no text encoding has
], ids=["utf-16", "binary"])
def test_a_csv_that_is_neither_utf8_nor_gb18030_is_refused_clearly(content):
    with pytest.raises(InvalidInput) as refused:
        read(content)
    assert refused.value.field == "file"
    assert "neither UTF-8 nor GB18030" in refused.value.message and "CSV UTF-8" in refused.value.message


def test_a_stream_that_cannot_seek_is_read_too():
    class Pipe(io.RawIOBase):
        def __init__(self, content: bytes) -> None:
            self._content = io.BytesIO(content)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self._content.read(len(buffer))
            buffer[:len(chunk)] = chunk
            return len(chunk)

    rows = read_table(Pipe(text(NAMES).encode("gb18030")), "v.csv", required=["uscc"])
    assert [row.values["name"] for row in rows] == NAMES


def test_the_callers_stream_is_left_open():
    stream = io.BytesIO(text(NAMES[:1]).encode("gbk"))
    read_table(stream, "v.csv", required=["uscc"])
    assert not stream.closed
