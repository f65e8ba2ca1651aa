"""Manifests to a validated snapshot for the commands, or every error at once.

Nothing is evaluated when any object podwall reads is invalid (NetworkPolicies,
ClusterNetworkPolicies, (Baseline)AdminNetworkPolicies, and the pods, workloads, Services and
Namespaces they select): the command exits 2 after listing all.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from podwall.manifests import forkmap
from podwall.manifests.reader import Loaded, LoadError, field_line, load_paths
from podwall.model import kindvalidation, strictfields
from podwall.model.convert import MODELLED_KINDS, Conversion, cluster
from podwall.model.fielderrors import ValidationError
from podwall.model.rawobject import RawObject
from podwall.model.strictfields import unknown_fields
from podwall.model.validation import validate_network_policy

# The kinds podwall reads, by their lower-case spelling: `kind: Networkpolicy` would otherwise be
# ignored as a kind podwall does not model, and the policy silently left out of every verdict.
_READ_KINDS = {k.lower(): k for k in MODELLED_KINDS}


# A record read field by field, never compared, hashed or printed, written out: a dataclass
# compiles each method it generates at import, which every command's start-up pays for.
class InvalidObject:
    """An object that failed validation and its errors: (field path, message in the API server's
    words)."""

    __slots__ = ("errors", "obj")

    def __init__(self, *, obj: RawObject, errors: tuple[tuple[str, str], ...]) -> None:
        self.obj = obj
        self.errors = errors


class InvalidManifests(ValidationError):
    """One or more objects failed validation; `lines` holds one message per error."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def load(paths: Sequence[str]) -> Conversion:
    """Read, validate and convert; raises LoadError or InvalidManifests."""
    return convert(load_paths(paths))


def convert(loaded: Loaded) -> Conversion:
    """Validate and convert what was read (files, a git revision, a cluster)."""
    objects = loaded.objects
    if len(objects) < PARALLEL_OBJECTS or not forkmap.can_fork():
        invalid = _validate(objects, range(len(objects)))
        if invalid:
            raise InvalidManifests(_render(loaded, invalid))
        return cluster(objects)
    # Many objects: forked children validate most of them while this process converts them
    # all (the model is not sent between processes), then validates the rest. The conversion
    # is used only once every object proved valid, as when it ran after the validation.
    shares = _shares(len(objects), forkmap.cores())
    converted: list[Conversion | Exception] = []

    def validate(share: range) -> list[tuple[int, list[tuple[str, str]]]]:
        if share is shares[0]:
            try:
                converted.append(cluster(objects))
            except Exception as exc:  # an invalid object's, most likely: reported as invalid
                converted.append(exc)
        return _errors_in(objects, share)

    found = forkmap.map_parts(validate, shares)
    invalid = [InvalidObject(obj=objects[i], errors=tuple(e)) for part in found for i, e in part]
    if invalid:
        raise InvalidManifests(_render(loaded, invalid))
    if isinstance(converted[0], Exception):
        raise converted[0]
    return converted[0]


# Below this many objects validating them takes less time than forking a process to share it.
PARALLEL_OBJECTS = 1000


def _shares(count: int, cores: int) -> list[range]:
    """`range(count)` cut for `cores`: the first, this process's, half the size of the others
    (it converts too: about half the work of validating as many objects)."""
    cuts = [0] + [count * (2 * k - 1) // (2 * cores - 1) for k in range(1, cores)] + [count]
    return [range(a, b) for a, b in itertools.pairwise(cuts)]


def _validate(objects: list[RawObject], indexes: range) -> list[InvalidObject]:
    """Every invalid object of `indexes` and its errors."""
    return [InvalidObject(obj=objects[i], errors=tuple(e)) for i, e in _errors_in(objects, indexes)]


def _errors_in(objects: list[RawObject], indexes: range) -> list[tuple[int, list[tuple[str, str]]]]:
    return [(i, errors) for i in indexes if (errors := _errors(objects[i]))]


# The group/version the API server serves each kind podwall reads under: kubectl maps a
# manifest's kind and apiVersion through discovery, and any other version is refused. A
# manifest without apiVersion is read as the served one (snippets in docs often leave it out).
_SERVED_VERSIONS = {
    **dict.fromkeys(("Namespace", "Pod", "Service", "Node", "ReplicationController"), "v1"),
    "NetworkPolicy": "networking.k8s.io/v1",
    "ClusterNetworkPolicy": "policy.networking.k8s.io/v1alpha2",
    **dict.fromkeys(
        ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy"), "policy.networking.k8s.io/v1alpha1"
    ),
    **dict.fromkeys(("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"), "apps/v1"),
    **dict.fromkeys(("Job", "CronJob"), "batch/v1"),
}


def _errors(obj: RawObject) -> list[tuple[str, str]]:
    """(field path, message) of every error of one object."""
    version = obj.body.get("apiVersion")
    kind = obj.kind
    served = _SERVED_VERSIONS.get(kind)
    if served is not None and version is not None and version != served:
        # kubectl's words when discovery has no such mapping (`resource mapping not found`).
        return [("apiVersion", f'no matches for kind "{kind}" in version "{version}"'
                 f' (served as "{served}")')]  # fmt: skip
    if kind == "NetworkPolicy":
        errors = [(e.path, e.render()) for e in validate_network_policy(obj.body)]
        unknown = unknown_fields(obj.body)
    elif kind == "ClusterNetworkPolicy":
        # Imported here: the CRD's schema is built at import, and most inputs have no CNP.
        from podwall.model import cnpvalidation

        errs = cnpvalidation.validate_cluster_network_policy(obj.body)
        errors = [(e.path, e.render()) for e in errs]
        unknown = cnpvalidation.unknown_fields(obj.body)
    elif kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy"):
        from podwall.model import anpvalidation

        errs = anpvalidation.validate(kind, obj.body)
        errors = [(e.path, e.render()) for e in errs]
        unknown = anpvalidation.unknown_fields(kind, obj.body)
    else:
        meant = _READ_KINDS.get(kind.lower())
        if meant is not None and meant != kind:
            version = obj.body.get("apiVersion")
            return [
                (
                    "kind",
                    f'no matches for kind "{kind}" in version "{version}"'
                    f' (kinds are case-sensitive: "{meant}"?)',
                )
            ]
        return [(e.path, e.render()) for e in kindvalidation.validate(kind, obj.body)]
    return errors + [(path, strictfields.render(path)) for path in unknown]


def _render(loaded: Loaded, invalid: list[InvalidObject]) -> list[str]:
    lines = []
    for item in invalid:
        src = item.obj.source
        text = loaded.texts.get(src.file, "")
        for path, message in item.errors:
            line = field_line(text, src.document, path, src.line) or src.line
            where = f"{src.file}:{line}" if line else src.file
            lines.append(f"{where}: {item.obj.describe()}: {message}")
    return lines


__all__ = ["InvalidManifests", "LoadError", "convert", "load"]
