"""Generate src/podwall/apiserver/protofields.json: the protobuf field numbers of every message
the served kinds reach, mapped to their JSON field names.

Source: the upstream `generated.proto` files of k8s.io/api and k8s.io/apimachinery at the tag
matching the schemas (v0.32.0 for Kubernetes v1.32.0), read from git checkouts of
github.com/kubernetes/api and github.com/kubernetes/apimachinery. Proto field names are Go's
field names (`aPIGroup`), so each is matched, case-insensitively, to a property of the
message's upstream JSON schema (podwall.apiserver.schemas); a message field matching none whose
message's properties all belong to the parent is an inlined struct (`json:",inline"`).

Usage: PYTHONPATH=src python scripts/gen_protofields.py API_GIT_DIR APIMACHINERY_GIT_DIR [TAG]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from podwall.apiserver import schemas
from podwall.apiserver.resources import RESOURCES

OUT = Path(__file__).resolve().parents[1] / "src/podwall/apiserver/protofields.json"
_MESSAGE = re.compile(r"^message (\w+) \{$")
_FIELD = re.compile(r"^\s*(optional|repeated) ([\w.]+) (\w+) = (\d+);")
_MAP = re.compile(r"^\s*map<(\w+), ([\w.]+)> (\w+) = (\d+);")
SCALARS = {"string", "int32", "int64", "bool", "bytes", "double", "float"}
# Messages whose JSON is not an object of their fields (a time, a quantity, raw JSON): the
# decoder knows their JSON form; their fields keep the proto names.
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
SPECIAL = {
    _META + "Time",
    _META + "MicroTime",
    _META + "Duration",
    _META + "FieldsV1",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.api.authentication.v1.ExtraValue",
    "io.k8s.api.authorization.v1.ExtraValue",
}


def _schema_name(package: str, message: str) -> str:
    """`k8s.io.api.core.v1` + `Pod` -> `io.k8s.api.core.v1.Pod`."""
    return "io." + package.removeprefix("k8s.io.").replace("k8s.io", "k8s.io") + "." + message


def _qualify(package: str, type_name: str) -> str:
    if type_name in SCALARS:
        return type_name
    if type_name.startswith("."):
        pkg, _, msg = type_name[1:].rpartition(".")
        return "io.k8s." + pkg.removeprefix("k8s.io.") + "." + msg
    return "io.k8s." + package.removeprefix("k8s.io.") + "." + type_name


def parse(text: str) -> dict[str, list[tuple[str, str, str, int]]]:
    """message schema name -> [(label, type, proto name, number)]."""
    package = re.search(r"^package ([\w.]+);", text, re.M)
    assert package is not None
    pkg = package.group(1)
    messages: dict[str, list[tuple[str, str, str, int]]] = {}
    current: list[tuple[str, str, str, int]] | None = None
    for line in text.splitlines():
        if m := _MESSAGE.match(line):
            current = messages.setdefault("io.k8s." + pkg.removeprefix("k8s.io.") + "." + m[1], [])
        elif current is not None and (m := _FIELD.match(line)):
            current.append((m[1], _qualify(pkg, m[2]), m[3], int(m[4])))
        elif current is not None and (m := _MAP.match(line)):
            current.append(("map", f"{m[1]}:{_qualify(pkg, m[2])}", m[3], int(m[4])))
    return messages


def proto_files(git_dir: Path, tag: str) -> list[str]:
    names = subprocess.run(
        ["git", "-C", str(git_dir), "ls-tree", "-r", "--name-only", tag],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        subprocess.run(
            ["git", "-C", str(git_dir), "show", f"{tag}:{name}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for name in names
        if name.endswith("generated.proto") and "testapigroup" not in name
    ]


def main() -> None:
    api, machinery = Path(sys.argv[1]), Path(sys.argv[2])
    tag = sys.argv[3] if len(sys.argv) > 3 else "v0.32.0"
    messages: dict[str, list[tuple[str, str, str, int]]] = {}
    for text in proto_files(api, tag) + proto_files(machinery, tag):
        messages.update(parse(text))
    defs = schemas.definitions()
    roots = [schemas.name_for(r.group, r.version, r.kind) for r in RESOURCES]
    # Subresources answered with a kind of another group (TokenRequest, Scale) are sent too.
    roots += [
        schemas.name_for(s.group, s.version or "v1", s.kind)
        for r in RESOURCES
        for s in r.subresources
        if s.group is not None
    ]
    pending: list[tuple[str, dict[str, str]]] = [(r, {}) for r in roots if r]
    out: dict[str, dict[str, list[Any]]] = {}
    missing: list[str] = []
    while pending:
        name, parent = pending.pop()
        if name in out or name not in messages:
            continue
        # An inlined struct has no schema of its own: its fields are its parent's.
        props = {p.lower(): p for p in defs.get(name, {}).get("properties", {})} or parent
        fields: dict[str, list[Any]] = {}
        for label, type_name, proto_name, number in messages[name]:
            json_name = proto_name if name in SPECIAL else props.get(proto_name.lower())
            value_type = type_name.split(":")[-1]
            if json_name is None:
                inner = {f[2] for f in messages.get(value_type, [])}
                if inner and {p.lower() for p in inner} <= set(props):
                    json_name = ""  # inlined
                else:
                    missing.append(f"{name}.{proto_name}")
                    continue
            fields[str(number)] = [json_name, label, type_name]
            if value_type not in SCALARS:
                pending.append((value_type, props if json_name == "" else {}))
        out[name] = fields
    if missing:
        sys.exit("no JSON field for: " + ", ".join(sorted(missing)))
    OUT.write_text(
        json.dumps(
            {
                "source": f"k8s.io/api and k8s.io/apimachinery {tag} generated.proto",
                "messages": dict(sorted(out.items())),
            },
            indent=0,
            sort_keys=False,
        )
        + "\n"
    )
    print(f"{len(out)} messages -> {OUT}")


if __name__ == "__main__":
    main()
