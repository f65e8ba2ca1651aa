"""NetworkPolicy validation gives the API server's errors, word for word, all in one pass."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

from podwall.model.validation import validate_network_policy

# Upstream's messages for names, label keys and label values (RegexError prints a double space
# before each "or").
SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    r"for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
KEY_NAME = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
BAD_CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
PORT_CHARSET = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
IN_NOT_IN = "must be specified when `operator` is 'In' or 'NotIn'"
EXISTS = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"

TUTORIAL_DENY = """
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: backend-ingress-deny
spec:
  podSelector:
    matchLabels:
      app: backend
  policyTypes:
  - Ingress
"""

TUTORIAL_ALLOW = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: "backend-allow-ingress-frontend"
spec:
  podSelector:
    matchLabels:
      app: backend
  policyTypes:
    - Ingress
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app: frontend
"""

EVERY_FIELD = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: every-field.example
  namespace: shop
  labels: {app.kubernetes.io/part-of: shop, tier: ""}
  annotations: {Example.COM/Owner: "Team A", note: "anything at all, even spaces"}
spec:
  podSelector:
    matchLabels: {app: api}
    matchExpressions:
    - {key: env, operator: In, values: [prod, staging]}
    - {key: example.com/track, operator: NotIn, values: [canary]}
    - {key: debug, operator: DoesNotExist}
    - {key: tier, operator: Exists, values: []}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}
      podSelector: {matchLabels: {app: web}}
    - ipBlock: {cidr: 192.168.0.0/16, except: [192.168.3.0/24, 192.168.4.0/24]}
    ports:
    - {protocol: TCP, port: 8080, endPort: 8090}
    - {protocol: UDP, port: dns}
    - {protocol: SCTP, port: 7777}
    - {port: 443}
    - {protocol: TCP}
  egress:
  - to:
    - ipBlock: {cidr: "fd00:192:168::/48", except: ["fd00:192:168:3::/64"]}
    - namespaceSelector: {}
    ports:
    - {port: 53, protocol: UDP}
  - {}
