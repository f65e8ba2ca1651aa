"""Pod spec and status validation, as the API server does it, for the fields podwall reads.

Ports kubernetes' `pkg/apis/core/validation` for what podwall uses of a pod (its containers'
ports with their names and protocols, `hostNetwork`, `nodeName`) and the addresses it reads
from `status`, with upstream's messages; type errors are reported as for NetworkPolicies. A
workload's `template.spec` is a pod spec too. For the analyzer, fields podwall does not read
(images, commands) are not checked: a minimal pod such as `{containers: [{name: c}]}` stays
valid input. The API server asks for more (`served=True`: containers, names, images, host
ports, restartPolicy), with the same code, so the meaning of a pod spec lives here once.
Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from podwall.model.decoding import (
    MALFORMED,
    decode_bool,
    decode_int32,
    decode_list,
    decode_object,
    decode_string,
    object_rules,
)
from podwall.model.dnsnames import is_dns1123_label
from podwall.model.fielderrors import ErrorType, FieldError, invalid, not_supported, required
from podwall.model.fieldpath import child, index
from podwall.model.validation import is_valid_port_name, is_valid_port_num

PROTOCOLS = ("SCTP", "TCP", "UDP")  # supportedPortProtocols, as upstream lists them
IP_EXAMPLE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


@object_rules
def validate_pod_spec(
    spec: Mapping[str, Any], path: str, errs: list[FieldError], *, served: bool = False
) -> None:
    """The parts of ValidatePodSpec podwall relies on: containers, ports, host network, node.

    `served` adds what the API server requires of every pod spec it stores (pods and workload
    templates alike) and the analyzer does not: containers, their names (unique among the
    regular and init containers) and images, host ports in range, a supported restartPolicy."""
    names: set[str] = set()
    for field in ("containers", "initContainers"):
        items_path = child(path, field)
        items = decode_list(spec.get(field), items_path, errs)
        if items is MALFORMED:
            continue
        if served and field == "containers" and not items:
            errs.append(required(items_path))
            continue
        for i, item in enumerate(items or ()):
            errs += _validate_container(item, index(items_path, i), names, served=served)
    decode_bool(spec.get("hostNetwork"), child(path, "hostNetwork"), errs)
    decode_string(spec.get("nodeName"), child(path, "nodeName"), errs)
    if served:
        errs += validate_restart_policy(spec.get("restartPolicy"), child(path, "restartPolicy"))


RESTART_POLICIES = ("Always", "OnFailure", "Never")  # validateRestartPolicy's order


def validate_restart_policy(raw: object, path: str) -> list[FieldError]:
    """validateRestartPolicy: set, and one of RESTART_POLICIES."""
    errs: list[FieldError] = []
    policy = decode_string(raw, path, errs)
    if policy is None or policy == "":
        errs.append(required(path))
    elif isinstance(policy, str) and policy not in RESTART_POLICIES:
        errs.append(not_supported(path, policy, RESTART_POLICIES))
    return errs


@object_rules
def _validate_container(
    container: Mapping[str, Any],
    path: str,
    errs: list[FieldError],
    names: set[str],
    *,
    served: bool,
) -> None:
    """validateContainerCommon's name, image and ports; `names` holds the container names
    seen so far, for Duplicate value (served only)."""
    name_path, _ = _valid_name(container, path, errs, is_dns1123_label)
    raw_name = container.get("name")
    if served and raw_name in (None, ""):
        errs.append(required(name_path))
    if served:
        image_path = child(path, "image")
        if decode_string(container.get("image"), image_path, errs) in (None, ""):
            errs.append(required(image_path))
    ports_path = child(path, "ports")
    ports = decode_list(container.get("ports"), ports_path, errs)
    if ports is not MALFORMED:
        port_names: set[str] = set()  # unique within one container, as validateContainerPorts
        for i, port in enumerate(ports or ()):
            errs += _validate_container_port(port, index(ports_path, i), port_names, served=served)
    if served and isinstance(raw_name, str) and raw_name:
        if raw_name in names:
            errs.append(_duplicate(name_path, raw_name))
        names.add(raw_name)


@object_rules
def _validate_container_port(
    port: Mapping[str, Any], path: str, errs: list[FieldError], names: set[str], *, served: bool
) -> None:
    """validateContainerPorts, for one port: name, containerPort, hostPort (served), protocol."""
    name_path, name = _valid_name(port, path, errs, is_valid_port_name)
    if name is not None:
        if name in names:
            errs.append(_duplicate(name_path, name))
        names.add(name)
    number_path = child(path, "containerPort")
    number = decode_int32(port.get("containerPort"), number_path, errs)
    if number is None or number == 0:
        errs.append(required(number_path))
    elif isinstance(number, int):
        errs += [invalid(number_path, number, msg) for msg in is_valid_port_num(number)]
    host_path = child(path, "hostPort")
    host = decode_int32(port.get("hostPort"), host_path, errs) if served else None
    if isinstance(host, int) and host != 0:
        errs += [invalid(host_path, host, msg) for msg in is_valid_port_num(host)]
    errs += validate_protocol(port.get("protocol"), child(path, "protocol"))


def _valid_name(
    obj: Mapping[str, Any], path: str, errs: list[FieldError], rule: Callable[[str], list[str]]
) -> tuple[str, str | None]:
    """`obj.name` and its path: the name when it is a non-empty string `rule` accepts, else
    None (`rule`'s messages are Invalid errors in `errs`)."""
    name_path = child(path, "name")
    name = decode_string(obj.get("name"), name_path, errs)
    if not isinstance(name, str) or not name:
        return name_path, None
    msgs = rule(name)
    errs += [invalid(name_path, name, msg) for msg in msgs]
    return name_path, None if msgs else name


def _duplicate(path: str, value: object) -> FieldError:
    return FieldError(path=path, type=ErrorType.DUPLICATE, value=value)


def validate_protocol(raw: object, path: str) -> list[FieldError]:
    """A port's protocol: absent is defaulted to TCP; anything else must be supported."""
    errs: list[FieldError] = []
    protocol = decode_string(raw, path, errs)
    if isinstance(protocol, str) and protocol and protocol not in PROTOCOLS:
        errs.append(not_supported(path, protocol, PROTOCOLS))
    return errs


@object_rules
def validate_pod_status(status: Mapping[str, Any], path: str, errs: list[FieldError]) -> None:
    """The addresses podwall reads: status.podIP and status.podIPs[].ip."""
    errs += validate_ip(status.get("podIP"), child(path, "podIP"))
    ips_path = child(path, "podIPs")
    ips = decode_list(status.get("podIPs"), ips_path, errs)
    if ips is not MALFORMED:
        for i, item in enumerate(ips or ()):
            item_path = index(ips_path, i)
            entry = decode_object(item, item_path, errs)
            if isinstance(entry, Mapping):
                errs += validate_ip(entry.get("ip"), child(item_path, "ip"))


def validate_ip(raw: object, path: str) -> list[FieldError]:
    """IsValidIP, for a field that may be absent or empty."""
    errs: list[FieldError] = []
    text = decode_string(raw, path, errs)
    if isinstance(text, str) and text and not _is_ip(text):
        errs.append(invalid(path, text, IP_EXAMPLE))
    return errs


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


__all__ = [
    "FieldError",
    "decode_bool",
    "validate_ip",
    "validate_pod_spec",
    "validate_pod_status",
    "validate_protocol",
    "validate_restart_policy",
]
