"""Just enough PDF reading for the tests: page count, the Info /Title, and the text the fonts map to Unicode."""

from __future__ import annotations

import re
import zlib

_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def page_count(data: bytes) -> int:
    """Count the page objects (/Type /Page, not /Pages)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def _literal(data: bytes, start: int) -> bytes:
    """Read a PDF literal string starting after its '(' : escapes and balanced parentheses."""
    out, depth, i = bytearray(), 1, start
    while True:
        c = data[i : i + 1]
        if c == b"\\":
            nxt = data[i + 1 : i + 2]
            if nxt.isdigit():
                digits = re.match(rb"[0-7]{1,3}", data[i + 1 : i + 4]).group()
                out.append(int(digits, 8))
                i += 1 + len(digits)
                continue
            out += _ESCAPES.get(nxt, nxt)
            i += 2
            continue
        if c == b"(":
            depth += 1
        elif c == b")":
            depth -= 1
            if depth == 0:
                return bytes(out)
        out += c
        i += 1


def _text(raw: bytes) -> str:
    """Decode a PDF text string: UTF-16BE with a byte-order mark, else PDFDocEncoding (latin-1 here)."""
    return raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")


def info_entry(data: bytes, key: str) -> str:
    """Read an Info entry such as Title, written as a literal (…) or hex <…> string."""
    match = re.search(rb"/" + key.encode() + rb"\s*([(<])", data)
    assert match, f"no /{key} in the PDF"
    if match.group(1) == b"(":
        return _text(_literal(data, match.end()))
    hex_digits = data[match.end() : data.index(b">", match.end())]
    return _text(bytes.fromhex(hex_digits.decode()))


def streams(data: bytes) -> list[bytes]:
    """Every stream's content, inflated when it is Flate-compressed."""
    out = []
    for match in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", match.end())
        body = data[match.end() : end]
        try:
            out.append(zlib.decompressobj().decompress(body))
        except zlib.error:
            out.append(body)
    return out


def mapped_characters(data: bytes) -> set[str]:
    """The characters the fonts' ToUnicode maps give, i.e. the text that can be searched and copied."""
    chars = set()
    for stream in streams(data):
        if b"beginbfrange" not in stream:
            continue
        for targets in re.findall(rb"\[([^\]]*)\]", stream):  # <first> <last> [<unicode> ...]
            for hex_digits in re.findall(rb"<([0-9A-Fa-f]+)>", targets):
                chars.update(bytes.fromhex(hex_digits.decode()).decode("utf-16-be"))
    return chars
