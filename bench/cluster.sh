#!/usr/bin/env bash
# Embedded and the whole cluster side by side, in one run at 32 connections with wrk:
# a page of 20 products (the answer cache serves it), a page no cache can answer, and
# checkout completions (`tok_visa`, the whole saga).
#
# - embedded: `weft serve --demo` on SQLite, as bench/checkout.sh runs it;
# - cluster: one process per service on PostgreSQL ($DATABASE_URL, dropped and made
#   afresh), Redis and RabbitMQ, behind a `--service gateway` process, every request
#   through the gateway. Only identity holds the signing keys; the others verify tokens
#   by its JWKS (`peers.identity`). The demo catalog is seeded by the catalog process and
#   400 of its variants are stocked through the gateway by an admin.
#
#   bench/cluster.sh                 # release build; PROFILE=debug for the dev build
#
# Run by hand; figures go into notes and bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
ready=${CHECKOUTS:-4000}
db_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/weft_bench_cluster}
. bench/lib.sh

start_weft 18090 --demo
embedded=$base

pids=()
trap 'kill $pid "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
db=${db_url##*/}
psql -q "${db_url%/*}/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
export WEFT_DATABASE_URL="$db_url"
export WEFT_REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
export WEFT_AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
export WEFT_NAMESPACE="bench$$"
# No budgets: the admin stocks 400 variants, and the cart reads the catalog as an app.
export WEFT_RATE_LIMIT_PER_USER_PER_MINUTE=0 WEFT_RATE_LIMIT_PER_APP_PER_MINUTE=0
RUST_LOG=warn "$bin" migrate >/dev/null
at() { echo "http://127.0.0.1:$1"; }

# `serve NAME PORT [VAR=VALUE…]`: one service's process, ready when this returns.
serve() {
  local name=$1 port=$2
  shift 2
  env RUST_LOG=warn WEFT_LOG_FORMAT=json "$@" "$bin" serve --service "$name" \
    --data-dir "$dir/$name-$port" --port "$port" --rate-limit-per-minute 0 \
    >"$dir/$name-$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    curl -fsS "$(at "$port")/health/ready" >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$dir/$name-$port.log" >&2
  exit 1
}

serve identity 18100 WEFT_KEYS_DIR="$dir/keys"
WEFT_ADMIN_PASSWORD=bench-tailor-2026 WEFT_KEYS_DIR="$dir/keys" RUST_LOG=warn \
  "$bin" admin create --email bench@example.com >/dev/null
read -r token key < <(BASE=$(at 18100) SCOPES=internal,catalog:read python3 bench/admin.py)
peers=(WEFT_PEERS__IDENTITY="$(at 18100)" WEFT_PEERS__API_KEY="$key")
front=$(at 18110)
serve catalog 18101 "${peers[@]}" WEFT_DEMO=true
serve inventory 18102 "${peers[@]}"
serve payments 18103 "${peers[@]}"
serve orders 18104 "${peers[@]}" WEFT_PEERS__PAYMENTS="$(at 18103)"
# The cart reads the catalog through the front door, which knows its replicas.
serve cart 18105 "${peers[@]}" WEFT_PEERS__CATALOG="$front" WEFT_PEERS__INVENTORY="$(at 18102)"
serve checkout 18106 "${peers[@]}" WEFT_PEERS__CART="$(at 18105)" \
  WEFT_PEERS__INVENTORY="$(at 18102)" WEFT_PEERS__PAYMENTS="$(at 18103)" \
  WEFT_PEERS__ORDERS="$(at 18104)"
routes=()
for s in identity:18100 catalog:18101 inventory:18102 payments:18103 orders:18104 \
  cart:18105 checkout:18106; do
  name=${s%%:*}
  routes+=("WEFT_GATEWAY__SERVICES__${name^^}=$(at "${s##*:}")")
done
serve gateway 18110 "${peers[@]}" "${routes[@]}"

# The demo catalog in the cluster, 400 variants stocked through the gateway.
BASE="$front" TOKEN="$token" python3 - <<'PY'
import json, os, sys, time, urllib.request
base, token = os.environ["BASE"], os.environ["TOKEN"]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json",
                                          "authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
variants = []
for _ in range(600):
    variants = [v["id"] for p in call("GET", "/v1/products?limit=100")["data"]
                for v in p["variants"]]
    if len(variants) >= 400:
        break
    time.sleep(1)
if len(variants) < 400:
    sys.exit("the cluster's demo catalog was not seeded")
for v in variants[:400]:
    call("PUT", f"/v1/admin/inventory/{v}", {"on_hand": 1000})
PY

unique_lua "/v1/products?limit=20&max_price=" "$dir/unique.lua"
# Both made before either is measured, so neither measures the other's setup.
BASE="$embedded" CBASE="$embedded" READY="$ready" OUT="$dir/embedded.txt" \
  python3 bench/ready_checkouts.py
BASE="$front" CBASE="$front" READY="$ready" OUT="$dir/cluster.txt" \
  python3 bench/ready_checkouts.py

measure_header
measure health "$embedded/health/live"
measure health_gw "$front/health/live"
measure list20 "$embedded/v1/products?limit=20"
measure list20_gw "$front/v1/products?limit=20"
measure nocache -s "$dir/unique.lua" "$embedded"
measure nocache_gw -s "$dir/unique.lua" "$front"
printf '\n%-18s %11s %9s %9s\n' scenario "checkouts/s" p50 p99
complete_checkouts "$dir/embedded.txt" "$embedded"
printf '%-18s %11s %9s %9s\n' "complete" "$crps" "$cp50" "$cp99"
complete_checkouts "$dir/cluster.txt" "$front"
printf '%-18s %11s %9s %9s\n' "complete_gw" "$crps" "$cp50" "$cp99"
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
total=0
for p in "${pids[@]}"; do total=$((total + $(rss "$p"))); done
echo "RSS: embedded $(rss "$pid") kB; cluster ${#pids[@]} processes $total kB"
