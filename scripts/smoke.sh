#!/usr/bin/env bash
# What a new user does first, on the built service with the embedded defaults (PGlite,
# in-process coordination, the shipped config): start it, see /docs, watch the default
# pool fill to 2, lease → exec → release with curl. Cleans up its containers afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${SMOKE_PORT:-18080}
data=$(mktemp -d)
log="$data/service.log"
base="http://127.0.0.1:$port"

env -u DATABASE_URL -u REDIS_URL -u WARMPOOL_ADMIN_TOKEN \
  PORT="$port" WARMPOOL_DATA_DIR="$data" node dist/src/main.js >"$log" 2>&1 &
pid=$!
fail() {
  echo "smoke: $*" >&2
  tail -n 40 "$log" >&2 || true
  kill "$pid" 2>/dev/null || true
  exit 1
}
json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const v=JSON.parse(s);console.log(eval('v'+process.argv[1]))})" "$1"; }

for _ in $(seq 1 60); do curl -fsS "$base/readyz" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "$base/readyz" >/dev/null || fail "service did not become ready"
token=$(cat "$data/admin-token")
auth=(-H "Authorization: Bearer $token")

curl -fsS -o /dev/null "$base/docs" || fail "/docs is not served"
curl -fsS "$base/docs-json" | grep -q '"/v1/leases"' || fail "/docs-json lacks the lease API"
driver=$(curl -fsS "${auth[@]}" "$base/v1/admin/hosts/local" | json .resolvedDriver)
echo "smoke: host local runs the $driver driver"

ready=0
for _ in $(seq 1 120); do
  ready=$(curl -fsS "${auth[@]}" "$base/v1/admin/pools/default" | json .status.ready)
  [ "$ready" -ge 2 ] && break
  sleep 1
done
[ "$ready" -ge 2 ] || fail "the default pool did not fill to 2 ready (has $ready)"
echo "smoke: default pool has $ready ready"

lease=$(curl -fsS "${auth[@]}" -H 'content-type: application/json' -d '{"pool":"default"}' "$base/v1/leases")
id=$(echo "$lease" | json .id)
out=$(curl -fsS "${auth[@]}" -H 'content-type: application/json' -d '{"command":["id","-u"]}' "$base/v1/leases/$id/exec")
[ "$(echo "$out" | json .stdout)" = "0" ] || fail "exec id -u did not print 0: $out"
[ "$(curl -fsS -X DELETE "${auth[@]}" "$base/v1/leases/$id" | json .state)" = released ] || fail "release failed"
echo "smoke: lease → exec (root inside) → release works"

# Leave nothing behind: drain the pool, drop the template, wait for the goldens to go.
curl -fsS -X DELETE "${auth[@]}" "$base/v1/admin/pools/default" >/dev/null
for _ in $(seq 1 60); do
  live=$(curl -fsS "${auth[@]}" "$base/v1/admin/containers?limit=500" | json ".items.filter(c=>c.state!=='destroyed').length")
  [ "$live" -eq 0 ] && break
  sleep 1
done
[ "$live" -eq 0 ] || fail "$live container(s) left after draining the pool"
curl -fsS -X DELETE "${auth[@]}" "$base/v1/admin/templates/default" >/dev/null
for _ in $(seq 1 30); do
  curl -fsS -X POST "${auth[@]}" "$base/v1/admin/reconcile?wait=true" >/dev/null
  builds=$(curl -fsS "${auth[@]}" "$base/v1/admin/templates" | json ".items.length")
  [ "$builds" -eq 0 ] && break
  sleep 1
done
kill "$pid"
wait "$pid" 2>/dev/null || true
if command -v lxc-ls >/dev/null && lxc-ls -1 2>/dev/null | grep -q '^wpt-default-v1$'; then
  echo "smoke: the golden image was not removed" >&2
  exit 1
fi
rm -rf "$data"
echo "smoke: ok"
