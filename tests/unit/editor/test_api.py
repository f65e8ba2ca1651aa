"""The API on the lab's manifests: verdicts, explanations, matches, matrix and draft diff."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.editor.app import create_app
from podwall.editor.workspace import Workspace
from podwall.manifests.reader import Loaded, load_text
from tests.unit.editor.apiclient import TOKEN, TUTORIAL, Client, workspace
from tests.unit.editor.test_drafts import tutorial_form

ALLOW = (TUTORIAL / "backend-allow-ingress-frontend.yaml").read_text()


def attempt(client: Client, src: str, dst: str, port: str = "8080", **extra: Any) -> Any:
    return client.ok("/api/try", {"from": src, "to": dst, "port": port, **extra})


def test_state_lists_the_loaded_pods_and_policies(client: Client) -> None:
    state = client.ok("/api/state")
    assert [p["key"] for p in state["cluster"]["pods"]] == [
        "default/frontend",
        "default/not-frontend",
        "default/backend",
    ]
    assert [p["key"] for p in state["cluster"]["policies"]] == ["default/backend-ingress-deny"]
    assert state["errors"] == []


def test_try_frontend_allowed_not_frontend_denied_by_default_deny() -> None:
    client = Client(create_app(workspace("."), TOKEN))  # the app and both policies
    good = attempt(client, "frontend", "backend")
    assert good["allowed"] is True
    decision = good["decisions"][0]
    assert decision["headline"] == "ALLOWED  default/frontend -> default/backend:8080/TCP"
    assert decision["ingress"]["status"] == "allowed"
    assert "default/backend-allow-ingress-frontend ingress[0] from[0]" in decision["explanation"][2]

    bad = attempt(client, "not-frontend", "backend")
    assert bad["allowed"] is False
    decision = bad["decisions"][0]
    assert decision["explanation"][0] == "DENIED  default/not-frontend -> default/backend:8080/TCP"
    deny = next(p for p in decision["ingress"]["policies"] if p["defaultDeny"])
    assert deny["policy"] == "default/backend-ingress-deny"
    assert (
        "    default/backend-ingress-deny: selects it by podSelector {app: backend} and has no "
        "ingress rules: default deny"
    ) in decision["explanation"]


def test_try_with_the_draft_applies_it(client: Client) -> None:
    without = attempt(client, "frontend", "backend")
    assert without["allowed"] is False  # backend-ingress-deny alone
    with_draft = attempt(client, "frontend", "backend", form=tutorial_form())
    assert with_draft["allowed"] is True
    assert with_draft["draft"] == "with the draft default/backend-allow-ingress-frontend applied"


def test_try_from_an_outside_address_and_by_service(client: Client) -> None:
    answer = attempt(client, "203.0.113.9", "svc/backend", port="8080")
    assert answer["allowed"] is False
    assert answer["decisions"][0]["egress"]["status"] == "outside"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"from": "nobody", "to": "backend", "port": "8080"}, "no pod default/nobody"),
        ({"from": "frontend", "to": "backend", "port": "99999"}, "not between 1 and 65535"),
        ({"from": "frontend", "to": "backend", "port": "http"}, "has no TCP port named http"),
        ({"from": "frontend", "to": "backend", "port": "80", "protocol": "ICMP"}, "ICMP"),
    ],
)
def test_bad_questions_get_400_with_the_reason(
    client: Client, body: dict[str, str], message: str
) -> None:
    response = client.post("/api/try", body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_render_answers_with_yaml_picture_matches_and_flows(client: Client) -> None:
    answer = client.ok("/api/render", {"form": tutorial_form()})
    assert answer["yaml"] == ALLOW
    assert answer["valid"] is True
    ingress = answer["picture"]["ingress"]["namespace"]
    assert [(p["label"], p["allowed"]) for p in ingress["peers"]] == [
        ("podSelector {app: frontend}", True)
    ]
    assert ingress["others"]["state"] == "denied"
    assert answer["picture"]["egress"]["cidr"]["others"]["state"] == "allowed"
    cluster = answer["cluster"]
    assert [p["key"] for p in cluster["selected"]] == ["default/backend"]
    assert cluster["selected"][0]["policies"]["ingress"] == [
        "default/backend-allow-ingress-frontend",
        "default/backend-ingress-deny",
    ]
    assert cluster["peers"]["ingress"][0]["pods"] == ["default/frontend"]
    flows = {(f["from"], f["to"], f["port"]): f["allowed"] for f in cluster["flows"]["ingress"]}
    assert flows == {
        ("default/frontend", "default/backend", 8080): True,
        ("default/not-frontend", "default/backend", 8080): False,
    }


def test_an_invalid_draft_has_errors_and_no_verdicts(client: Client) -> None:
    form = tutorial_form()
    form["ingress"]["rules"][0]["peers"][0]["ipBlock"] = {"cidr": "nope", "except": []}
    answer = client.ok("/api/render", {"form": form})
    assert answer["valid"] is False
    assert answer["picture"] is None
    paths = [e["path"] for e in answer["errors"]]
    assert "spec.ingress[0].from[0]" in paths  # ipBlock with another peer is forbidden
    assert "spec.ingress[0].from[0].ipBlock.cidr" in paths


def test_parse_returns_the_form_and_errors(client: Client) -> None:
    answer = client.ok("/api/parse", {"yaml": ALLOW.replace("Ingress", "Ingres")})
    assert answer["form"]["name"] == "backend-allow-ingress-frontend"
    assert answer["errors"][0]["path"] == "spec.policyTypes[0]"
    assert answer["errors"][0]["message"] == (
        'spec.policyTypes[0]: Unsupported value: "Ingres": supported values: "Ingress", "Egress"'
    )


def test_a_picture_of_every_group_and_named_ports(client: Client) -> None:
    text = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata: {name: all}
spec:
  podSelector: {matchExpressions: [{key: app, operator: In, values: [backend]}]}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: a}}
    - namespaceSelector: {}
      podSelector: {matchLabels: {role: mon}}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/16]}
    ports: [{port: http}]
  egress:
  - ports: [{port: 53, protocol: UDP}]
"""
    picture = client.ok("/api/parse", {"yaml": text})["picture"]
    assert picture["selectsExample"] is True
    for group in ("namespaces", "cluster", "cidr"):
        peers = picture["ingress"][group]["peers"]
        assert [p["allowed"] for p in peers] == [True], group
        assert peers[0]["ports"] == "TCP http"
    assert picture["ingress"]["namespace"]["others"]["state"] == "denied"
    # An egress rule without peers admits everyone, on UDP 53 only.
    others = picture["egress"]["cidr"]["others"]
    assert others["state"] == "partial"
    assert others["allowedPorts"] == ["UDP 53"]


