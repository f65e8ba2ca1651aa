"""The `pods/ephemeralcontainers` subresource: what may change through it, and how.

Mirrors kube-apiserver's ephemeral container strategy (pkg/registry/core/pod/strategy.go:
`podEphemeralContainersStrategy.PrepareForUpdate` keeps everything of the stored pod but
`spec.ephemeralContainers`) and its validation (pkg/apis/core/validation:
`ValidatePodEphemeralContainersUpdate`, `validateEphemeralContainers`), in upstream's words.
It only computes: the handler reads and writes the store.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from podwall.model.dnsnames import is_dns1123_label
from podwall.model.fielderrors import (
    ErrorType,
    FieldError,
    forbidden,
    invalid,
    required,
)

Object = dict[str, Any]
PATH = "spec.ephemeralContainers"
# Fields an ephemeral container may not set: it must not be relied upon for the pod's own
# services (upstream keeps an allow list; these are the Container fields it leaves out). As
# upstream compares with the zero value, an empty `resources: {}` (kubectl sends one) passes.
FORBIDDEN_FIELDS = (
    "ports",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "resources",
    "resizePolicy",
    "restartPolicy",
)
FORBIDDEN_DETAIL = "cannot be set for an Ephemeral Container"
# What the API server defaults in each new ephemeral container (SetDefaults_EphemeralContainer
# through the Container defaults), so that an unchanged one compares equal on the next update.
DEFAULTS = {"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}


def _containers(pod: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    found = (pod.get("spec") or {}).get(field) or []
    return [c for c in found if isinstance(c, Mapping)] if isinstance(found, list) else []


def _names(pod: Mapping[str, Any], field: str) -> list[str]:
    return [str(c.get("name") or "") for c in _containers(pod, field)]


def default_image_pull_policy(image: str) -> str:
    """SetDefaults_Container: Always for `:latest`, or no tag and no digest; else IfNotPresent."""
    name, at, _ = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rpartition(":")[2] if ":" in last else ("" if at else "latest")
    return "Always" if tag == "latest" else "IfNotPresent"


def with_ephemeral(current: Mapping[str, Any], given: Mapping[str, Any]) -> Object:
    """The stored pod with `given`'s ephemeral containers (new ones defaulted); nothing else
    of `given` is kept."""
    out = copy.deepcopy(dict(current))
    old = {c.get("name") for c in _containers(current, "ephemeralContainers")}
    containers = []
    for c in _containers(given, "ephemeralContainers"):
        entry = copy.deepcopy(dict(c))
        if entry.get("name") not in old:
            for key, value in DEFAULTS.items():
                entry.setdefault(key, value)
            entry.setdefault("imagePullPolicy", default_image_pull_policy(str(c.get("image", ""))))
        containers.append(entry)
    spec = out.setdefault("spec", {})
    if containers:
        spec["ephemeralContainers"] = containers
    else:
        spec.pop("ephemeralContainers", None)
    return out


def validate_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """ValidatePodEphemeralContainersUpdate: the new list is valid, and the existing entries
    are all still there, unchanged."""
    errs = validate_ephemeral_containers(new)
    current = {str(c.get("name")): c for c in _containers(new, "ephemeralContainers")}
    for before in _containers(old, "ephemeralContainers"):
        name = str(before.get("name"))
        after = current.get(name)
        if after is None:
            detail = f"existing ephemeral containers {_quote(name)} may not be removed\n"
            errs.append(forbidden(PATH, detail))
        elif dict(after) != dict(before):
            detail = f"existing ephemeral containers {_quote(name)} may not be changed\n"
            errs.append(forbidden(PATH, detail))
    return errs


def validate_ephemeral_containers(pod: Mapping[str, Any]) -> list[FieldError]:
    """validateEphemeralContainers: names, images, targets and the forbidden fields."""
    others = set(_names(pod, "containers")) | set(_names(pod, "initContainers"))
    seen = set(others)
    errs: list[FieldError] = []
    for i, c in enumerate(_containers(pod, "ephemeralContainers")):
        at = f"{PATH}[{i}]"
        name = c.get("name")
        if not isinstance(name, str) or not name:
            errs.append(required(f"{at}.name"))
        else:
            errs += [invalid(f"{at}.name", name, msg) for msg in is_dns1123_label(name)]
            if name in seen:
                errs.append(FieldError(path=f"{at}.name", type=ErrorType.DUPLICATE, value=name))
            seen.add(name)
        if not c.get("image"):
            errs.append(required(f"{at}.image"))
        target = c.get("targetContainerName")
        if target and target not in others:
            errs.append(
                FieldError(path=f"{at}.targetContainerName", type=ErrorType.NOT_FOUND, value=target)
            )
        errs += [forbidden(f"{at}.{f}", FORBIDDEN_DETAIL) for f in FORBIDDEN_FIELDS if c.get(f)]
        for j, mount in enumerate(c.get("volumeMounts") or ()):
            if isinstance(mount, Mapping) and mount.get("subPath"):
                errs.append(forbidden(f"{at}.volumeMounts[{j}].subPath", FORBIDDEN_DETAIL))
    return errs


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
