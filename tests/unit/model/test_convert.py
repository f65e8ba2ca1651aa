"""Kubernetes objects to the model: namespaces, pods, workloads' stand-ins, services, policies."""

from __future__ import annotations

import ipaddress
import textwrap

import pytest

from podwall.manifests.reader import load_text
from podwall.model.cluster import Cluster, Pod
from podwall.model.convert import Conversion, cluster
from podwall.model.policy import PolicyPort, PolicyType
from podwall.model.ports import ContainerPort, Protocol


def _convert(text: str) -> Conversion:
    return cluster(load_text(textwrap.dedent(text)).objects)


def _snapshot(text: str) -> Cluster:
    return _convert(text).cluster


def _only_pod(text: str) -> Pod:
    (pod,) = _snapshot(text).pods
    return pod


def test_a_namespace_gets_its_name_label() -> None:
    snap = _snapshot(
        """
        kind: Namespace
        metadata: {name: shop, labels: {team: red}}
        """
    )
    ns = snap.namespaces["shop"]
    assert dict(ns.labels) == {"team": "red", "kubernetes.io/metadata.name": "shop"}
    assert ns.declared


def test_the_name_label_cannot_be_overridden() -> None:
    snap = _snapshot(
        """
        kind: Namespace
        metadata: {name: shop, labels: {kubernetes.io/metadata.name: other}}
        """
    )
    assert snap.namespaces["shop"].labels["kubernetes.io/metadata.name"] == "shop"


def test_namespaces_referred_to_but_not_declared_exist_with_only_the_name_label() -> None:
    snap = _snapshot(
        """
        kind: Pod
        metadata: {name: a, namespace: shop}
        ---
        kind: Service
        metadata: {name: s, namespace: web}
        ---
        kind: NetworkPolicy
        metadata: {name: p, namespace: locked}
        spec: {podSelector: {}}
        """
    )
    assert sorted(snap.namespaces) == ["locked", "shop", "web"]
    for name, ns in snap.namespaces.items():
        assert dict(ns.labels) == {"kubernetes.io/metadata.name": name}
        assert not ns.declared


def test_objects_without_a_namespace_are_in_default() -> None:
    pod = _only_pod("kind: Pod\nmetadata: {name: a}\n")
    assert pod.key == "default/a"


IPS = [
    ("podIP alone", "{podIP: 10.0.0.1}", ["10.0.0.1"]),
    (
        "dual stack podIPs give both families",
        "{podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}",
        ["10.0.0.1", "fd00::1"],
    ),
    ("podIPs without podIP", "{podIPs: [{ip: 'fd00::1'}]}", ["fd00::1"]),
    (
        "podIP comes first when podIPs omits it",
        "{podIP: 10.0.0.1, podIPs: [{ip: 'fd00::1'}]}",
        ["10.0.0.1", "fd00::1"],
    ),
    (
        "the same address twice is one address",
        "{podIPs: [{ip: 10.0.0.1}, {ip: 10.0.0.1}, {ip: 'fd00::0:1'}, {ip: 'fd00::1'}]}",
        ["10.0.0.1", "fd00::1"],
    ),
    (
        "invalid addresses are ignored",
        "{podIP: pending, podIPs: [{ip: 10.0.0.300}, {}, {ip: 10.0.0.2}]}",
        ["10.0.0.2"],
    ),
    ("no status means no address", "{}", []),
]


@pytest.mark.parametrize(("status", "expected"), [c[1:] for c in IPS], ids=[c[0] for c in IPS])
def test_pod_ips(status: str, expected: list[str]) -> None:
    pod = _only_pod(f"kind: Pod\nmetadata: {{name: a}}\nstatus: {status}\n")
    assert pod.ips == tuple(ipaddress.ip_address(ip) for ip in expected)


