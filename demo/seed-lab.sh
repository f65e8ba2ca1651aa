#!/usr/bin/env bash
# The network policies lab end to end, with its own manifests (examples/tutorial),
# first through podwall's engine (verdicts and explanations), then as real pods in a throwaway
# sandbox (network namespaces, nftables, cluster DNS), where clients dial `backend:8080` by name
# and real packets decide. Each step states what the lab shows and fails loudly if podwall
# disagrees. A second walkthrough adds ClusterNetworkPolicy tiers around the lab's policies: an
# Admin guardrail that denies not-frontend and a Baseline default deny (engine only: the
# sandbox's dataplane does not enforce ClusterNetworkPolicy yet).
set -uo pipefail
cd "$(dirname "$0")/.."
LAB=examples/tutorial
APP=$LAB/simple-app.yaml
DENY=$LAB/backend-ingress-deny.yaml
ALLOW=$LAB/backend-allow-ingress-frontend.yaml
TIERS=examples/tiers
GUARD=$TIERS/admin-deny-not-frontend.yaml
BASELINE=$TIERS/baseline-default-deny.yaml
OPEN=$TIERS/backend-allow-all.yaml
bold=""; dim=""; off=""
if [ -t 1 ]; then bold=$'\e[1m'; dim=$'\e[2m'; off=$'\e[0m'; fi

step() { printf '\n%s== %s ==%s\n' "$bold" "$1" "$off"; }
run() {  # run EXPECTED_EXIT COMMAND...: show the command as typed, run it, compare the exit code
  local want=$1; shift
  printf '%s$ %s%s\n' "$dim" "$*" "$off"
  "$@"; local got=$?
  if [ "$got" != "$want" ]; then
    printf 'demo: expected exit %s, got %s\n' "$want" "$got" >&2
    exit 1
  fi
}
probe() {  # real packets: only as root, where network namespaces can be made
  if [ "$(id -u)" = 0 ]; then run 0 podwall probe "$@" --port 8080; else
    printf '%s(skipping the real-packet probe: it needs root)%s\n' "$dim" "$off"; fi
}

step "Task 10.1.1-2: deploy frontend, not-frontend and backend; both clients reach backend:8080"
run 0 podwall check -f $APP --from deploy/frontend --to svc/backend:8080
run 0 podwall check -f $APP --from deploy/not-frontend --to svc/backend:8080
probe -f $APP

step "Task 10.1.3-4: backend-ingress-deny: both clients time out"
run 1 podwall check -f $APP -f $DENY --from deploy/frontend --to svc/backend:8080
run 1 podwall check -f $APP -f $DENY --from deploy/not-frontend --to svc/backend:8080
probe -f $APP -f $DENY

step "Task 10.1.5: backend-allow-ingress-frontend: frontend gets in, not-frontend does not"
run 0 podwall explain -f $APP -f $DENY -f $ALLOW --from deploy/frontend --to svc/backend:8080
run 1 podwall explain -f $APP -f $DENY -f $ALLOW --from deploy/not-frontend --to svc/backend:8080
probe -f $APP -f $DENY -f $ALLOW

printf '\n%sPolicies are additive: backend-ingress-deny is still there, and frontend gets in.%s\n' "$bold" "$off"

printf '\n%sSecond walkthrough: the cluster administrator adds tiers around the lab.%s\n' "$bold" "$off"

step "Admin tier: deny-not-frontend is a guardrail; frontend still gets in, not-frontend does not"
run 0 podwall check -f $APP -f $GUARD --from deploy/frontend --to svc/backend:8080
run 1 podwall explain -f $APP -f $GUARD --from deploy/not-frontend --to svc/backend:8080

step "Baseline tier: default-deny closes every pod no NetworkPolicy selects, backend included"
run 1 podwall explain -f $APP -f $GUARD -f $BASELINE --from deploy/frontend --to svc/backend:8080
run 1 podwall check -f $APP -f $GUARD -f $BASELINE --from deploy/not-frontend --to svc/backend:8080

step "The lab's policies on top: they decide for backend, as before; the guardrail still holds"
run 0 podwall explain -f $APP -f $GUARD -f $BASELINE -f $DENY -f $ALLOW --from deploy/frontend --to svc/backend:8080
run 1 podwall check -f $APP -f $GUARD -f $BASELINE -f $DENY -f $ALLOW --from deploy/not-frontend --to svc/backend:8080
run 0 podwall matrix -f $APP -f $GUARD -f $BASELINE -f $DENY -f $ALLOW --port 8080

step "A namespace owner opens backend to everyone: the Admin Deny is not theirs to override"
run 0 podwall check -f $APP -f $GUARD -f $BASELINE -f $OPEN --from deploy/frontend --to svc/backend:8080
run 1 podwall explain -f $APP -f $GUARD -f $BASELINE -f $OPEN --from deploy/not-frontend --to svc/backend:8080

printf '\n%sAdmin first, then NetworkPolicy (final for the pods it selects), then Baseline, then allow.%s\n' "$bold" "$off"
