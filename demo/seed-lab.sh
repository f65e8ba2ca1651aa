#!/usr/bin/env bash
# The network policies lab end to end, with its own manifests (examples/tutorial),
# first through podwall's engine (verdicts and explanations), then as real pods in a throwaway
# sandbox (network namespaces, nftables, cluster DNS), where clients dial `backend:8080` by name
# and real packets decide. Each step states what the lab shows and fails loudly if podwall
# disagrees.
set -uo pipefail
cd "$(dirname "$0")/.."
LAB=examples/tutorial
APP=$LAB/simple-app.yaml
DENY=$LAB/backend-ingress-deny.yaml
ALLOW=$LAB/backend-allow-ingress-frontend.yaml
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
