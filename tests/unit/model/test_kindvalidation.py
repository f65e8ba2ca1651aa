"""Validation of the kinds podwall reads besides NetworkPolicy, in the API server's words."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from podwall.model.kindvalidation import validate

POD = "kind: Pod\nmetadata: {name: web, labels: {app: web}}\n"
SVC = "kind: Service\nmetadata: {name: web}\n"
DEPLOY = (
    "kind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n"
    "  template:\n    metadata: {labels: {app: web}}\n"
)

RC = (
    "kind: ReplicationController\nmetadata: {name: frontend}\nspec:\n  selector: {role: frontend}\n"
    "  template:\n    metadata: {labels: {role: frontend}}\n"
)


def _errors(text: str) -> list[str]:
    body: Any = yaml.safe_load(text)
    return [e.render() for e in validate(body["kind"], body)]


CASES = [
    # The three internal errors of the issue, now bad input.
    ("a Service whose ports is a boolean", SVC + "spec: {ports: true}",
     ["spec.ports: Invalid value: true: must be a list"]),
    ("a Service whose ports is a float", SVC + "spec: {ports: 3.5}",
     ["spec.ports: Invalid value: 3.5: must be a list"]),
    ("a Deployment whose containers is -1", DEPLOY + "    spec: {containers: -1}",
     ["spec.template.spec.containers: Invalid value: -1: must be a list"]),
    # Metadata.
    ("a name is required", "kind: Pod\nmetadata: {labels: {app: a}}",
     ["metadata.name: Required value: name or generateName is required"]),
    ("a Service name is a DNS-1035 label", "kind: Service\nmetadata: {name: 1web}",
     ['metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case '
      "alphanumeric characters or '-', start with an alphabetic character, and end with an "
      "alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
      "'[a-z]([-a-z0-9]*[a-z0-9])?')"]),
    ("a Namespace has no namespace", "kind: Namespace\nmetadata: {name: a, namespace: b}",
     ['metadata.namespace: Forbidden: not allowed on this type']),
    ("a label value that is a number", "kind: Pod\nmetadata: {name: a, labels: {app: 1}}",
     ["metadata.labels[app]: Invalid value: 1: must be a string"]),
    ("an owner reference without a kind",
     "kind: Pod\nmetadata: {name: a, ownerReferences: [{apiVersion: v1, name: b, uid: u}]}",
     ['metadata.ownerReferences[0].kind: Invalid value: "": kind must not be empty']),
    ("an owner reference that is a string", "kind: Pod\nmetadata: {name: a, ownerReferences: [x]}",
     ['metadata.ownerReferences[0]: Invalid value: "x": must be an object']),
    # Pods.
    ("a container port out of range", POD + "spec: {containers: [{name: c, ports: [{containerPort: 70000}]}]}",
     ["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
      "65535, inclusive"]),
    ("a container port without its number", POD + "spec: {containers: [{name: c, ports: [{name: http}]}]}",
     ["spec.containers[0].ports[0].containerPort: Required value"]),
    ("an unknown protocol", POD + "spec: {containers: [{name: c, ports: [{containerPort: 80, protocol: ICMP}]}]}",
     ['spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: '
      '"SCTP", "TCP", "UDP"']),
    ("a port name used twice", POD + "spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}, {name: http, containerPort: 81}]}]}",
     ['spec.containers[0].ports[1].name: Duplicate value: "http"']),
    ("a port name that is too long", POD + "spec: {containers: [{name: c, ports: [{name: a-very-long-port-name, containerPort: 80}]}]}",
     ['spec.containers[0].ports[0].name: Invalid value: "a-very-long-port-name": must be no more '
      "than 15 bytes"]),
    ("hostNetwork is a boolean", POD + "spec: {hostNetwork: 'yes'}",
     ['spec.hostNetwork: Invalid value: "yes": must be a boolean']),
    ("a pod IP that is not an address", POD + "status: {podIP: 10.0.0}",
     ['status.podIP: Invalid value: "10.0.0": must be a valid IP address, (e.g. 10.9.8.7 or '
      "2001:db8::ffff)"]),
    ("podIPs entries hold an ip", POD + "status: {podIPs: [{ip: 5}]}",
     ["status.podIPs[0].ip: Invalid value: 5: must be a string"]),
    # Services.
    ("two ports need names", SVC + "spec: {ports: [{port: 80}, {port: 81, name: b}]}",
     ["spec.ports[0].name: Required value"]),
    ("a port is required", SVC + "spec: {ports: [{targetPort: 80}]}",
     ["spec.ports[0].port: Required value"]),
    ("a targetPort that is neither a number nor a name", SVC + "spec: {ports: [{port: 80, targetPort: [1]}]}",
     ["spec.ports[0].targetPort: Invalid value: [1]: must be an integer or a string"]),
    ("a targetPort out of range", SVC + "spec: {ports: [{port: 80, targetPort: 70000}]}",
     ["spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive"]),
    ("a clusterIP that is not an address", SVC + "spec: {clusterIP: nope}",
     ['spec.clusterIP: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or '
      "2001:db8::ffff)"]),
    ("a selector value that is a list", SVC + "spec: {selector: {app: [a]}}",
     ['spec.selector[app]: Invalid value: ["a"]: must be a string']),
    # Workloads.
    ("a Deployment needs a selector",
     "kind: Deployment\nmetadata: {name: web}\nspec: {template: {metadata: {labels: {app: web}}}}",
     ["spec.selector: Required value"]),
    ("the selector must match the template's labels",
     DEPLOY.replace("{labels: {app: web}}", "{labels: {app: api}}"),
     ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"api"}: '
      "`selector` does not match template `labels`"]),
    ("a ReplicationController's selector is a plain map that must pick the template",
     RC.replace("{labels: {role: frontend}}", "{labels: {role: backend}}"),
     ['spec.template.metadata.labels: Invalid value: map[string]string{"role":"backend"}: '
      "`selector` does not match template `labels`"]),
    ("a ReplicationController's selector value is a string", RC.replace("{role: frontend}\n", "{role: [a]}\n", 1),
     ['spec.selector[role]: Invalid value: ["a"]: must be a string']),
    ("a ReplicationController without a selector needs template labels",
     "kind: ReplicationController\nmetadata: {name: rc}\nspec: {template: {spec: {}}}",
     ["spec.selector: Required value"]),
    ("a CronJob's pod template is under jobTemplate",
     "kind: CronJob\nmetadata: {name: r}\nspec: {jobTemplate: {spec: {template: {spec: {hostNetwork: 1}}}}}",
     ["spec.jobTemplate.spec.template.spec.hostNetwork: Invalid value: 1: must be a boolean"]),
]  # fmt: skip

VALID = [
    ("a pod without a spec", "kind: Pod\nmetadata: {name: a}"),
    ("a minimal pod", POD + "spec: {containers: [{name: c}]}"),
    ("a headless Service", SVC + "spec: {clusterIP: None, ports: [{port: 80, targetPort: http}]}"),
    ("a Service whose targetPort is 0 (defaulted to the port)", SVC + "spec: {ports: [{port: 80, targetPort: 0}]}"),
    ("a Deployment", DEPLOY + "    spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}"),
    ("a ReplicationController", RC),
    ("a ReplicationController without a selector: its template's labels",
     RC.replace("  selector: {role: frontend}\n", "")),
    ("a Job without a selector", "kind: Job\nmetadata: {name: j}\nspec: {template: {spec: {}}}"),
    ("a kind podwall does not read", "kind: ConfigMap\nmetadata: {name: 5}\ndata: 7"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_objects_are_named_in_the_api_servers_words(text: str, expected: list[str]) -> None:
    assert _errors(text) == expected


@pytest.mark.parametrize("text", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_objects_pass(text: str) -> None:
    assert _errors(text) == []
