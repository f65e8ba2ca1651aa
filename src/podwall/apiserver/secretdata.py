"""What a Secret becomes between the request body and the store: upstream's conversion,
defaults and validation of `data` (pkg/apis/core/v1/conversion.go `Convert_v1_Secret_To_core_
Secret`, defaults.go `SetDefaults_Secret`, validation.go `ValidateSecret`).

`stringData` is write-only: folded into `data` (base64) and never stored. `data` values are
base64 as encoding/json reads a `[]byte`, so a bad one is a 400 naming the byte Go's decoder
stops at. Type-specific rules (tls, dockerconfigjson keys) are not checked. Pure: no I/O.
"""

from __future__ import annotations

import base64
import re
import string
from typing import Any

from podwall.model.dnsnames import regex_error
from podwall.model.fielderrors import FieldError, invalid

Object = dict[str, Any]

_ALPHABET = frozenset(string.ascii_letters + string.digits + "+/")
_NEWLINES = "\r\n"
_KEY_FORMAT = "[-._a-zA-Z0-9]+"
_KEY = re.compile(f"^{_KEY_FORMAT}$")
_KEY_MAX = 253


def base64_error(text: str) -> int | None:
    """The input byte Go's base64.StdEncoding.Decode reports as illegal, or None if valid."""
    src = text.encode()
    si = 0
    while si < len(src):
        j = 0
        while j < 4:
            if si == len(src):
                return None if j == 0 else si - j
            char = chr(src[si])
            si += 1
            if char in _ALPHABET:
                j += 1
            elif char in _NEWLINES:
                continue
            elif char != "=" or j < 2:
                return si - 1
            else:
                return _after_padding(src, si, j)
    return None


def _after_padding(src: bytes, si: int, j: int) -> int | None:
    """decodeQuantum past the first `=` of a quantum holding `j` symbols."""
    if j == 2:  # "==" expected: the second `=` after any newlines
        si = _skip_newlines(src, si)
        if si == len(src):
            return len(src)
        if chr(src[si]) != "=":
            return si - 1
        si += 1
    si = _skip_newlines(src, si)
    return si if si < len(src) else None


def _skip_newlines(src: bytes, si: int) -> int:
    while si < len(src) and chr(src[si]) in _NEWLINES:
        si += 1
    return si


def fold(obj: Object) -> str | None:
    """Convert and default a Secret in place; the decode error to answer with, if any."""
    data = obj.get("data")
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, str) and (at := base64_error(value)) is not None:
                return f"illegal base64 data at input byte {at}"
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        merged = dict(data) if isinstance(data, dict) else {}
        for key, value in string_data.items():
            merged[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = merged
    if not obj.get("type"):
        obj["type"] = "Opaque"
    return None


def key_errors(key: str) -> list[str]:
    """IsConfigMapKey."""
    errs = []
    if len(key) > _KEY_MAX:
        errs.append(f"must be no more than {_KEY_MAX} characters")
    if not _KEY.match(key):
        errs.append(
            regex_error(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                _KEY_FORMAT,
                "key.name",
                "KEY_NAME",
                "key-name",
            )
        )
    if key == ".":
        errs.append("must not be '.'")
    elif key == "..":
        errs.append("must not be '..'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def validate(obj: Object) -> list[FieldError]:
    """ValidateSecret's key rules for `data`."""
    data = obj.get("data")
    if not isinstance(data, dict):
        return []
    return [invalid(f"data[{key}]", key, msg) for key in data for msg in key_errors(str(key))]
