#!/usr/bin/env bash
# The network policies lab (manifests in examples/tutorial), verbatim, with the real kubectl against
# `podwall up`: each command is shown and run as the tutorial writes it, and each output the
# tutorial shows is checked. Needs root (pods are processes in network namespaces).
#   KUBECTL=kubectl.1.27 demo/tutorial.sh     # another kubectl
# The cluster runs in a throwaway state directory and is always taken down, also on failure.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PODWALL="${PODWALL:-$ROOT/.venv/bin/podwall}"
KUBECTL_BIN="${KUBECTL:-kubectl}"
WORK="$(mktemp -d /tmp/podwall-tutorial.XXXXXX)"
STATE="$WORK/state"
# Below Linux's ephemeral range (32768+), so no client connection holds the port.
PORT="${PODWALL_PORT:-$((20000 + RANDOM % 12768))}"
bold=""; dim=""; off=""
if [ -t 1 ]; then bold=$'\e[1m'; dim=$'\e[2m'; off=$'\e[0m'; fi

cleanup() {
  "$PODWALL" down --state-dir "$STATE" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { printf '\ntutorial: %s\n' "$*" >&2; exit 1; }
say() { printf '\n%s%s%s\n' "$bold" "$*" "$off"; }
show() { printf '%s$ %s%s\n' "$dim" "$*" "$off"; }
# kubectl as the tutorial types it, with a fresh cache as a new user has.
kubectl() { command "$KUBECTL_BIN" --cache-dir "$WORK/kube-cache" "$@"; }
# `kubectl exec -ti` wants a terminal, as in the tutorial: give it one.
# Checks read the text without the colours curl gives header names on a terminal.
# (Its stdin is at end of file here, which the terminal echoes as a leading ^@: not shown.)
exec_ti() { script -qec "$KUBECTL_BIN --cache-dir $WORK/kube-cache $*" /dev/null | sed '1s/^\^@//'; return "${PIPESTATUS[0]}"; }
plain() { sed 's/\x1b\[[0-9;]*m//g' <<<"$1"; }

cp "$ROOT"/examples/tutorial/*.yaml "$WORK/"
cd "$WORK" || exit 1

say "podwall up --nodes 2"
"$PODWALL" up --nodes 2 --state-dir "$STATE" --port "$PORT" || fail "podwall up failed"
export KUBECONFIG="$STATE/kubeconfig"
show "kubectl get nodes -o wide"
out=$(kubectl get nodes -o wide) || fail "get nodes failed"
echo "$out"
for node in node-1 node-2; do
  grep -qE "^$node +Ready +<none> .* 198\.18\.255\.[0-9]+ " <<<"$out" || fail "$node not Ready"
done

say "Task 10.1.1: Deploy a simple frontend/backend application"
show "kubectl apply -f simple-app.yaml"
out=$(kubectl apply -f simple-app.yaml) || fail "apply failed"
echo "$out"
for line in "deployment.apps/frontend created" "deployment.apps/not-frontend created" \
            "deployment.apps/backend created" "service/backend created"; do
  grep -qxF "$line" <<<"$out" || fail "missing: $line"
done
# The controllers create the pods after `apply` returns, as on any cluster: wait for the
# Deployments first (they exist at once), then for their pods.
kubectl wait --for=condition=Available deployments --all --timeout=120s >/dev/null || fail "deployments not Available"
kubectl wait --for=condition=Ready pods --all --timeout=120s >/dev/null || fail "pods not Ready"
show "kubectl get all"
out=$(kubectl get all) || fail "get all failed"
echo "$out"
[ "$(grep -c '1/1     Running' <<<"$out")" = 3 ] || fail "expected 3 Running pods"
grep -qE '^service/backend +ClusterIP +198\.19\.[0-9.]+ +<none> +8080/TCP' <<<"$out" || fail "service"
grep -qE '^deployment.apps/backend +1/1 +1 +1' <<<"$out" || fail "deployment not ready"

# Not in the lab: where the scheduler put the pods. The clients share their image, so they
# share a node; the backend goes to the other one, and every curl below crosses the underlay.
show "kubectl get pods -o wide"
out=$(kubectl get pods -o wide) || fail "get pods -o wide failed"
echo "$out"
node_of() { awk -v app="$1-" 'index($1, app) == 1 {print $7}' <<<"$out"; }
[ -n "$(node_of backend)" ] && [ "$(node_of frontend)" = "$(node_of not-frontend)" ] \
  && [ "$(node_of backend)" != "$(node_of frontend)" ] || fail "backend not on another node"

show "export FRONTEND=\$(kubectl get pods -l app=frontend -o jsonpath='{.items[0].metadata.name}')"
FRONTEND=$(kubectl get pods -l app=frontend -o jsonpath='{.items[0].metadata.name}')
echo "$FRONTEND"
show "export NOT_FRONTEND=\$(kubectl get pods -l app=not-frontend -o jsonpath='{.items[0].metadata.name}')"
NOT_FRONTEND=$(kubectl get pods -l app=not-frontend -o jsonpath='{.items[0].metadata.name}')
echo "$NOT_FRONTEND"
[[ "$FRONTEND" == frontend-* && "$NOT_FRONTEND" == not-frontend-* ]] || fail "pod names"

curl_from() {  # curl_from POD EXPECTED_EXIT: the tutorial's curl, and what it must give
  show "kubectl exec -ti $1 -- curl -I --connect-timeout 5 backend:8080"
  out=$(exec_ti exec -ti "$1" -- curl -I --connect-timeout 5 backend:8080 2>&1); code=$?
  echo "$out"
  out=$(plain "$out")
  [ "$code" = "$2" ] || fail "exit status $code, expected $2"
  if [ "$2" = 0 ]; then
    grep -q "HTTP/1.1 200 OK" <<<"$out" || fail "no HTTP/1.1 200 OK"
    grep -q "X-Powered-By: Express" <<<"$out" || fail "no X-Powered-By: Express"
  else
    grep -q "command terminated with exit code 28" <<<"$out" || fail "no exit code 28 line"
  fi
}

# Before a stage's shown curls (not shown itself): until POD's curl gives EXPECTED_EXIT. A
# policy or a Service's endpoints are in force a moment after the API server has them, as
# on any cluster; on a loaded machine that moment can outlast the commands between. Bounded.
settled() {  # settled POD EXPECTED_EXIT
  local deadline=$((SECONDS + 60)) code
  while :; do
    kubectl exec "$1" -- curl -sI --connect-timeout 2 backend:8080 >/dev/null 2>&1
    code=$?
    [ "$code" = "$2" ] && return 0
    [ "$SECONDS" -lt "$deadline" ] || fail "curl from $1 gave $code, not $2, for 60 s"
    sleep 0.5
  done
}

now() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
# The flows a stage produced, as the node reported them (`podwall observe`), and a check that
# each line the stage must have is there (extended regular expressions).
flows_since() {  # flows_since STAMP [EXPECTED_LINE_PATTERN ...]
  local stamp=$1 deadline=$((SECONDS + 60)) part missing
  shift
  show "podwall observe --since $stamp"
  # The kernel batches log messages and the node's reader polls: read again (bounded) until
  # every expected flow is there, rather than sleep a guess.
  while :; do
    out=$("$PODWALL" observe --state-dir "$STATE" --since "$stamp") || fail "podwall observe failed"
    missing=""
    for part in "$@"; do grep -qE -- "$part" <<<"$out" || { missing=$part; break; }; done
    [ -z "$missing" ] || [ "$SECONDS" -ge "$deadline" ] || { sleep 0.5; continue; }
    break
  done
  if [ -z "$out" ]; then echo "${dim}(no flows: no policy isolates these pods, none decided)${off}"; fi
  echo "$out"
  [ -z "$missing" ] || fail "no flow matching: $missing"
}

say "Task 10.1.2: Verify connectivity"
settled "$FRONTEND" 0; settled "$NOT_FRONTEND" 0
stage=$(now)
curl_from "$FRONTEND" 0
curl_from "$NOT_FRONTEND" 0
flows_since "$stage"

say "Task 10.1.3: Deny traffic with a Network Policy"
show "kubectl apply -f backend-ingress-deny.yaml"
out=$(kubectl apply -f backend-ingress-deny.yaml); echo "$out"
grep -qxF "networkpolicy.networking.k8s.io/backend-ingress-deny created" <<<"$out" || fail "policy not created"
show "kubectl get netpol"
out=$(kubectl get netpol); echo "$out"
grep -qE '^backend-ingress-deny +app=backend' <<<"$out" || fail "get netpol"

say "Task 10.1.4: Verify connectivity again"
settled "$FRONTEND" 28; settled "$NOT_FRONTEND" 28
stage=$(now)
curl_from "$FRONTEND" 28
curl_from "$NOT_FRONTEND" 28
into_backend='-> default/backend-[a-z0-9-]+:8080 \(service default/backend\) TCP INGRESS'
flows_since "$stage" \
  "default/frontend-[a-z0-9-]+:[0-9]+ $into_backend DENIED: denied by the default deny of default/backend-ingress-deny$" \
  "default/not-frontend-[a-z0-9-]+:[0-9]+ $into_backend DENIED: denied by the default deny of default/backend-ingress-deny$"

say "Task 10.1.5: Allow traffic from frontend to backend"
show "kubectl apply -f backend-allow-ingress-frontend.yaml"
out=$(kubectl apply -f backend-allow-ingress-frontend.yaml); echo "$out"
grep -qxF "networkpolicy.networking.k8s.io/backend-allow-ingress-frontend created" <<<"$out" || fail "policy not created"
settled "$FRONTEND" 0; settled "$NOT_FRONTEND" 28
stage=$(now)
curl_from "$FRONTEND" 0
curl_from "$NOT_FRONTEND" 28
flows_since "$stage" \
  "default/frontend-[a-z0-9-]+:[0-9]+ $into_backend ALLOWED: allowed by default/backend-allow-ingress-frontend ingress\[0\] from\[0\]$" \
  "default/not-frontend-[a-z0-9-]+:[0-9]+ $into_backend DENIED: denied by the default deny of default/backend-allow-ingress-frontend, default/backend-ingress-deny$"
show "kubectl get netpol"
out=$(kubectl get netpol); echo "$out"
grep -qE '^backend-allow-ingress-frontend +app=backend' <<<"$out" || fail "allow policy not listed"
grep -qE '^backend-ingress-deny +app=backend' <<<"$out" || fail "deny policy not listed"

say "Network policies are additive: both are in force, and only frontend gets in."
