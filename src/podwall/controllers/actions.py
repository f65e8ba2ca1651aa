"""What a controller asks the API server to do: the only output of every reconcile function.

Pure data, no I/O. The server applies the actions in order, through its ordinary write path
(defaulting, resourceVersion, generation, watch events), as upstream controllers write through
the API. The four verbs and what the server should do with each:

| action                          | server                                                         |
|---------------------------------|----------------------------------------------------------------|
| `Create(obj)`                   | POST: set uid, creationTimestamp, resourceVersion, generation |
| `Update(obj)`                   | PUT: take everything but status, keep the stored status        |
| `UpdateStatus(obj)`             | PUT .../status: take status, keep the stored metadata and spec |
| `Delete(resource, ns, name)`    | DELETE, Background: the dependents are the garbage collector's |

Objects in `Update`/`UpdateStatus` carry no `metadata.resourceVersion`; the server may make an
`Update` conditional on the version the controller read (apiserver/writes.py), so that it never
undoes a client's change it did not see. `resource` is the store key (`pods`,
`replicasets.apps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
"""A Kubernetes object as its JSON decodes: the only shape the controllers read and write."""


@dataclass(frozen=True, slots=True)
class Create:
    """Create `obj` (its `metadata.name` is always set)."""

    obj: Obj


@dataclass(frozen=True, slots=True)
class Update:
    """Replace `obj` but for its status, which is not the controller's to change here."""

    obj: Obj


@dataclass(frozen=True, slots=True)
class UpdateStatus:
    """Replace the status of `obj` (the /status subresource)."""

    obj: Obj


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete one object, named by store key, namespace and name."""

    resource: str
    namespace: str
    name: str


Action = Create | Update | UpdateStatus | Delete