def test_container_ports_with_names_protocols_and_init_containers() -> None:
    pod = _only_pod(
        """
        kind: Pod
        metadata: {name: a}
        spec:
          initContainers:
          - name: init
            ports: [{containerPort: 9000, name: setup}]
          containers:
          - name: web
            ports:
            - {containerPort: 80, name: http}
            - {containerPort: 53, name: dns, protocol: UDP}
          - name: sidecar
            ports:
            - {containerPort: 7777, protocol: SCTP}
            - {containerPort: 81, protocol: tcp}
            - {name: no-number}
        """
    )
    assert pod.ports == (
        ContainerPort(port=80, protocol=Protocol.TCP, name="http", container="web"),
        ContainerPort(port=53, protocol=Protocol.UDP, name="dns", container="web"),
        ContainerPort(port=7777, protocol=Protocol.SCTP, name=None, container="sidecar"),
        ContainerPort(port=9000, protocol=Protocol.TCP, name="setup", container="init"),
    )
    assert pod.named_port("dns", Protocol.UDP) == 53
    assert pod.named_port("dns", Protocol.TCP) is None


def test_host_network_and_labels() -> None:
    pod = _only_pod(
        """
        kind: Pod
        metadata: {name: a, labels: {app: agent, version: 2}}
        spec: {hostNetwork: true, nodeName: n1}
        """
    )
    assert pod.host_network
    assert pod.node == "n1"
    assert dict(pod.labels) == {"app": "agent", "version": "2"}


TEMPLATE = """
    template:
      metadata: {labels: {app: web}}
      spec:
        hostNetwork: false
        containers:
        - name: c
          ports: [{containerPort: 8080, name: http}]
"""


def _workload(kind: str) -> str:
    selector = "{app: web}" if kind == "ReplicationController" else "{matchLabels: {app: web}}"
    spec = f"  selector: {selector}\n" + textwrap.indent(textwrap.dedent(TEMPLATE), "  ")
    if kind == "CronJob":
        spec = "  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n" + textwrap.indent(
            spec, "    "
        )
    return f"kind: {kind}\nmetadata: {{name: web, namespace: shop}}\nspec:\n{spec}"


WORKLOADS = [
    ("a Deployment stands for the pods it would create", "Deployment"),
    ("a ReplicaSet stands for the pods it would create", "ReplicaSet"),
    ("a ReplicationController stands for the pods it would create", "ReplicationController"),
    ("a StatefulSet stands for the pods it would create", "StatefulSet"),
    ("a DaemonSet stands for the pods it would create", "DaemonSet"),
    ("a Job stands for the pods it would create", "Job"),
    ("a CronJob stands for the pods of its jobTemplate", "CronJob"),
]


@pytest.mark.parametrize("kind", [c[1] for c in WORKLOADS], ids=[c[0] for c in WORKLOADS])
def test_a_workload_stands_for_its_pods(kind: str) -> None:
    snap = _snapshot(_workload(kind))
    (pod,) = snap.pods
    assert pod.key == "shop/web"
    assert dict(pod.labels) == {"app": "web"}
    assert pod.ports == (ContainerPort(port=8080, name="http", container="c"),)
    assert pod.workload == (kind, "web")
    assert pod.ips == ()
    (workload,) = snap.workloads
    assert (workload.kind, workload.key) == (kind, "shop/web")


def test_a_workload_whose_pods_are_given_adds_no_stand_in() -> None:
    snap = _snapshot(
        _workload("Deployment")
        + "\n---\nkind: Pod\nmetadata: {name: web-5d8f-abcde, namespace: shop,"
        + " labels: {app: web, pod-template-hash: 5d8f}}\n"
    )
    assert [p.key for p in snap.pods] == ["shop/web-5d8f-abcde"]


def test_pods_in_another_namespace_do_not_count_as_a_workloads_pods() -> None:
    snap = _snapshot(
        _workload("Deployment") + "\n---\nkind: Pod\nmetadata: {name: x, labels: {app: web}}\n"
    )
    assert sorted(p.key for p in snap.pods) == ["default/x", "shop/web"]


def _owned(kind: str, owner: str, controller: bool = True) -> str:
    return _workload(kind).replace(
        "metadata: {name: web, namespace: shop}",
        "metadata:\n  name: web-5d8f\n  namespace: shop\n  ownerReferences:\n"
        f"  - {{kind: {owner}, name: web, controller: {str(controller).lower()}}}",
    )


OWNED = [
    (
        "a ReplicaSet owned by a given Deployment adds no second stand-in",
        "ReplicaSet",
        "Deployment",
    ),
    ("a Job owned by a given CronJob adds no second stand-in", "Job", "CronJob"),
]


