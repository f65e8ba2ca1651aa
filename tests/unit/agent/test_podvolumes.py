"""A pod's volumes as the kubelet makes them: configMap/secret items and modes, optional and
missing objects, the downward API, projected sources, emptyDir and hostPath, and the union of
the containers' mounts."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.agent.podvolumes import CONFIG_ERROR, FAILED_MOUNT, VolumeError, pod_volumes
from podwall.runtime.podvolumes import EMPTY_DIR_BYTES, Mount, Volume

OBJECTS = {
    ("ConfigMap", "nginx"): {"nginx.conf": "events {}", "mime.types": "types {}"},
    ("Secret", "creds"): {"password": "s3cret"},
}


def lookup(kind: str, name: str) -> dict[str, str] | None:
    return OBJECTS.get((kind, name))


def pod(volumes: list[dict[str, Any]], mounts: list[dict[str, Any]] | None = None) -> Any:
    return {
        "metadata": {
            "name": "web-1",
            "namespace": "shop",
            "labels": {"app": "web", "tier": "front"},
            "annotations": {"note": 'say "hi"'},
        },
        "spec": {"volumes": volumes, "containers": [{"name": "c", "volumeMounts": mounts or []}]},
    }


def files(volume: dict[str, Any], token: str | None = None) -> list[tuple[str, bytes, int]]:
    (made,) = pod_volumes(pod([{"name": "v", **volume}]), lookup, token).volumes.volumes
    return [(f.path, f.data, f.mode) for f in made.files]


VOLUMES = [
    (
        "a configMap: every key, 0644",
        {"configMap": {"name": "nginx"}},
        [("mime.types", b"types {}", 0o644), ("nginx.conf", b"events {}", 0o644)],
    ),
    (
        "a configMap's items and modes",
        {
            "configMap": {
                "name": "nginx",
                "defaultMode": 0o440,
                "items": [
                    {"key": "nginx.conf", "path": "conf/nginx.conf"},
                    {"key": "mime.types", "path": "mime", "mode": 0o400},
                ],
            }
        },
        [("conf/nginx.conf", b"events {}", 0o440), ("mime", b"types {}", 0o400)],
    ),
    (
        "a secret, by secretName",
        {"secret": {"secretName": "creds"}},
        [("password", b"s3cret", 0o644)],
    ),
    ("an optional missing configMap: empty", {"configMap": {"name": "x", "optional": True}}, []),
    (
        "an optional configMap's missing item: left out",
        {"configMap": {"name": "nginx", "optional": True, "items": [{"key": "x", "path": "x"}]}},
        [],
    ),
    (
        "the downward API",
        {
            "downwardAPI": {
                "items": [
                    {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                    {"path": "note", "fieldRef": {"fieldPath": "metadata.annotations"}},
                    {"path": "app", "fieldRef": {"fieldPath": "metadata.labels['app']"}},
                    {"path": "cpu", "resourceFieldRef": {"resource": "limits.cpu"}},
                ]
            }
        },
        [
            ("name", b"web-1", 0o644),
            ("labels", b'app="web"\ntier="front"', 0o644),
            ("note", b'note="say \\"hi\\""', 0o644),
            ("app", b"web", 0o644),
        ],
    ),
    (
        "projected sources in one directory, with the token",
        {
            "projected": {
                "defaultMode": 0o400,
                "sources": [
                    {"configMap": {"name": "nginx", "items": [{"key": "nginx.conf", "path": "n"}]}},
                    {"secret": {"name": "creds"}},
                    {
                        "downwardAPI": {
                            "items": [
                                {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}
                            ]
                        }
                    },
                    {"serviceAccountToken": {"path": "token"}},
                ],
            }
        },
        [
            ("n", b"events {}", 0o400),
            ("password", b"s3cret", 0o400),
            ("ns", b"shop", 0o400),
            ("token", b"jwt", 0o400),
        ],
    ),
]


@pytest.mark.parametrize(("volume", "made"), [c[1:] for c in VOLUMES], ids=[c[0] for c in VOLUMES])
def test_a_volumes_files(volume: dict[str, Any], made: list[tuple[str, bytes, int]]) -> None:
    assert files(volume, token="jwt") == made


REFUSED = [
    ("a missing configMap", {"configMap": {"name": "x"}}, 'configmap "x" not found', FAILED_MOUNT),
    ("a missing secret", {"secret": {"secretName": "x"}}, 'secret "x" not found', FAILED_MOUNT),
    (
        "a missing key",
        {"configMap": {"name": "nginx", "items": [{"key": "k", "path": "k"}]}},
        "configmap references non-existent config key: k",
        FAILED_MOUNT,
    ),
    (
        "a missing secret key",
        {"secret": {"secretName": "creds", "items": [{"key": "k", "path": "k"}]}},
        "secret references non-existent secret key: k",
        FAILED_MOUNT,
    ),
    (
        "a path out of the volume",
        {"configMap": {"name": "nginx", "items": [{"key": "nginx.conf", "path": "../x"}]}},
        "must be relative",
        CONFIG_ERROR,
    ),
    (
        "a token without one",
        {"projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
        "no service account token",
        FAILED_MOUNT,
    ),
    ("a relative hostPath", {"hostPath": {"path": "data"}}, "not absolute", CONFIG_ERROR),
    (
        "an unknown hostPath type",
        {"hostPath": {"path": "/data", "type": "Dir"}},
        "hostPath type 'Dir': not one of DirectoryOrCreate, Directory",
        CONFIG_ERROR,
    ),
    ("a bad sizeLimit", {"emptyDir": {"sizeLimit": "lots"}}, "sizeLimit", CONFIG_ERROR),
]


@pytest.mark.parametrize(
    ("volume", "said", "reason"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_a_volume_that_cannot_be_made(volume: dict[str, Any], said: str, reason: str) -> None:
    with pytest.raises(VolumeError, match=said) as raised:
        files(volume)
    assert (raised.value.volume, raised.value.reason) == ("v", reason)


def test_empty_dir_and_host_path() -> None:
    made = pod_volumes(
        pod([
            {"name": "a", "emptyDir": {}},
            {"name": "b", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
            {"name": "host", "hostPath": {"path": "/", "type": "Directory"}},
            {"name": "claim", "persistentVolumeClaim": {"claimName": "data"}},
        ]),
        lookup,
    )  # fmt: skip
    assert made.volumes.volumes == (
        Volume(name="a", empty_dir_bytes=EMPTY_DIR_BYTES),
        Volume(name="b", empty_dir_bytes=1024 * 1024),
        Volume(name="host", host_path="/", host_type="Directory"),
    )
    assert made.skipped == ("claim",)


def test_a_mount_of_a_volume_the_pod_lacks_is_left_out() -> None:
    # A StatefulSet's pods mount its volumeClaimTemplates, which podwall does not provision.
    made = pod_volumes(pod([], [{"name": "www", "mountPath": "/usr/share/nginx/html"}]), lookup)
    assert (made.volumes.mounts, made.skipped) == ((), ("www",))


HTML = "/usr/share/nginx/html"


def test_the_pods_mounts_are_its_containers_union_by_path() -> None:
    spec = pod([
        {"name": "cfg", "configMap": {"name": "nginx"}},
        {"name": "html", "emptyDir": {}},
        {"name": "claim", "persistentVolumeClaim": {"claimName": "data"}},
    ])  # fmt: skip
    spec["spec"]["containers"] = [
        {"name": "web", "volumeMounts": [
            {"name": "cfg", "mountPath": "/etc/nginx/nginx.conf", "subPath": "nginx.conf"},
            {"name": "html", "mountPath": "/usr/share/nginx/html/", "readOnly": True},
            {"name": "claim", "mountPath": "/data"},
        ]},
        {"name": "writer", "volumeMounts": [{"name": "html", "mountPath": HTML}]},
    ]  # fmt: skip
    assert pod_volumes(spec, lookup).volumes.mounts == (
        Mount(volume="cfg", path="/etc/nginx/nginx.conf", sub_path="nginx.conf", read_only=True),
        Mount(volume="html", path="/usr/share/nginx/html"),  # writable for the writer
    )


MOUNTS_REFUSED = [
    ("a relative mountPath", {"name": "cfg", "mountPath": "x"}, "must be absolute"),
    ("subPath out", {"name": "cfg", "mountPath": "/x", "subPath": "../y"}, "must be relative"),
    ("subPathExpr", {"name": "cfg", "mountPath": "/x", "subPathExpr": "$(A)"}, "not supported"),
]


@pytest.mark.parametrize(
    ("mount", "said"), [c[1:] for c in MOUNTS_REFUSED], ids=[c[0] for c in MOUNTS_REFUSED]
)
def test_a_mount_that_cannot_be_made_is_a_config_error(mount: dict[str, Any], said: str) -> None:
    with pytest.raises(VolumeError, match=said) as raised:
        pod_volumes(pod([{"name": "cfg", "configMap": {"name": "nginx"}}], [mount]), lookup)
    assert raised.value.reason == CONFIG_ERROR


def test_two_containers_wanting_different_volumes_at_one_path_are_refused() -> None:
    spec = pod([{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}])
    spec["spec"]["containers"] = [
        {"name": "one", "volumeMounts": [{"name": "a", "mountPath": "/data"}]},
        {"name": "two", "volumeMounts": [{"name": "b", "mountPath": "/data"}]},
    ]
    with pytest.raises(VolumeError, match="share one mount view"):
        pod_volumes(spec, lookup)
