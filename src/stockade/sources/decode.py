"""Turning the bytes of an input into text the YAML parser may see.

Stockade reads UTF-8 (with or without a byte-order mark) and UTF-16/UTF-32 when a byte-order mark
says so. A NUL byte without such a mark means a binary file. Old Mac line ends (a lone CR) are
turned into LF so that Stockade's line numbers agree with the parser's.

YAML allows only printable characters in a stream; a raw control character (other than tab, LF,
CR and NEL) is refused here rather than passed on to reports and terminals.
"""

from __future__ import annotations

import codecs
import re


class DecodeProblem(Exception):
    """Why the bytes are not text Stockade will parse."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# For scan_text: indentation and block indicators become spaces, ASCII control characters NUL,
# every other byte (multi-byte UTF-8 sequences included) stays itself.
_SCAN_TABLE = bytes(
    0x20 if byte in b" \t?:-" else 0x00 if (byte < 0x20 and byte not in b"\n\r") or byte == 0x7F else byte
    for byte in range(256)
)

# The YAML 1.2 printable set, inverted (surrogates cannot survive decoding, so they are not listed).
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")

# C1 controls other than NEL, as UTF-8.
_C1_BYTES_RE = re.compile(b"\xc2[\x80-\x84\x86-\x9f]")

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian mark starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(data: bytes) -> str:
    """Decode one input, or raise :class:`DecodeProblem` saying why it cannot be read as text."""
    if data.startswith(codecs.BOM_UTF8):
        text = _decode(data[3:], "utf-8", offset=3, whole=data)
    else:
        for bom, encoding in _BOMS:
            if data.startswith(bom):
                text = _decode(data, encoding, offset=0, whole=data)
                break
        else:
            nul = data.find(b"\x00")
            if nul >= 0:
                raise DecodeProblem(
                    f"binary file (NUL byte at offset {nul}); expected UTF-8 text, "
                    "or UTF-16/UTF-32 with a byte-order mark",
                    data.count(b"\n", 0, nul) + 1,
                )
            text = _decode(data, "utf-8", offset=0, whole=data)
    nul = text.find("\x00")
    if nul >= 0:
        raise DecodeProblem(f"binary content (NUL character at character {nul})", text.count("\n", 0, nul) + 1)
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _decode(data: bytes, encoding: str, *, offset: int, whole: bytes) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        start = offset + exc.start
        line = whole.count(b"\n", 0, start) + 1
        column = start - (whole.rfind(b"\n", 0, start) + 1) + 1
        bad = whole[start : start + 1].hex()
        name = "UTF-8" if encoding == "utf-8" else encoding.upper()
        raise DecodeProblem(f"not valid {name}: byte 0x{bad} at line {line}, column {column}", line) from None


def scan_text(text: str, deep_width: int) -> tuple[bool, bool]:
    """Two cheap questions about ``text``, answered in one byte-translation pass:

    * does it hold a character YAML does not allow unescaped?
    * does some line start with ``deep_width`` or more spaces, tabs or ``-``/``?``/``:``
      indicators (the only way block collections nest, so the only way to nest deep)?
    """
    data = text.encode("utf-8", "surrogatepass")
    scanned = data.translate(_SCAN_TABLE)
    controls = b"\x00" in scanned
    if not controls and not text.isascii():
        controls = bool(b"\xc2" in data and _C1_BYTES_RE.search(data)) or "\ufffe" in text or "\uffff" in text
    run = b" " * deep_width
    deep = (b"\n" + run) in scanned or scanned.startswith(run)
    return controls, deep


def find_control_character(text: str, start: int = 0, end: int | None = None) -> int | None:
    """Offset of the first disallowed character in ``text[start:end]``, or None."""
    match = _CONTROL_RE.search(text, start, len(text) if end is None else end)
    return match.start() if match else None