@pytest.mark.parametrize(("kind", "owner"), [c[1:] for c in OWNED], ids=[c[0] for c in OWNED])
def test_an_owned_workload_adds_no_second_stand_in(kind: str, owner: str) -> None:
    snap = _snapshot(_workload(owner) + "\n---\n" + _owned(kind, owner))
    assert [(p.key, p.workload) for p in snap.pods] == [("shop/web", (owner, "web"))]
    assert sorted(w.kind for w in snap.workloads) == sorted([kind, owner])


def test_an_owner_reference_that_is_not_the_controller_does_not_count() -> None:
    snap = _snapshot(
        _workload("Deployment") + "\n---\n" + _owned("ReplicaSet", "Deployment", False)
    )
    assert sorted(p.key for p in snap.pods) == ["shop/web", "shop/web-5d8f"]


def test_a_replicaset_whose_deployment_is_not_given_stands_for_its_pods() -> None:
    owned = _workload("ReplicaSet").replace(
        "metadata: {name: web, namespace: shop}",
        "metadata:\n  name: web-5d8f\n  namespace: shop\n  ownerReferences:\n"
        "  - {kind: Deployment, name: web, controller: true}",
    )
    snap = _snapshot(owned)
    assert [(p.key, p.workload) for p in snap.pods] == [
        ("shop/web-5d8f", ("ReplicaSet", "web-5d8f"))
    ]


def test_a_name_collision_with_a_real_pod_renames_the_stand_in() -> None:
    snap = _snapshot(
        _workload("Deployment")
        + "\n---\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: debug}}\n"
    )
    assert sorted(p.key for p in snap.pods) == ["shop/deploy-web", "shop/web"]
    (stand_in,) = [p for p in snap.pods if p.workload]
    assert stand_in.name == "deploy-web"
    assert dict(stand_in.labels) == {"app": "web"}


def test_two_workloads_of_one_name_get_two_stand_ins() -> None:
    snap = _snapshot(_workload("Deployment") + "\n---\n" + _workload("StatefulSet"))
    assert sorted(p.key for p in snap.pods) == ["shop/sts-web", "shop/web"]


def test_a_workload_without_selector_is_found_by_its_template_labels() -> None:
    snap = _snapshot(
        """
        kind: Job
        metadata: {name: once}
        spec:
          template:
            metadata: {labels: {job: once}}
            spec: {containers: [{name: c}]}
        """
    )
    (workload,) = snap.workloads
    assert workload.selector.render() == "job=once"


@pytest.mark.parametrize(
    ("selector", "rendered"),
    [
        pytest.param("selector: {role: frontend, app: stars}", "app=stars,role=frontend",
                     id="a plain label map"),
        pytest.param("selector: {}", "app=stars,role=frontend", id="empty: the template's labels"),
        pytest.param("", "app=stars,role=frontend", id="absent: the template's labels"),
    ],
)  # fmt: skip
def test_a_replication_controller_s_selector_is_a_plain_map(selector: str, rendered: str) -> None:
    snap = _snapshot(
        f"""
        kind: ReplicationController
        metadata: {{name: frontend, namespace: stars}}
        spec:
          {selector}
          template:
            metadata: {{labels: {{role: frontend, app: stars}}}}
            spec: {{containers: [{{name: c}}]}}
        """
    )
    (workload,) = snap.workloads
    assert workload.selector.render() == rendered


def test_a_replication_controller_whose_pods_are_given_adds_no_stand_in() -> None:
    snap = _snapshot(
        _workload("ReplicationController")
        + "\n---\nkind: Pod\nmetadata: {name: web-abcde, namespace: shop, labels: {app: web}}\n"
    )
    assert [p.key for p in snap.pods] == ["shop/web-abcde"]


def test_unmodelled_kinds_are_counted_as_ignored() -> None:
    conversion = _convert(
        """
        kind: ConfigMap
        metadata: {name: a}
        ---
        kind: ConfigMap
        metadata: {name: b}
        ---
        kind: Ingress
        metadata: {name: c}
        ---
        metadata: {name: no-kind}
        ---
        kind: Pod
        metadata: {name: p}
        """
    )
    assert conversion.ignored == {"ConfigMap": 2, "Ingress": 1, "<no kind>": 1}
    assert [p.name for p in conversion.cluster.pods] == ["p"]


