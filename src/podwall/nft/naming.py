"""Deterministic, nft-safe names for chains, sets and maps, and the check for any name.

`name("pol-in", "default", "web")` is `pol-in_default_web` while the parts are plain
Kubernetes-style words and the result is short; anything else (dots, uppercase, `_`, long
text) becomes `pol-in_<readable prefix>__<64-bit hash>`. Readable names never contain
`__`, hashed ones always do, and the hash covers every part, so distinct inputs give
distinct names. Every generated name contains `_`, which no nft keyword does: a bare
`fwd` or `counter` is a syntax error where nft expects a name. Pure: no I/O here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re

from podwall.nft.errors import InvalidOperation

MAX_NAME_LEN = 255  # the kernel's NFT_NAME_MAXLEN (256) counts the trailing NUL
NAME_BUDGET = 64  # generated names stay short so `nft list ruleset` stays readable
HASH_LEN = 16  # hex digits: 64 bits, collisions negligible for any cluster size

# Words nft 1.0.6's lexer reads as keywords where a chain or set name is expected
# (found by loading each as a chain name into the real binary; not exhaustive).
# fmt: off
RESERVED = frozenset((
    "accept", "add", "ah", "all", "and", "arp", "auto-merge", "bridge", "chain", "comment",
    "comp", "gc-interval",
    "constant", "continue", "counter", "create", "ct", "dccp", "define", "delete", "describe",
    "device", "devices", "dnat", "drop", "dst", "dup", "dynamic", "element", "elements",
    "esp", "ether", "exists", "export", "exthdr", "fib", "flags", "flow", "flowtable",
    "flush", "frag", "fwd", "goto", "handle", "hbh", "hook", "icmp", "icmpv6", "iif",
    "iifname", "igmp", "import", "include", "index", "inet", "insert", "interval", "ip",
    "ip6", "ipsec", "jhash", "jump", "limit", "list", "log", "map", "mark", "masquerade",
    "meta", "mh", "missing", "monitor", "netdev", "not", "notrack", "numgen", "oif",
    "oifname", "or", "osf", "policy", "position", "priority", "queue", "quota", "random",
    "redirect", "reject", "rename", "replace", "reset", "return", "rt", "rule", "sctp",
    "secmark", "set", "size", "snat", "socket", "symhash", "synproxy", "table", "tcp", "th",
    "timeout", "tproxy", "type", "udp", "udplite", "vlan", "vmap", "xor",
))
# fmt: on

_SAFE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_KIND = re.compile(r"[a-z][a-z0-9-]{0,15}")
_PLAIN_PART = re.compile(r"[a-z0-9][a-z0-9-]*")
_UNSAFE_CHARS = re.compile(r"[^a-z0-9-]+")


# Names already found safe: a compile checks the same few thousand names many times over.
_SAFE_NAMES: set[str] = set()


def check_name(name: str, what: str) -> None:
    """Raise InvalidOperation unless `name` is an identifier nft accepts everywhere."""
    if name in _SAFE_NAMES:
        return
    if not _SAFE.fullmatch(name) or len(name) > MAX_NAME_LEN or name in RESERVED:
        raise InvalidOperation(
            f"{what} name {name!r} is not a safe nft identifier (a letter, then letters,"
            f" digits, _ or -; at most {MAX_NAME_LEN}; not an nft keyword)"
        )
    _SAFE_NAMES.add(name)


@functools.lru_cache(maxsize=1 << 16)
def name(kind: str, *parts: str) -> str:
    """A stable name for the object of `kind` (e.g. `pod-in`) identified by `parts`."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"kind {kind!r} must be a short lowercase word (letters, digits, -)")
    if not parts:
        raise ValueError("name() needs at least one part")
    plain = f"{kind}_{'_'.join(parts)}"
    if all(_PLAIN_PART.fullmatch(p) for p in parts) and len(plain) <= NAME_BUDGET:
        return plain
    return _hashed(kind, parts)


def _hashed(kind: str, parts: tuple[str, ...]) -> str:
    # JSON keeps part boundaries: ("a_b", "c") and ("a", "b_c") hash differently.
    digest = hashlib.sha256(json.dumps([kind, *parts]).encode()).hexdigest()[:HASH_LEN]
    room = NAME_BUDGET - len(kind) - 1 - 2 - HASH_LEN
    slug = "_".join(_UNSAFE_CHARS.sub("-", p.lower()).strip("-") for p in parts)
    slug = re.sub(r"_+", "_", slug)[:room].strip("_-")
    return f"{kind}_{slug}__{digest}" if slug else f"{kind}__{digest}"
