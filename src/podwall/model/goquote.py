"""How Go prints values in the API server's messages: strconv.Quote and `%#v` of a slice.

Pure: no I/O here.
"""

from __future__ import annotations

from podwall.model.record import Record

_GO_ESCAPES = {
    "\a": r"\a",
    "\b": r"\b",
    "\f": r"\f",
    "\n": r"\n",
    "\r": r"\r",
    "\t": r"\t",
    "\v": r"\v",
    "\\": r"\\",
    '"': r"\"",
}


def go_quote(text: str) -> str:
    """strconv.Quote: double quotes, Go escapes, printable runes kept as they are."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")  # encoding/json decodes a lone surrogate to U+FFFD
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


class GoSlice(Record, kw_only=False):
    """A Go slice of a named string type, for values that upstream prints with `%#v`."""

    type_name: str
    items: tuple[str, ...]

    def __str__(self) -> str:
        return f"[]{self.type_name}{{{', '.join(go_quote(i) for i in self.items)}}}"