def _policy_types(spec: str) -> frozenset[PolicyType]:
    snap = _snapshot(f"kind: NetworkPolicy\nmetadata: {{name: p}}\nspec: {spec}\n")
    (policy,) = snap.policies
    return policy.policy_types


INGRESS = frozenset({PolicyType.INGRESS})
BOTH = frozenset({PolicyType.INGRESS, PolicyType.EGRESS})
EGRESS = frozenset({PolicyType.EGRESS})
POLICY_TYPES = [
    ("without policyTypes or rules a policy isolates ingress only", "{podSelector: {}}", INGRESS),
    (
        "ingress rules alone default to Ingress",
        "{podSelector: {}, ingress: [{}]}",
        INGRESS,
    ),
    (
        "egress rules add Egress to the default",
        "{podSelector: {}, egress: [{to: [{podSelector: {}}]}]}",
        BOTH,
    ),
    ("an empty egress list does not add Egress", "{podSelector: {}, egress: []}", INGRESS),
    (
        "explicit Egress only is kept even with ingress rules",
        "{podSelector: {}, policyTypes: [Egress], ingress: [{}]}",
        EGRESS,
    ),
    (
        "explicit Ingress and Egress are both kept",
        "{podSelector: {}, policyTypes: [Ingress, Egress]}",
        BOTH,
    ),
]


@pytest.mark.parametrize(
    ("spec", "expected"), [c[1:] for c in POLICY_TYPES], ids=[c[0] for c in POLICY_TYPES]
)
def test_policy_types_defaulting(spec: str, expected: frozenset[PolicyType]) -> None:
    assert _policy_types(spec) == expected


def test_policy_rules_peers_and_ports() -> None:
    snap = _snapshot(
        """
        kind: NetworkPolicy
        metadata: {name: p, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: db}}
          ingress:
          - from:
            - podSelector: {matchLabels: {app: web}}
              namespaceSelector: {}
            - ipBlock: {cidr: 10.0.0.1/24, except: [10.0.0.128/25]}
            ports:
            - {port: 5432}
            - {port: metrics, protocol: UDP}
            - {port: 9000, endPort: 9100}
        """
    )
    (policy,) = snap.policies
    assert policy.key == "shop/p"
    (rule,) = policy.ingress
    both, block = rule.peers
    assert both.pod_selector is not None
    assert both.pod_selector.render() == "app=web"
    assert both.namespace_selector is not None
    assert both.namespace_selector.is_empty
    assert block.ip_block is not None
    assert str(block.ip_block.cidr) == "10.0.0.0/24"
    assert block.ip_block.text == "10.0.0.1/24"
    assert [p.render() for p in rule.ports] == ["TCP 5432", "UDP metrics", "TCP 9000-9100"]


def test_a_null_port_is_a_zero_port_all_tcp_ports_as_go_decodes_it() -> None:
    snap = _snapshot(
        """
        kind: NetworkPolicy
        metadata: {name: p, namespace: shop}
        spec:
          podSelector: {}
          ingress:
          - ports: [null]
        """
    )
    (policy,) = snap.policies
    (rule,) = policy.ingress
    assert [p.render() for p in rule.ports] == [PolicyPort(protocol=Protocol.TCP).render()]


SERVICE_PORTS = [
    ("targetPort defaults to port", "{port: 80}", 80, Protocol.TCP),
    ("a numeric targetPort is kept", "{port: 80, targetPort: 8080}", 8080, Protocol.TCP),
    ("a named targetPort stays a name", "{port: 80, targetPort: http}", "http", Protocol.TCP),
    ("targetPort 0 is the port, as the API server defaults it", "{port: 80, targetPort: 0}", 80,
     Protocol.TCP),
    ("the protocol is kept", "{port: 53, protocol: UDP}", 53, Protocol.UDP),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "target", "protocol"),
    [c[1:] for c in SERVICE_PORTS],
    ids=[c[0] for c in SERVICE_PORTS],
)
def test_service_ports(raw: str, target: int | str, protocol: Protocol) -> None:
    snap = _snapshot(f"kind: Service\nmetadata: {{name: s}}\nspec: {{ports: [{raw}]}}\n")
    (svc,) = snap.services
    (port,) = svc.ports
    assert (port.target_port, port.protocol) == (target, protocol)


