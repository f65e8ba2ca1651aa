"""Names as upstream makes them: pod-template hashes and random suffixes.

Mirrors `controller.ComputeHash` (pkg/controller/controller_utils.go), `rand.SafeEncodeString`
and `rand.String` (k8s.io/apimachinery/pkg/util/rand) and `names.SimpleNameGenerator`
(k8s.io/apiserver/pkg/storage/names). Pure: randomness comes from the caller's `random.Random`.

The hash has upstream's shape (FNV-1a 32 over the template, then the collision count as 8
little-endian bytes, printed in decimal and mapped digit by digit through the alphabet), so
names look like `backend-65f7c794cc`. It cannot be byte-equal to Go's: upstream hashes the
`spew` dump of the Go struct (every field, nil pointers included), which JSON does not carry.
Here the input is the canonical JSON of the template (sorted keys, no spaces).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""`rand.alphanums`: no vowels, no 0/1/3, so generated names spell no words."""

MAX_NAME_LENGTH = 63
RANDOM_LENGTH = 5
MAX_GENERATED_PREFIX = MAX_NAME_LENGTH - RANDOM_LENGTH

_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def fnv32a(data: bytes, start: int = _FNV32_OFFSET) -> int:
    """hash/fnv New32a: FNV-1a, 32 bits."""
    value = start
    for byte in data:
        value = ((value ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: each character becomes `ALPHABET[ord(c) % 27]`."""
    return "".join(ALPHABET[ord(char) % len(ALPHABET)] for char in text)


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """The bytes hashed for a template: JSON with sorted keys and no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """controller.ComputeHash: the `pod-template-hash` of a pod template."""
    value = fnv32a(canonical_json(template))
    if collision_count is not None:
        extra = (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4)
        value = fnv32a(extra, value)
    return safe_encode(str(value))


def random_suffix(rng: random.Random, length: int = RANDOM_LENGTH) -> str:
    """rand.String(n): `length` characters drawn from the alphabet."""
    return "".join(rng.choice(ALPHABET) for _ in range(length))


def generate_name(prefix: str, rng: random.Random) -> str:
    """names.SimpleNameGenerator.GenerateName: the prefix cut to 58 characters, then 5 random."""
    return prefix[:MAX_GENERATED_PREFIX] + random_suffix(rng)
