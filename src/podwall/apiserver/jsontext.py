"""JSON text on the write path: msgspec's encoder and decoder, the standard library's results.

A create decodes its request body and encodes the object it stores; the standard library's
`json` did both at about five times msgspec's CPU. `dumps` and `loads` answer what
`json.dumps(obj, separators=(",", ":"), ensure_ascii=False)` and `json.loads(raw)` answer:
the same keys in the same order, the same strings (non-ASCII characters as themselves,
control characters escaped), the same integers of any size. Floats are the same numbers,
though msgspec writes an exponent without its `+` or leading zero (`1e16`, `1e-7`, where
Python writes `1e+16`, `1e-07`); both are JSON, and Go reads them alike.

Where msgspec would answer differently, the standard library answers: `loads` of what msgspec
refuses (a byte-order mark, UTF-16, a lone surrogate, Python's `NaN` and `Infinity`), and
`dumps` of what msgspec writes as `null` (a NaN or an infinity; a real `null` sends it back too,
which costs only the rare object that keeps one) or cannot encode at all.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
_COMPACT = (",", ":")


def dumps(obj: Any) -> str:
    """Compact JSON, as `json.dumps(obj, separators=(",", ":"), ensure_ascii=False)`."""
    try:
        data = _encode(obj)
    except (TypeError, ValueError, OverflowError):
        data = b"null"  # let the standard library encode it, or raise as it would
    if b"null" in data:
        return json.dumps(obj, separators=_COMPACT, ensure_ascii=False)
    return data.decode()


def loads(raw: bytes) -> Any:
    """The value of a JSON document, as `json.loads(raw)`; ValueError if it is not one."""
    try:
        return _decode(raw)
    except msgspec.DecodeError:
        return json.loads(raw)