def test_a_service_keeps_its_selector_and_a_headless_one_has_none() -> None:
    snap = _snapshot(
        """
        kind: Service
        metadata: {name: web}
        spec: {selector: {app: web}, ports: [{name: http, port: 80}], clusterIP: 10.96.0.10}
        ---
        kind: Service
        metadata: {name: external}
        spec: {ports: [{port: 443}]}
        """
    )
    web, external = snap.services
    assert web.selector is not None
    assert web.selector.render() == "app=web"
    assert web.cluster_ip == "10.96.0.10"
    assert web.ports[0].name == "http"
    assert external.selector is None


def test_ports_the_api_server_would_reject_are_left_out_instead_of_failing() -> None:
    snap = _snapshot(
        """
        kind: Service
        metadata: {name: s}
        spec: {ports: [{port: 80, protocol: ICMP}, {port: http}, {port: 81}]}
        """
    )
    assert [p.port for p in snap.services[0].ports] == [81]


def test_objects_keep_their_source() -> None:
    snap = _snapshot("kind: Pod\nmetadata: {name: a}\n---\n" + _workload("Deployment"))
    assert [(p.name, p.source.line) for p in snap.pods] == [("a", 1), ("web", 4)]


def test_a_null_label_value_is_the_empty_string_as_in_go() -> None:
    snap = _snapshot(
        """
        kind: Pod
        metadata: {name: a, labels: {canary: }}
        ---
        kind: NetworkPolicy
        metadata: {name: p}
        spec: {podSelector: {matchLabels: {canary: }}}
        """
    )
    (pod,) = snap.pods
    assert dict(pod.labels) == {"canary": ""}
    assert snap.policies[0].pod_selector.matches(pod.labels)


LENIENT = [
    ("a pod whose spec is not an object", "kind: Pod\nmetadata: {name: a}\nspec: oops\n"),
    ("a pod whose status is a list", "kind: Pod\nmetadata: {name: a}\nstatus: [1]\n"),
    (
        "a container that is not an object",
        "kind: Pod\nmetadata: {name: a}\nspec: {containers: [web]}\n",
    ),
    (
        "a workload selector with an operator in the wrong case",
        "kind: Deployment\nmetadata: {name: a}\nspec:\n  selector:\n    matchExpressions:\n"
        "    - {key: app, operator: in, values: [a]}\n"
        "  template: {metadata: {labels: {app: a}}}\n",
    ),
    (
        "a CronJob whose jobTemplate is not an object",
        "kind: CronJob\nmetadata: {name: a}\nspec: {jobTemplate: nightly}\n",
    ),
]


@pytest.mark.parametrize("text", [c[1] for c in LENIENT], ids=[c[0] for c in LENIENT])
def test_objects_the_api_server_would_reject_still_convert(text: str) -> None:
    (pod,) = _snapshot(text).pods
    assert pod.name == "a"
    assert pod.ports == ()


def test_a_workload_with_an_unreadable_selector_is_found_by_its_template() -> None:
    (workload,) = _snapshot(LENIENT[3][1]).workloads
    assert workload.selector.render() == "app=a"


def test_an_object_given_twice_is_one_object_and_the_last_declaration_wins() -> None:
    conversion = _convert(
        """
        kind: Pod
        metadata: {name: a, labels: {v: "1"}}
        ---
        kind: Pod
        metadata: {name: b}
        ---
        kind: Pod
        metadata: {name: a, labels: {v: "2"}}
        ---
        kind: Pod
        metadata: {name: a, namespace: other}
        ---
        kind: Service
        metadata: {name: a}
        """
    )
    pods = conversion.cluster.pods
    assert [(p.key, dict(p.labels)) for p in pods] == [
        ("default/a", {"v": "2"}),
        ("default/b", {}),
        ("other/a", {}),
    ]
    assert conversion.redeclared == ["Pod default/a"]


def test_a_workload_given_twice_has_one_stand_in() -> None:
    conversion = _convert(_workload("Deployment") + "\n---\n" + _workload("Deployment"))
    assert [p.key for p in conversion.cluster.pods] == ["shop/web"]
    assert conversion.redeclared == ["Deployment shop/web"]


# ClusterNetworkPolicy and Node (issue 11).

