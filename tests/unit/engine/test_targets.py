"""`--from`/`--to` references: pods, workloads, services with their ports, addresses."""

from __future__ import annotations

import textwrap

import pytest

from podwall.cli.resolve import connections
from podwall.engine.targets import PortSpec, TargetError, resolve, service_port, split_port
from podwall.manifests.reader import load_text
from podwall.model.cluster import Cluster
from podwall.model.convert import cluster
from podwall.model.ports import Protocol

MANIFESTS = textwrap.dedent(
    """\
    kind: Pod
    metadata: {name: frontend, labels: {app: frontend}}
    status: {podIP: 10.0.0.1}
    ---
    kind: Pod
    metadata: {name: web-1, labels: {app: web}}
    spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
    status: {podIP: 10.0.0.2}
    ---
    kind: Pod
    metadata: {name: web-2, labels: {app: web}}
    spec: {containers: [{name: c, ports: [{name: http, containerPort: 9090}]}]}
    status: {podIP: 10.0.0.3}
    ---
    kind: Pod
    metadata: {name: cart, namespace: shop, labels: {app: cart}}
    spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
    status: {podIPs: [{ip: 10.1.0.1}, {ip: "2001:db8::1"}]}
    ---
    kind: Deployment
    metadata: {name: backend}
    spec:
      selector: {matchLabels: {app: backend}}
      template:
        metadata: {labels: {app: backend}}
        spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
    ---
    kind: Deployment
    metadata: {name: backend-canary}
    spec:
      selector: {matchLabels: {app: backend, track: canary}}
      template:
        metadata: {labels: {app: backend, track: canary}}
        spec: {containers: [{name: c, ports: [{name: http, containerPort: 8081}]}]}
    ---
    kind: StatefulSet
    metadata: {name: db, namespace: shop}
    spec:
      selector: {matchLabels: {app: db}}
      template:
        metadata: {labels: {app: db}}
        spec: {containers: [{name: c, ports: [{name: pg, containerPort: 5432}]}]}
    ---
    kind: Service
    metadata: {name: backend}
    spec:
      selector: {app: backend, track: canary}
      ports: [{name: http, port: 80, targetPort: 8081}]
    ---
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports:
      - {name: http, port: 80, targetPort: http}
      - {name: dns, port: 53, protocol: UDP}
    ---
    kind: Service
    metadata: {name: external}
    spec: {ports: [{port: 443}]}
    ---
    kind: Service
    metadata: {name: exposed}
    spec:
      type: NodePort
      selector: {app: web}
      ports:
      - {name: http, port: 80, targetPort: http, nodePort: 30080}
      - {name: metrics, port: 9090, nodePort: 30090}
    """
)


@pytest.fixture(scope="module")
def snap() -> Cluster:
    return cluster(load_text(MANIFESTS).objects).cluster


SPLITS = [
    ("a name without a port has none", "backend", "backend", None, Protocol.TCP),
    ("a numeric port is a number", "backend:8080", "backend", 8080, Protocol.TCP),
    ("a named port stays a name", "svc/web:http", "svc/web", "http", Protocol.TCP),
    ("the protocol follows a slash, any case", "backend:8080/udp", "backend", 8080, Protocol.UDP),
    ("SCTP is a protocol", "ns/x:7777/SCTP", "ns/x", 7777, Protocol.SCTP),
    ("an IPv6 address in brackets takes a port", "[2001:db8::1]:80", "2001:db8::1", 80,
     Protocol.TCP),
    ("a bare IPv6 address has no port", "2001:db8::1", "2001:db8::1", None, Protocol.TCP),
    ("an IPv4 address takes a port", "10.0.0.1:53/UDP", "10.0.0.1", 53, Protocol.UDP),
    ("an empty port is no port", "backend:", "backend", None, Protocol.TCP),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "name", "port", "protocol"), [c[1:] for c in SPLITS], ids=[c[0] for c in SPLITS]
)
def test_split_port(text: str, name: str, port: int | str | None, protocol: Protocol) -> None:
    assert split_port(text) == (name, PortSpec(port=port, protocol=protocol))


