"""Canonical YAML for one policy, in the layout the tutorial (and the Cilium editor) prints.

Block style, sequences indented under their key, `metadata.name` double-quoted, every other
string plain unless YAML would read it as something else. Pure: no I/O here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]*")
_QUOTED_KEYS = (("metadata", "name"),)


def dump(document: Mapping[str, Any]) -> str:
    """The document with a leading `---`, as in the tutorial's files."""
    return "---\n" + "".join(line + "\n" for line in _mapping(document, 0, ()))


def scalar(value: object, *, quote: bool = False) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if not quote and _PLAIN.fullmatch(text) and yaml.safe_load(text) == text:
        return text
    return json.dumps(text)


def _is_leaf(value: object) -> bool:
    return not isinstance(value, Mapping | list | tuple) or not value


def _leaf(value: object, *, quote: bool = False) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return scalar(value, quote=quote)


def _mapping(m: Mapping[str, Any], indent: int, path: tuple[str, ...]) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in m.items():
        head = f"{pad}{scalar(key)}:"
        here = (*path, str(key))
        if _is_leaf(value):
            lines.append(f"{head} {_leaf(value, quote=here in _QUOTED_KEYS)}")
        elif isinstance(value, Mapping):
            lines += [head, *_mapping(value, indent + 2, here)]
        else:
            lines += [head, *_sequence(value, indent + 2, here)]
    return lines


def _sequence(items: Sequence[Any], indent: int, path: tuple[str, ...]) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if _is_leaf(item):
            lines.append(f"{pad}- {_leaf(item)}")
            continue
        inner = (
            _mapping(item, indent + 2, path)
            if isinstance(item, Mapping)
            else _sequence(item, indent + 2, path)
        )
        lines += [f"{pad}- {inner[0][indent + 2 :]}", *inner[1:]]
    return lines