CNP = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guardrails}
spec:
  tier: Baseline
  priority: 7
  subject:
    pods: {podSelector: {matchLabels: {app: web}}}
  ingress:
  - name: from-monitoring
    action: Accept
    from: [{namespaces: {matchLabels: {team: ops}}}]
    protocols:
    - tcp: {destinationPort: {number: 80}}
    - udp: {destinationPort: {range: {start: 5000, end: 5010}}}
    - sctp: {destinationPort: {number: 9}}
    - destinationNamedPort: metrics
  egress:
  - action: Deny
    to:
    - networks: [10.0.0.1/8]
    - nodes: {}
    - pods: {namespaceSelector: {matchLabels: {a: b}}, podSelector: {}}
    - {}
"""


def test_a_cluster_network_policy_converts_with_its_order_and_actions() -> None:
    from podwall.model.clusterpolicy import Action, ClusterPort, Tier

    (cnp,) = _snapshot(CNP).cluster_policies
    assert (cnp.key, cnp.tier, cnp.priority) == ("baseline/guardrails", Tier.BASELINE, 7)
    assert cnp.subject.pods is not None
    assert cnp.subject.pods.namespace_selector.is_empty
    assert cnp.subject.render() == "pods {app: web} in namespaces {}"
    (rule,) = cnp.ingress
    assert (rule.name, rule.action) == ("from-monitoring", Action.ACCEPT)
    assert rule.ports == (
        ClusterPort(protocol=Protocol.TCP, start=80),
        ClusterPort(protocol=Protocol.UDP, start=5000, end=5010),
        ClusterPort(protocol=Protocol.SCTP, start=9),
        ClusterPort(name="metrics"),
    )
    assert [p.render() for p in rule.ports] == [
        "TCP 80",
        "UDP 5000-5010",
        "SCTP 9",
        "named port metrics",
    ]
    (deny,) = cnp.egress
    assert [p.render() for p in deny.peers] == [
        "networks 10.0.0.1/8",
        "nodes {}",
        "pods {} in namespaces {a: b}",
        "an empty peer",
    ]
    assert deny.peers[0].networks[0].cidr == ipaddress.ip_network("10.0.0.0/8")
    assert deny.peers[3].is_empty


def test_a_cluster_scoped_object_is_described_without_a_namespace() -> None:
    conversion = _convert(CNP + "---\n" + CNP)
    assert conversion.redeclared == ["ClusterNetworkPolicy guardrails"]
    assert len(conversion.cluster.cluster_policies) == 1


def test_a_node_keeps_its_ip_addresses_and_a_host_network_pod_takes_them() -> None:
    snap = _snapshot(
        """
        kind: Node
        metadata: {name: n1, labels: {kubernetes.io/os: linux}}
        status:
          addresses:
          - {type: Hostname, address: n1}
          - {type: InternalIP, address: 198.18.100.1}
          - {type: InternalIP, address: "fd00::1"}
        ---
        kind: Pod
        metadata: {name: agent, namespace: kube-system}
        spec: {hostNetwork: true, nodeName: n1, containers: [{name: c}]}
        ---
        kind: Pod
        metadata: {name: web, namespace: default}
        spec: {nodeName: n1, containers: [{name: c}]}
        """
    )
    (node,) = snap.nodes
    addresses = (ipaddress.ip_address("198.18.100.1"), ipaddress.ip_address("fd00::1"))
    assert node.addresses == addresses
    assert dict(node.labels) == {"kubernetes.io/os": "linux"}
    assert snap.pods_by_key["kube-system/agent"].ips == addresses
    assert snap.pods_by_key["default/web"].ips == ()


@pytest.mark.parametrize(
    ("annotations", "audit"),
    [
        pytest.param(
            "{podwall.dev/enforcement: audit}", True, id="audit puts the policy in audit mode"
        ),
        pytest.param("{podwall.dev/enforcement: enforce}", False, id="enforce enforces it"),
        pytest.param("{podwall.dev/enforcement: Audit}", False, id="another spelling fails closed"),
        pytest.param("{other: audit}", False, id="another annotation does nothing"),
        pytest.param("null", False, id="no annotations enforce it"),
    ],
)
def test_the_enforcement_annotation(annotations: str, audit: bool) -> None:
    (policy,) = _snapshot(
        f"""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {{name: trial, annotations: {annotations}}}
        spec: {{podSelector: {{}}}}
        """
    ).policies
    assert policy.audit is audit