BAD_PORTS = [
    ("an unknown protocol is an error", "backend:8080/icmp",
     r"backend:8080/icmp: unknown protocol 'icmp'; use TCP, UDP or SCTP"),
    ("port 0 is out of range", "backend:0", r"backend:0: port 0 is not between 1 and 65535"),
    ("a port above 65535 is out of range", "backend:65536", r"port 65536 is not between 1 and"),
    ("a negative port is not a port", "backend:-1", r"'-1' is neither a port number nor a port"),
    ("a port name longer than 15 characters", "backend:a-very-long-port-name",
     r"is neither a port number nor a port name"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in BAD_PORTS], ids=[c[0] for c in BAD_PORTS]
)
def test_split_port_rejects(text: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        split_port(text)


RESOLVED = [
    ("a bare name is a pod in the default namespace", "frontend", ["default/frontend"]),
    ("ns/pod names a pod in another namespace", "shop/cart", ["shop/cart"]),
    ("pod/NAME is a pod too", "pod/frontend", ["default/frontend"]),
    ("deploy/NAME stands for its pods", "deploy/backend-canary", ["default/backend-canary"]),
    ("a Deployment does not take another Deployment's stand-in with overlapping labels",
     "deploy/backend", ["default/backend"]),
    ("NS/KIND/NAME names a workload in a namespace", "default/deployment/backend-canary",
     ["default/backend-canary"]),
    ("sts/NAME with a namespace finds the StatefulSet's pod", "shop/sts/db", ["shop/db"]),
    ("svc/NAME stands for the pods its selector matches", "svc/web",
     ["default/web-1", "default/web-2"]),
    ("a service selecting a stand-in", "svc/backend", ["default/backend-canary"]),
    ("the IP of a pod is that pod", "10.0.0.2", ["default/web-1"]),
    ("any address of a dual-stack pod is that pod", "2001:db8::1", ["shop/cart"]),
    ("an address no pod has is outside the cluster", "192.0.2.7", ["192.0.2.7"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "keys"), [c[1:] for c in RESOLVED], ids=[c[0] for c in RESOLVED])
def test_resolve(snap: Cluster, text: str, keys: list[str]) -> None:
    assert [e.key for e in resolve(snap, text).endpoints] == keys


def test_the_default_namespace_can_be_changed(snap: Cluster) -> None:
    assert [e.key for e in resolve(snap, "sts/db", "shop").endpoints] == ["shop/db"]


def test_an_address_of_a_pod_keeps_the_address_used(snap: Cluster) -> None:
    (endpoint,) = resolve(snap, "2001:db8::1").endpoints
    assert endpoint.pod is not None
    assert str(endpoint.ip) == "2001:db8::1"


def test_an_outside_address_has_no_pod(snap: Cluster) -> None:
    (endpoint,) = resolve(snap, "192.0.2.7").endpoints
    assert endpoint.pod is None
    assert endpoint.describe() == "192.0.2.7 (outside the cluster)"


UNKNOWN = [
    ("an unknown pod lists the pods there are", "nobody",
     r"^nobody: no pod default/nobody in the manifests; pods here: default/backend, "
     r"default/backend-canary, default/frontend, default/web-1, default/web-2, shop/cart, "
     r"shop/db$"),
    ("an unknown deployment says what kind it looked for", "deploy/nope",
     r"^deploy/nope: no deployment default/nope in the manifests; pods here: "),
    ("a workload is looked up in its namespace", "deploy/db",
     r"^deploy/db: no deployment default/db in the manifests"),
    ("an unknown service is named as a service", "svc/nope",
     r"^svc/nope: no service default/nope in the manifests"),
    ("a service without selector cannot stand for pods", "svc/external",
     r"^svc/external: service default/external has no selector; name its pods$"),
    ("a reference with too many slashes says what to write", "a/b/c/d",
     r"^a/b/c/d: expected POD, NAMESPACE/POD, KIND/NAME"),
    ("an unknown kind in ns/kind/name", "default/widget/x", r"expected POD, NAMESPACE/POD"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in UNKNOWN], ids=[c[0] for c in UNKNOWN])
def test_resolve_errors(snap: Cluster, text: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        resolve(snap, text)


def test_an_empty_snapshot_says_it_holds_no_pods() -> None:
    with pytest.raises(
        TargetError, match=r"a: no pod default/a in the manifests; the manifests hold no pods"
    ):
        resolve(cluster([]).cluster, "a")


SERVICE_PORTS = [
    ("a service port is found by its number", "svc/web:80", 80, "http"),
    ("a service port is found by its name", "svc/web:http", 80, "http"),
    ("a UDP port needs /UDP", "svc/web:53/UDP", 53, "dns"),
    ("a service with one port needs no port", "svc/backend", 80, "http"),
    ("a node port is found by its number", "svc/exposed:30080", 80, "http"),
    ("the port itself still comes first", "svc/exposed:80", 80, "http"),
]


@pytest.mark.parametrize(
    ("text", "port", "name"), [c[1:] for c in SERVICE_PORTS], ids=[c[0] for c in SERVICE_PORTS]
)
def test_service_port(snap: Cluster, text: str, port: int, name: str) -> None:
    target_text, spec = split_port(text)
    sp = service_port(resolve(snap, target_text), spec)
    assert (sp.port, sp.name) == (port, name)


SERVICE_PORT_ERRORS = [
    ("a port the service does not have lists the ports it has", "svc/web:8080",
     r"^svc/web: service default/web has no port 8080/TCP; it has http 80/TCP, dns 53/UDP$"),
    ("a TCP port is not the UDP port of that number", "svc/web:53",
     r"has no port 53/TCP; it has http 80/TCP, dns 53/UDP"),
    ("a service with several ports needs one named", "svc/web",
     r"^svc/web: which port\? service default/web has http 80/TCP, dns 53/UDP; write svc/web:PORT"),
    ("node ports are listed as kubectl lists them", "svc/exposed:30081",
     r"has no port 30081/TCP; it has http 80:30080/TCP, metrics 9090:30090/TCP$"),
    ("a node port is not the UDP port of that number", "svc/exposed:30080/UDP",
     r"has no port 30080/UDP"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [c[1:] for c in SERVICE_PORT_ERRORS],
    ids=[c[0] for c in SERVICE_PORT_ERRORS],
)
def test_service_port_errors(snap: Cluster, text: str, message: str) -> None:
    target_text, spec = split_port(text)
    with pytest.raises(TargetError, match=message):
        service_port(resolve(snap, target_text), spec)


CONNECTIONS = [
    ("a pod port is used as given", "frontend", "web-1:8080",
     [("default/frontend", "default/web-1", 8080, Protocol.TCP)]),
    ("a service port maps through a numeric targetPort", "frontend", "svc/backend:80",
     [("default/frontend", "default/backend-canary", 8081, Protocol.TCP)]),
    ("a named targetPort is resolved on each pod", "frontend", "svc/web:http",
     [("default/frontend", "default/web-1", 8080, Protocol.TCP),
      ("default/frontend", "default/web-2", 9090, Protocol.TCP)]),
    ("a named pod port is resolved on the pod", "frontend", "deploy/backend:http",
     [("default/frontend", "default/backend", 8080, Protocol.TCP)]),
    ("a pod with a single port needs no port", "frontend", "shop/cart",
     [("default/frontend", "shop/cart", 80, Protocol.TCP)]),
    ("an outside address is a destination with the port given", "frontend", "192.0.2.7:443",
     [("default/frontend", "192.0.2.7", 443, Protocol.TCP)]),
    ("an IPv6 address in brackets is the pod that has it", "frontend", "[2001:db8::1]:80/udp",
     [("default/frontend", "shop/cart", 80, Protocol.UDP)]),
    ("every source pod of a workload", "svc/web", "frontend:80",
     [("default/web-1", "default/frontend", 80, Protocol.TCP),
      ("default/web-2", "default/frontend", 80, Protocol.TCP)]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("src", "dst", "expected"), [c[1:] for c in CONNECTIONS], ids=[c[0] for c in CONNECTIONS]
)
def test_connections(
    snap: Cluster, src: str, dst: str, expected: list[tuple[str, str, int, Protocol]]
) -> None:
    traffic, missing = connections(snap, src, dst, "default")
    assert [(t.src.key, t.dst.key, t.port, t.protocol) for t in traffic] == expected
    assert missing == []


def test_a_pod_without_the_named_port_is_reported_missing(snap: Cluster) -> None:
    traffic, missing = connections(snap, "frontend", "svc/web:http", "default")
    assert len(traffic) == 2
    traffic, missing = connections(snap, "frontend", "shop/cart:http", "default")
    assert traffic == []
    assert [m.reason for m in missing] == ["shop/cart has no port http"]


def test_a_destination_without_exactly_one_port_needs_one_written(snap: Cluster) -> None:
    with pytest.raises(TargetError, match=r"^frontend: which port\? write frontend:PORT"):
        connections(snap, "shop/cart", "frontend", "default")


def test_a_destination_with_one_udp_port_is_checked_on_udp() -> None:
    snap = cluster(
        load_text(
            "kind: Pod\nmetadata: {name: client}\n---\nkind: Pod\nmetadata: {name: dns}\n"
            "spec: {containers: [{name: c, ports: [{containerPort: 53, protocol: UDP}]}]}\n"
        ).objects
    ).cluster
    traffic, _ = connections(snap, "client", "dns", "default")
    assert [(t.port, t.protocol) for t in traffic] == [(53, Protocol.UDP)]


def test_one_port_number_on_two_protocols_is_ambiguous() -> None:
    snap = cluster(
        load_text(
            "kind: Pod\nmetadata: {name: client}\n---\nkind: Pod\nmetadata: {name: dns}\n"
            "spec: {containers: [{name: c, ports: [{containerPort: 53, protocol: UDP},"
            " {containerPort: 53}]}]}\n"
        ).objects
    ).cluster
    with pytest.raises(TargetError, match=r"^dns: which port\? write dns:PORT"):
        connections(snap, "client", "dns", "default")


def test_a_long_list_of_known_pods_is_cut_and_counted() -> None:
    many = "".join(f"kind: Pod\nmetadata: {{name: p{i:02}}}\n---\n" for i in range(11))
    snap = cluster(load_text(many).objects).cluster
    with pytest.raises(TargetError) as info:
        resolve(snap, "nobody")
    assert str(info.value).endswith(
        "pods here: default/p00, default/p01, default/p02, default/p03, default/p04, "
        "default/p05, default/p06, default/p07 and 3 more"
    )


STARS = textwrap.dedent(
    """\
    kind: ReplicationController
    apiVersion: v1
    metadata: {name: frontend, namespace: stars}
    spec:
      replicas: 1
      template:
        metadata: {labels: {role: frontend}}
        spec: {containers: [{name: frontend, ports: [{containerPort: 80}]}]}
    ---
    kind: ReplicationController
    apiVersion: v1
    metadata: {name: backend, namespace: stars}
    spec:
      selector: {role: backend}
      template:
        metadata: {labels: {role: backend}}
        spec: {containers: [{name: backend, ports: [{containerPort: 6379}]}]}
    """
)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        pytest.param("stars/rc/frontend", ["stars/frontend"], id="rc/NAME"),
        pytest.param("replicationcontroller/backend", ["stars/backend"],
                     id="replicationcontroller/NAME"),
        pytest.param("replicationcontrollers/backend", ["stars/backend"], id="the plural"),
    ],
)  # fmt: skip
def test_a_replication_controller_stands_for_its_pods(text: str, keys: list[str]) -> None:
    snap = cluster(load_text(STARS).objects).cluster
    assert [e.key for e in resolve(snap, text, "stars").endpoints] == keys
