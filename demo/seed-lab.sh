#!/usr/bin/env bash
# The seed lab (shared/seed/network-policies-lab.txt) through podwall's engine: the tutorial's
# own manifests, checked before and after each policy, with verdicts and explanations.
# Each step states what the lab shows and fails loudly if podwall disagrees.
set -uo pipefail
cd "$(dirname "$0")/.."
LAB=examples/tutorial
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

step "Task 10.1.1: deploy frontend, not-frontend and backend (no policy yet)"
run 0 podwall matrix -f $LAB/simple-app.yaml --port 8080

step "Task 10.1.2: both clients reach backend:8080"
run 0 podwall check -f $LAB/simple-app.yaml --from deploy/frontend --to svc/backend:8080
run 0 podwall check -f $LAB/simple-app.yaml --from deploy/not-frontend --to svc/backend:8080

step "Task 10.1.3-4: backend-ingress-deny makes both time out"
run 1 podwall check -f $LAB/simple-app.yaml -f $LAB/backend-ingress-deny.yaml --from deploy/frontend --to svc/backend:8080
run 1 podwall check -f $LAB/simple-app.yaml -f $LAB/backend-ingress-deny.yaml --from deploy/not-frontend --to svc/backend:8080

step "Task 10.1.5: backend-allow-ingress-frontend lets frontend in, not not-frontend"
run 0 podwall explain -f $LAB --from deploy/frontend --to svc/backend:8080
run 1 podwall explain -f $LAB --from deploy/not-frontend --to svc/backend:8080
run 0 podwall matrix -f $LAB --port 8080

printf '\n%sPolicies are additive: backend-ingress-deny is still there, and frontend gets in.%s\n' "$bold" "$off"