def test_port_matrix_pod_by_pod(client: Client) -> None:
    matrix = client.ok("/api/matrix", {"port": "8080"})
    pods = matrix["pods"]
    assert sorted(pods) == ["default/backend", "default/frontend", "default/not-frontend"]
    frontend, backend = pods.index("default/frontend"), pods.index("default/backend")
    assert matrix["allowed"][frontend][backend] is False
    assert matrix["allowed"][backend][frontend] is True


def cell(grid: dict[str, Any], src: str, dst: str) -> dict[str, Any]:
    rows = [r["label"] for r in grid["rows"]["items"]]
    cols = [c["label"] for c in grid["cols"]["items"]]
    found: dict[str, Any] = grid["cells"][rows.index(src)][cols.index(dst)]
    return found


FRONTEND, BACKEND = "default/deployment frontend", "default/deployment backend"
NOT_FRONTEND = "default/deployment not-frontend"


def test_grid_by_workload_with_the_draft(client: Client) -> None:
    loaded = client.ok("/api/grid", {})
    assert loaded["draft"] is None
    assert loaded["diff"] is None
    assert cell(loaded, FRONTEND, BACKEND) == {"state": "none", "text": "none", "short": "none"}
    grid = client.ok("/api/grid", {"form": tutorial_form()})
    assert grid["draft"] == "default/backend-allow-ingress-frontend"
    assert cell(grid, FRONTEND, BACKEND)["text"] == "all"
    assert cell(grid, FRONTEND, BACKEND)["gained"] == "all"
    assert "gained" not in cell(grid, NOT_FRONTEND, BACKEND)
    assert cell(grid, BACKEND, BACKEND)["state"] == "self"  # one pod: no pair of distinct pods
    assert grid["diff"] == {"newlyAllowed": 1, "newlyDenied": 0}
    changed = client.ok("/api/grid", {"form": tutorial_form(), "changed": True})
    assert [r["label"] for r in changed["rows"]["items"]] == [FRONTEND]
    assert [c["label"] for c in changed["cols"]["items"]] == [BACKEND]


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        pytest.param({"text": "not-"}, [NOT_FRONTEND], id="text"),
        pytest.param({"workload": "FRONTEND"}, [FRONTEND, NOT_FRONTEND], id="workload"),
        pytest.param({"namespace": "kube-system"}, [], id="namespace"),
        pytest.param({"rows": {"offset": 1, "limit": 1}}, [FRONTEND], id="window"),
        pytest.param({"by": "namespace"}, ["default"], id="by-namespace"),
    ],
)
def test_grid_filters_and_windows(client: Client, body: dict[str, Any], rows: list[str]) -> None:
    grid = client.ok("/api/grid", body)
    assert [r["label"] for r in grid["rows"]["items"]] == rows
    assert len(grid["cells"]) == len(rows)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"by": "node"}, "by: must be one of workload, namespace", id="by"),
        pytest.param({"rows": {"limit": 10000}}, "rows: offset >= 0 and limit", id="limit"),
        pytest.param({"cols": {"offset": "x"}}, "'offset' must be an integer", id="offset"),
    ],
)
def test_grid_bad_requests(client: Client, body: dict[str, Any], message: str) -> None:
    response = client.post("/api/grid", body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_grid_cell_lists_pod_pairs_to_explain(client: Client) -> None:
    grid = client.ok("/api/grid", {"form": tutorial_form()})
    row = next(r["id"] for r in grid["rows"]["items"] if r["label"] == FRONTEND)
    col = next(c["id"] for c in grid["cols"]["items"] if c["label"] == BACKEND)
    answer = client.ok("/api/grid/cell", {"form": tutorial_form(), "row": row, "col": col})
    assert answer["total"] == 1
    assert answer["pairs"] == [
        {
            "from": "default/frontend",
            "to": "default/backend",
            "ports": "all",
            "port": 8080,  # the destination's declared port, to ask "try a connection"
            "protocol": "TCP",
        }
    ]
    missing = client.post("/api/grid/cell", {"row": 0, "col": 99})
    assert missing.status_code == 400


def test_draft_diff_as_podwall_diff_words_it(client: Client) -> None:
    diff = client.ok("/api/diff", {"form": tutorial_form()})
    assert diff["draft"] == "default/backend-allow-ingress-frontend"
    assert diff["newlyAllowed"]["items"] == [
        {
            "from": "default/frontend",
            "to": "default/backend",
            "ports": "all ports",
            "why": [
                "egress: not isolated; ingress: default/backend-allow-ingress-frontend ingress[0]"
            ],
            "now": [],
        }
    ]
    assert diff["newlyDenied"] == {"total": 0, "pairs": 0, "offset": 0, "items": []}


def test_a_draft_with_a_loaded_name_replaces_it(client: Client) -> None:
    form = tutorial_form()
    form["name"] = "backend-ingress-deny"
    form["ingress"]["isolated"] = False
    form["egress"]["isolated"] = True  # now an egress default deny, no longer ingress
    form["ingress"]["rules"] = []
    diff = client.ok("/api/diff", {"form": form})
    allowed = [(r["from"], r["to"]) for r in diff["newlyAllowed"]["items"]]
    denied = [(r["from"], r["to"]) for r in diff["newlyDenied"]["items"]]
    assert ("default/frontend, default/not-frontend", "default/backend") in allowed
    assert ("default/backend", "default/frontend, default/not-frontend") in denied


def test_pod_lists_the_policies_that_select_it(client: Client) -> None:
    answer = client.ok("/api/pod", {"pod": "default/backend", "form": tutorial_form()})
    assert answer["policies"] == {
        "ingress": ["default/backend-allow-ingress-frontend", "default/backend-ingress-deny"],
        "egress": [],
    }
    assert client.post("/api/pod", {"pod": "default/nope"}).status_code == 400


def test_imported_manifests_join_the_cluster(empty_client: Client) -> None:
    state = empty_client.ok(
        "/api/manifests", {"name": "app.yaml", "text": (TUTORIAL / "simple-app.yaml").read_text()}
    )
    assert len(state["cluster"]["pods"]) == 3
    assert state["imported"] == ["app.yaml"]
    state = empty_client.ok("/api/manifests", {"name": "allow.yaml", "text": ALLOW})
    assert [p["key"] for p in state["cluster"]["policies"]] == [
        "default/backend-allow-ingress-frontend"
    ]
    edited = empty_client.ok("/api/policy", {"key": "default/backend-allow-ingress-frontend"})
    assert edited["yaml"] == ALLOW
    state = empty_client.ok("/api/manifests/remove", {"name": "allow.yaml"})
    assert state["cluster"]["policies"] == []
    bad = empty_client.post("/api/manifests", {"name": "bad.yaml", "text": "a: ["})
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("bad.yaml:2: invalid YAML")


def test_an_invalid_loaded_policy_is_left_out_and_listed(empty_client: Client) -> None:
    text = ALLOW.replace("app: frontend", "app: frontend\n          form: x")
    state = empty_client.ok("/api/manifests", {"name": "bad.yaml", "text": text})
    assert state["cluster"]["policies"] == []
    assert state["errors"] == [
        "bad.yaml:17: NetworkPolicy default/backend-allow-ingress-frontend: strict decoding error: "
        'unknown field "spec.ingress[0].from[0].form" (left out)'
    ]


def test_new_and_tutorial(client: Client) -> None:
    new = client.ok("/api/new", {})
    assert new["form"]["name"] == "untitled-policy"
    assert new["form"]["ingress"]["isolated"] is True  # every policy isolates something
    steps = client.ok("/api/tutorial")["steps"]
    assert "additive" in steps[-1]["title"]
    assert steps[2]["policy"] == ALLOW


@pytest.mark.parametrize("body", ["[1]", "not json"])
def test_a_body_that_is_not_an_object_is_400(client: Client, body: str) -> None:
    response = client.request("POST", "/api/parse", content=body)
    assert response.status_code == 400


class ClusterSource:
    """A stand-in for a live cluster (the seam `podwall up` will plug into)."""

    def __init__(self) -> None:
        self.text = (TUTORIAL / "simple-app.yaml").read_text()

    def describe(self) -> list[str]:
        return ["cluster: podwall up"]

    def load(self) -> Loaded:
        return load_text(self.text, "cluster: podwall up")


def test_any_source_feeds_the_editor_and_reload_rereads_it() -> None:
    source = ClusterSource()
    client = Client(create_app(Workspace([source]), TOKEN))
    state = client.ok("/api/state")
    assert state["files"] == ["cluster: podwall up"]
    assert len(state["cluster"]["pods"]) == 3
    source.text += "---\n" + ALLOW
    assert client.ok("/api/state")["cluster"]["policies"] == []  # cached until reloaded
    state = client.ok("/api/reload", {})
    assert [p["key"] for p in state["cluster"]["policies"]] == [
        "default/backend-allow-ingress-frontend"
    ]


def test_a_pod_selector_no_pod_can_satisfy_is_flagged(client: Client) -> None:
    form = tutorial_form()
    form["podSelector"]["matchExpressions"].append(
        {"key": "app", "operator": "NotIn", "values": ["backend"]}
    )
    answer = client.ok("/api/render", {"form": form})
    assert answer["picture"]["selectsExample"] is False
    assert answer["cluster"]["selected"] == []


# ClusterNetworkPolicy drafts: the Admin and Baseline tiers.

ADMIN_DENY = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: deny-not-frontend
spec:
  tier: Admin
  priority: 10
  subject:
    pods:
      namespaceSelector: {}
      podSelector: {matchLabels: {app: backend}}
  ingress:
  - name: no-not-frontend
    action: Deny
    from:
    - pods:
        namespaceSelector: {}
        podSelector: {matchLabels: {app: not-frontend}}
"""


def test_a_cluster_policy_draft_shows_its_rules_subject_and_flows(client: Client) -> None:
    answer = client.ok("/api/parse", {"yaml": ADMIN_DENY})
    assert (answer["kind"], answer["valid"], answer["policy"]) == (
        "ClusterNetworkPolicy", True, "admin/deny-not-frontend"
    )  # fmt: skip
    rules = answer["picture"]["clusterPolicy"]
    assert (rules["tier"], rules["priority"]) == ("Admin", 10)
    assert [(r["name"], r["action"], r["peers"]) for r in rules["ingress"]] == [
        ("no-not-frontend", "Deny", ["pods {app: not-frontend} in namespaces {}"])
    ]
    cluster = answer["cluster"]
    assert [p["key"] for p in cluster["selected"]] == ["default/backend"]
    assert cluster["peers"]["ingress"][0]["pods"] == ["default/not-frontend"]
    flows = {(f["from"], f["to"]): f["allowed"] for f in cluster["flows"]["ingress"]}
    assert flows[("default/not-frontend", "default/backend")] is False
    rendered = client.ok("/api/render", {"form": answer["form"]})
    assert client.ok("/api/parse", {"yaml": rendered["yaml"]})["form"] == answer["form"]


def test_try_a_connection_names_the_tier_of_the_draft() -> None:
    client = Client(create_app(workspace("."), TOKEN))  # the app and both policies
    form = client.ok("/api/parse", {"yaml": ADMIN_DENY})["form"]
    tried = attempt(client, "not-frontend", "backend", form=form)
    assert tried["draft"] == "with the draft admin/deny-not-frontend applied"
    ingress = tried["decisions"][0]["ingress"]
    assert ingress["admin"]["action"] == "Deny"
    assert ingress["admin"]["policies"][0]["policy"] == "deny-not-frontend"
    assert any("denied by admin/deny-not-frontend rule 'no-not-frontend'" in line
               for line in tried["decisions"][0]["explanation"])  # fmt: skip
    # A NetworkPolicy draft keeps the loaded cluster's tiers.
    client.ok("/api/manifests", {"name": "admin.yaml", "text": ADMIN_DENY})
    with_np_draft = attempt(client, "not-frontend", "backend", form=tutorial_form())
    assert with_np_draft["decisions"][0]["ingress"]["admin"]["action"] == "Deny"


def test_a_loaded_cluster_policy_is_listed_and_opens_as_a_draft(empty_client: Client) -> None:
    state = empty_client.ok("/api/manifests", {"name": "admin.yaml", "text": ADMIN_DENY})
    assert state["cluster"]["clusterPolicies"] == [
        {
            "key": "admin/deny-not-frontend",
            "name": "deny-not-frontend",
            "tier": "Admin",
            "priority": 10,
            "subject": "pods {app: backend} in namespaces {}",
        }
    ]
    edited = empty_client.ok("/api/policy", {"key": "admin/deny-not-frontend"})
    assert edited["kind"] == "ClusterNetworkPolicy"
    assert edited["form"]["tier"] == "Admin"
    new = empty_client.ok("/api/new", {"kind": "ClusterNetworkPolicy", "tier": "Baseline"})
    assert (new["valid"], new["form"]["tier"]) == (True, "Baseline")


def test_an_invalid_cluster_policy_draft_has_errors_and_no_verdicts(client: Client) -> None:
    answer = client.ok("/api/parse", {"yaml": ADMIN_DENY.replace("action: Deny", "action: Drop")})
    assert (answer["valid"], answer["picture"], answer["cluster"]) == (False, None, None)
    assert answer["errors"][0]["path"] == "spec.ingress[0].action"
    assert answer["errors"][0]["line"] == 14


def test_the_draft_diff_of_a_cluster_policy_names_its_rule() -> None:
    client = Client(create_app(workspace("simple-app.yaml"), TOKEN))
    form = client.ok("/api/parse", {"yaml": ADMIN_DENY})["form"]
    diff = client.ok("/api/diff", {"form": form})
    assert diff["draft"] == "admin/deny-not-frontend"
    assert diff["newlyAllowed"]["total"] == 0
    (denied,) = diff["newlyDenied"]["items"]
    assert (denied["from"], denied["to"]) == ("default/not-frontend", "default/backend")
    assert denied["now"] == [
        "ingress denied by admin/deny-not-frontend rule 'no-not-frontend' (priority 10)"
    ]