"""


def spec(text: str) -> str:
    """A NetworkPolicy named `np` with the given spec."""
    return "metadata: {name: np}\nspec:\n" + textwrap.indent(textwrap.dedent(text), "  ")


def meta(text: str) -> str:
    """A NetworkPolicy with the given metadata and an empty spec."""
    return "metadata:\n" + textwrap.indent(textwrap.dedent(text), "  ") + "spec: {}\n"


CASES: list[tuple[str, str, list[str]]] = [
    # Valid policies.
    ("the tutorial's deny-all-ingress policy is valid", TUTORIAL_DENY, []),
    ("the tutorial's allow-from-frontend policy is valid", TUTORIAL_ALLOW, []),
    ("an empty podSelector is valid", spec("podSelector: {}"), []),
    ("a policy with no spec at all is valid", "metadata: {name: np}", []),
    ("a policy that uses every field is valid", EVERY_FIELD, []),
    (
        "a cidr with host bits set is accepted, as the API server accepts it",
        spec("ingress: [from: [ipBlock: {cidr: 10.0.0.1/8, except: [10.1.2.3/16]}]]"),
        [],
    ),
    (
        "IPv6 cidrs and excepts are valid",
        spec("egress: [to: [ipBlock: {cidr: 'fd00::/8', except: ['fd00:1::/32', 'fd00::1/128']}]]"),
        [],
    ),
    (
        "leading zeros in a cidr are accepted by the legacy parser",
        spec("ingress: [from: [ipBlock: {cidr: 010.0.0.0/08, except: [10.001.0.0/16]}]]"),
        [],
    ),
    (
        "0.0.0.0/0 may except 0.0.0.0/8",
        spec("ingress: [from: [ipBlock: {cidr: 0.0.0.0/0, except: [0.0.0.0/8, 10.0.0.0/8]}]]"),
        [],
    ),
    (
        "an IPv4-mapped IPv6 cidr may except a longer IPv4-mapped prefix",
        spec(
            "ingress: [from: [ipBlock: "
            "{cidr: '::ffff:0.0.0.0/96', except: ['::ffff:10.0.0.0/104']}]]"
        ),
        [],
    ),
    (
        "endPort equal to port is valid",
        spec("ingress: [ports: [{port: 80, endPort: 80}]]"),
        [],
    ),
    (
        "null fields decode to their zero values",
        spec("podSelector: null\ningress: [null, {from: null, ports: [null]}]\npolicyTypes: null"),
        [],
    ),
    (
        "generateName stands in for a missing name",
        "metadata: {generateName: np-}\nspec: {}",
        [],
    ),
    (
        "a missing namespace is left for kubectl to fill in",
        "metadata: {name: np, namespace: ''}",
        [],
    ),
    # metadata.
    (
        "a policy without a name is rejected",
        "spec: {podSelector: {}}",
        ["metadata.name: Required value: name or generateName is required"],
    ),
    (
        "a name that is not a DNS subdomain is rejected",
        meta("name: Backend_Policy\n"),
        [f'metadata.name: Invalid value: "Backend_Policy": {SUBDOMAIN}'],
    ),
    (
        "a name over 253 bytes is rejected",
        meta(f"name: {'a' * 254}\n"),
        [f'metadata.name: Invalid value: "{"a" * 254}": must be no more than 253 bytes'],
    ),
    (
        "a generateName is checked with its trailing dash masked",
        meta("generateName: Np-\n"),
        [f'metadata.generateName: Invalid value: "Np-": {SUBDOMAIN}'],
    ),
    (
        "a namespace with dots is not a DNS label",
        meta("name: np\nnamespace: team.a\n"),
        ['metadata.namespace: Invalid value: "team.a": must not contain dots'],
    ),
    (
        "a namespace with upper case letters is rejected",
        meta("name: np\nnamespace: Team\n"),
        [f'metadata.namespace: Invalid value: "Team": {DNS_LABEL}'],
    ),
    (
        "invalid metadata labels are rejected",
        meta("name: np\nlabels: {-app: ok, tier: -web}\n"),
        [
            f'metadata.labels: Invalid value: "-app": {KEY_NAME}',
            f'metadata.labels: Invalid value: "-web": {LABEL_VALUE}',
        ],
    ),
    (
        "annotation keys must be qualified names in any case",
        meta("name: np\nannotations: {Example.com/Owner: x, 'bad key': x}\n"),
        [f'metadata.annotations: Invalid value: "bad key": {KEY_NAME}'],
    ),
    # Ports.
    (
        "protocol ICMP is not supported",
        spec("ingress: [ports: [{protocol: ICMP, port: 80}]]"),
        [
            "spec.ingress[0].ports[0].protocol: Unsupported value: "
            '"ICMP": supported values: "TCP", "UDP", "SCTP"'
        ],
    ),
    (
        "port 123456789 is out of range",
        spec("ingress: [ports: [{protocol: TCP, port: 123456789}]]"),
        [
            "spec.ingress[0].ports[0].port: Invalid value: 123456789: "
            "must be between 1 and 65535, inclusive"
        ],
    ),
    (
        "port 0 is out of range",
        spec("egress: [ports: [{port: 0}]]"),
        ["spec.egress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"],
    ),
    (
        "the port name !@#$ is invalid",
        spec("ingress: [ports: [{port: '!@#$'}]]"),
        [
            f'spec.ingress[0].ports[0].port: Invalid value: "!@#$": {PORT_CHARSET}',
            'spec.ingress[0].ports[0].port: Invalid value: "!@#$": '
            "must contain at least one letter (a-z)",
        ],
    ),
    (
        "a port name over 15 bytes is rejected",
        spec("ingress: [ports: [{port: a-very-long-port-name}]]"),
        [
            'spec.ingress[0].ports[0].port: Invalid value: "a-very-long-port-name": '
            "must be no more than 15 bytes"
        ],
    ),
    (
        "a port name with edge and double hyphens is rejected",
        spec("ingress: [ports: [{port: -my--port}]]"),
        [
            'spec.ingress[0].ports[0].port: Invalid value: "-my--port": '
            "must not contain consecutive hyphens",
            'spec.ingress[0].ports[0].port: Invalid value: "-my--port": '
            "must not begin or end with a hyphen",
        ],
    ),
    (
        "a port number quoted as a string is a name without letters",
        spec("ingress: [ports: [{port: '80'}]]"),
        [
            'spec.ingress[0].ports[0].port: Invalid value: "80": '
            "must contain at least one letter (a-z)"
        ],
    ),
    (
        "endPort below port is rejected",
        spec("ingress: [ports: [{port: 80, endPort: 79}]]"),
        [
            "spec.ingress[0].ports[0].endPort: Invalid value: 79: "
            "must be greater than or equal to `port`"
        ],
    ),
    (
        "endPort above 65535 is rejected",
        spec("ingress: [ports: [{port: 80, endPort: 65536}]]"),
        [
            "spec.ingress[0].ports[0].endPort: Invalid value: 65536: "
            "must be between 1 and 65535, inclusive"
        ],
    ),
    (
        "endPort with a named port is rejected",
        spec("egress: [ports: [{port: http, endPort: 90}]]"),
        [
            "spec.egress[0].ports[0].endPort: Invalid value: 90: "
            "may not be specified when `port` is non-numeric"
        ],
    ),
    (
        "endPort without a port is rejected",
        spec("ingress: [ports: [{protocol: UDP, endPort: 90}]]"),
        [
            "spec.ingress[0].ports[0].endPort: Invalid value: 90: "
            "may not be specified when `port` is not specified"
        ],
    ),
    (
        "an out-of-range port and a lower endPort give both errors",
        spec("ingress: [ports: [{port: 70000, endPort: 0}]]"),
        [
            "spec.ingress[0].ports[0].port: Invalid value: 70000: "
            "must be between 1 and 65535, inclusive",
            "spec.ingress[0].ports[0].endPort: Invalid value: 0: "
            "must be greater than or equal to `port`",
            "spec.ingress[0].ports[0].endPort: Invalid value: 0: "
            "must be between 1 and 65535, inclusive",
        ],
    ),
    # Peers.
    (
        "an empty peer must specify a peer, in from and in to",
        spec("ingress: [from: [{}]]\negress: [to: [{}]]"),
        [
            "spec.ingress[0].from[0]: Required value: must specify a peer",
            "spec.egress[0].to[0]: Required value: must specify a peer",
        ],
    ),
    (
        "a peer whose selectors are null must specify a peer",
        spec("ingress: [from: [{podSelector: null, namespaceSelector: null}]]"),
        ["spec.ingress[0].from[0]: Required value: must specify a peer"],
    ),
    (
        "namespaceSelector with ipBlock is forbidden",
        spec("ingress: [from: [{namespaceSelector: {}, ipBlock: {cidr: 192.168.0.0/16}}]]"),
        ["spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer"],
    ),
    (
        "podSelector with ipBlock is forbidden",
        spec("egress: [to: [{podSelector: {matchLabels: {c: d}}, ipBlock: {cidr: 10.0.0.0/8}}]]"),
        ["spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer"],
    ),
    # ipBlock.
    (
        "an ipBlock without a cidr is rejected",
        spec("ingress: [from: [ipBlock: {except: [10.0.0.0/8]}]]"),
        ["spec.ingress[0].from[0].ipBlock.cidr: Required value"],
    ),
    (
        "a cidr with a prefix longer than the address is invalid",
        spec("ingress: [from: [ipBlock: {cidr: 192.168.0.0/33}]]"),
        [f'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "192.168.0.0/33": {BAD_CIDR}'],
    ),
    (
        "a bare address is not a cidr",
        spec("egress: [to: [ipBlock: {cidr: 10.0.0.1}]]"),
        [f'spec.egress[0].to[0].ipBlock.cidr: Invalid value: "10.0.0.1": {BAD_CIDR}'],
    ),
    (
        "an except equal to the cidr is not a strict subset",
        spec("ingress: [from: [{}, ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}]]"),
        [
            "spec.ingress[0].from[0]: Required value: must specify a peer",
            'spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "10.0.0.0/8": '
            "must be a strict subset of `cidr`",
        ],
    ),
    (
        "an except outside the cidr is rejected",
        spec("ingress: [from: [ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}]]"),
        [
            'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": '
            "must be a strict subset of `cidr`"
        ],
    ),
    (
        "an except of the other IP family is rejected",
        spec("ingress: [from: [ipBlock: {cidr: 0.0.0.0/0, except: ['::/64']}]]"),
        [
            'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "::/64": '
            "must be a strict subset of `cidr`"
        ],
    ),
    (
        "an IPv4 except in an IPv4-mapped cidr compares prefix lengths as Go does",
        spec("ingress: [from: [ipBlock: {cidr: '::ffff:10.0.0.0/104', except: [10.1.0.0/16]}]]"),
        [
            'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/16": '
            "must be a strict subset of `cidr`"
        ],
    ),
    (
        "an invalid except is reported and the rest are still checked",
        spec("ingress: [from: [ipBlock: {cidr: 10.0.0.0/8, except: [bad, 11.0.0.0/24, '']}]]"),
        [
            f'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "bad": {BAD_CIDR}',
            'spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "11.0.0.0/24": '
            "must be a strict subset of `cidr`",
            f'spec.ingress[0].from[0].ipBlock.except[2]: Invalid value: "": {BAD_CIDR}',
        ],
    ),
    (
        "excepts are not checked against an invalid cidr",
        spec("ingress: [from: [ipBlock: {cidr: 'fd00::/129', except: [10.0.0.0/8]}]]"),
        [f'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "fd00::/129": {BAD_CIDR}'],
    ),
    # policyTypes.
    (
        "an unknown policyType is unsupported",
        spec("policyTypes: [Ingress, Foo]"),
        ['spec.policyTypes[1]: Unsupported value: "Foo": supported values: "Ingress", "Egress"'],
    ),
    (
        "more than two policyTypes are rejected, printed as Go prints the slice",
        spec("policyTypes: [Ingress, Egress, Ingress]"),
        [
            'spec.policyTypes: Invalid value: []networking.PolicyType{"Ingress", "Egress", '
            '"Ingress"}: may not specify more than two policyTypes'
        ],
    ),
    # Label selectors.
    (
        "an invalid label key in spec.podSelector is rejected",
        spec("podSelector: {matchLabels: {'NoUppercaseOrSpecialCharsLike=Equals': b}}"),
        [
            'spec.podSelector.matchLabels: Invalid value: "NoUppercaseOrSpecialCharsLike=Equals": '
            + KEY_NAME
        ],
    ),
    (
        "an invalid label key in from.podSelector is rejected",
        spec("ingress: [from: [podSelector: {matchLabels: {'a b': c}}]]"),
        [f'spec.ingress[0].from[0].podSelector.matchLabels: Invalid value: "a b": {KEY_NAME}'],
    ),
    (
        "an invalid label value in to.namespaceSelector is rejected",
        spec("egress: [to: [namespaceSelector: {matchLabels: {team: 'a b'}}]]"),
        [
            "spec.egress[0].to[0].namespaceSelector.matchLabels: Invalid value: "
            f'"a b": {LABEL_VALUE}'
        ],
    ),
    (
        "label keys need a valid DNS subdomain prefix",
        spec("podSelector: {matchLabels: {'Example.com/app': x, '/app': y}}"),
        [
            'spec.podSelector.matchLabels: Invalid value: "/app": prefix part must be non-empty',
            'spec.podSelector.matchLabels: Invalid value: "Example.com/app": '
            f"prefix part {SUBDOMAIN}",
        ],
    ),
    (
        "a label value over 63 bytes is rejected",
        spec(f"podSelector: {{matchLabels: {{app: {'x' * 64}}}}}"),
        [
            f'spec.podSelector.matchLabels: Invalid value: "{"x" * 64}": '
            "must be no more than 63 bytes"
        ],
    ),
    (
        "In without values is rejected",
        spec("podSelector: {matchExpressions: [{key: app, operator: In}]}"),
        [f"spec.podSelector.matchExpressions[0].values: Required value: {IN_NOT_IN}"],
    ),
    (
        "NotIn with an empty list of values is rejected",
        spec("podSelector: {matchExpressions: [{key: app, operator: NotIn, values: []}]}"),
        [f"spec.podSelector.matchExpressions[0].values: Required value: {IN_NOT_IN}"],
    ),
    (
        "Exists with values is forbidden",
        spec(
            "ingress: [from: [namespaceSelector: {matchExpressions: "
            "[{key: a, operator: Exists, values: [x]}]}]]"
        ),
        [
            "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values: "
            f"Forbidden: {EXISTS}"
        ],
    ),
    (
        "an unknown operator is not a valid selector operator, and values are still checked",
        spec("podSelector: {matchExpressions: [{key: -app, operator: Equals, values: [-x]}]}"),
        [
            'spec.podSelector.matchExpressions[0].operator: Invalid value: "Equals": '
            "not a valid selector operator",
            f'spec.podSelector.matchExpressions[0].key: Invalid value: "-app": {KEY_NAME}',
            f'spec.podSelector.matchExpressions[0].values[0]: Invalid value: "-x": {LABEL_VALUE}',
        ],
    ),
    # Every error in one pass, in upstream's order.
    (
        "every error is reported in one pass, in the order upstream appends them",
        """
        metadata: {name: Bad, namespace: a.b}
        spec:
          podSelector: {matchLabels: {-a: b}}
          ingress:
          - ports: [{protocol: ICMP, port: 0}]
            from: [{}]
          egress:
          - to: [ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/7]}]
          policyTypes: [Sideways]
        """,
        [
            f'metadata.name: Invalid value: "Bad": {SUBDOMAIN}',
            'metadata.namespace: Invalid value: "a.b": must not contain dots',
            f'spec.podSelector.matchLabels: Invalid value: "-a": {KEY_NAME}',
            "spec.ingress[0].ports[0].protocol: Unsupported value: "
            '"ICMP": supported values: "TCP", "UDP", "SCTP"',
            "spec.ingress[0].ports[0].port: Invalid value: 0: "
            "must be between 1 and 65535, inclusive",
            "spec.ingress[0].from[0]: Required value: must specify a peer",
            'spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "10.0.0.0/7": '
            "must be a strict subset of `cidr`",
            'spec.policyTypes[0]: Unsupported value: "Sideways": '
            'supported values: "Ingress", "Egress"',
        ],
    ),
    # Values of the wrong type are reported, never a crash.
    (
        "a port given as a list is reported",
        spec("ingress: [ports: [{port: [1], endPort: 5}]]"),
        ["spec.ingress[0].ports[0].port: Invalid value: [1]: must be an integer or a string"],
    ),
    (
        "ingress given as a string is reported",
        spec("ingress: x"),
        ['spec.ingress: Invalid value: "x": must be a list'],
    ),
    (
        "from given as an object is reported",
        spec("ingress: [from: {podSelector: {}}]"),
        ['spec.ingress[0].from: Invalid value: {"podSelector": {}}: must be a list'],
    ),
    (
        "a spec that is not an object is reported",
        "metadata: {name: np}\nspec: [1, 2]",
        ["spec: Invalid value: [1, 2]: must be an object"],
    ),
    (
        "a port number beyond int32 is reported",
        spec("ingress: [ports: [{port: 4294967296}]]"),
        [
            "spec.ingress[0].ports[0].port: Invalid value: 4294967296: "
            "must be an integer between -2147483648 and 2147483647"
        ],
    ),
    (
        "a fractional endPort and a string protocol-less port are reported",
        spec("egress: [ports: [{port: 80, endPort: 80.5, protocol: 6}]]"),
        [
            "spec.egress[0].ports[0].protocol: Invalid value: 6: must be a string",
            "spec.egress[0].ports[0].endPort: Invalid value: 80.5: must be an integer",
        ],
    ),
    (
        "a label value that is not a string is reported under its key",
        spec("podSelector: {matchLabels: {app: 1, 'on': true}}"),
        [
            "spec.podSelector.matchLabels[app]: Invalid value: 1: must be a string",
            "spec.podSelector.matchLabels[on]: Invalid value: true: must be a string",
        ],
    ),
    (
        "a label key that YAML reads as a boolean is reported",
        spec("podSelector: {matchLabels: {on: x}}"),
        ["spec.podSelector.matchLabels: Invalid value: true: keys must be strings"],
    ),
    (
        "a selector of the wrong type still counts as a peer",
        spec("ingress: [from: [{podSelector: yes-please, ipBlock: {cidr: 10.0.0.0/8}}]]"),
        [
            'spec.ingress[0].from[0].podSelector: Invalid value: "yes-please": must be an object',
            "spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer",
        ],
    ),
    (
        "metadata and policyTypes of the wrong type are reported",
        "metadata: [np]\nspec: {policyTypes: Ingress}",
        [
            'metadata: Invalid value: ["np"]: must be an object',
            'spec.policyTypes: Invalid value: "Ingress": must be a list',
        ],
    ),
]


@pytest.mark.parametrize(
    ("document", "expected"),
    [(doc, want) for _, doc, want in CASES],
    ids=[name for name, _, _ in CASES],
)
def test_validate_network_policy(document: str, expected: list[str]) -> None:
    body: dict[str, Any] = yaml.safe_load(textwrap.dedent(document))
    assert [e.render() for e in validate_network_policy(body)] == expected


def test_case_names_are_unique() -> None:
    names = [name for name, _, _ in CASES]
    assert len(names) == len(set(names))
