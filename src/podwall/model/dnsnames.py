"""DNS-1123 names and the message helpers of apimachinery's `api/validate/content`.

Ports errors.go (MaxLenError, RegexError) and dns.go (IsDNS1123Label, IsDNS1123Subdomain) with
upstream's messages word for word; lengths are Go's, in UTF-8 bytes. Pure: no I/O here.
"""

from __future__ import annotations

import re


def max_len_error(length: int) -> str:
    """MaxLenError."""
    return f"must be no more than {length} bytes"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """RegexError, including its double space before each `or`."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    msg += " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += f"'{example}', "
    return msg + f"regex used for validation is '{fmt}')"


def byte_len(value: str) -> int:
    """len() of a Go string: UTF-8 bytes."""
    return len(value.encode("utf-8", "surrogatepass"))


DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)
_DNS1123_LABEL_RE = re.compile(DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(DNS1123_SUBDOMAIN_FMT)


_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_RE = re.compile(_DNS1035_LABEL_FMT)
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)


def conform(value: str, max_bytes: int, pattern: re.Pattern[str], wrong: str) -> list[str]:
    """content's usual pair of checks: at most `max_bytes` bytes, then the whole of `value`
    matching `pattern` (`wrong` is the RegexError when it does not)."""
    errs = [max_len_error(max_bytes)] if byte_len(value) > max_bytes else []
    if not pattern.fullmatch(value):
        errs.append(wrong)
    return errs


_DNS1035_WRONG = regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123")
_DNS1123_LABEL_WRONG = regex_error(_DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc")
_DNS1123_SUBDOMAIN_WRONG = regex_error(_DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com")


def is_dns1035_label(value: str) -> list[str]:
    """IsDNS1035Label (Service names)."""
    return conform(value, 63, _DNS1035_LABEL_RE, _DNS1035_WRONG)


def is_dns1123_label(value: str) -> list[str]:
    """IsDNS1123Label."""
    dotted = _DNS1123_SUBDOMAIN_RE.fullmatch(value)
    return conform(
        value, 63, _DNS1123_LABEL_RE, "must not contain dots" if dotted else _DNS1123_LABEL_WRONG
    )


def is_dns1123_subdomain(value: str) -> list[str]:
    """IsDNS1123Subdomain."""
    return conform(value, 253, _DNS1123_SUBDOMAIN_RE, _DNS1123_SUBDOMAIN_WRONG)
