#!/usr/bin/env bash
# Checkout completions per second on a release `weft serve --demo`, at 32 connections:
# each request is `POST /v1/checkouts/{id}/complete` with the `test` provider's
# `tok_visa` and its own Idempotency-Key: the whole saga (validate and price the cart,
# hold stock, count promotion uses, authorize, create the order, capture, commit stock,
# close the cart), with its events. Ready checkouts (cart, line, e-mail, address,
# shipping method) are made beforehand, one unit of one of 400 in-stock variants each,
# and each is completed once: the script fails if wrk would run out of them or gets any
# non-2xx answer.
#
#   bench/checkout.sh                                   # embedded: SQLite, in-process
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/weft_bench bench/checkout.sh
#   CLUSTER=1 bench/checkout.sh                         # a checkout process over HTTP
#
# With CLUSTER=1 the completions go to a second process, `weft serve --service checkout`
# on a SQLite file of its own, which reaches carts, inventory, payments and orders in
# the first over HTTP (`[peers]`, an API key with the `internal` scope made through the
# API by an admin created with `weft admin create`).
#
# With DATABASE_URL the database is dropped and created afresh. PERF_DIR=dir records a
# `perf` profile of the completions (dir/checkout.data; costs some throughput). Run by
# hand; figures go into notes and bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
ready=${CHECKOUTS:-6000}
. bench/lib.sh

args=(--demo)
if [ -n "${DATABASE_URL:-}" ]; then
  db=${DATABASE_URL##*/}
  admin=${DATABASE_URL%/*}/postgres
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  export WEFT_DATABASE_URL="$DATABASE_URL"
fi
start_weft 18087 "${args[@]}"
cbase=$base
if [ -n "${CLUSTER:-}" ]; then
  WEFT_ADMIN_PASSWORD=bench-tailor-2026 "$bin" admin create --email bench@example.com \
    --data-dir "$dir/data" >/dev/null
  key=$(BASE="$base" SCOPES=internal python3 bench/admin.py | cut -d' ' -f2)
  "$bin" migrate --service checkout --data-dir "$dir/checkout" >/dev/null 2>&1
  cport=$((port + 1))
  cbase="http://127.0.0.1:$cport"
  RUST_LOG=warn WEFT_LOG_FORMAT=json WEFT_PEERS__CART="$base" WEFT_PEERS__INVENTORY="$base" \
    WEFT_PEERS__PAYMENTS="$base" WEFT_PEERS__ORDERS="$base" WEFT_PEERS__API_KEY="$key" \
    "$bin" serve --service checkout --data-dir "$dir/checkout" --port "$cport" \
    --rate-limit-per-minute 0 >"$dir/checkout.log" 2>&1 &
  cpid=$!
  trap 'kill $pid $cpid 2>/dev/null; wait $pid $cpid 2>/dev/null; rm -rf "$dir"' EXIT
  for _ in $(seq 1 100); do curl -fsS "$cbase/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Ready checkouts, made by 8 client threads once the demo catalog is stocked.
BASE="$base" CBASE="$cbase" READY="$ready" OUT="$dir/checkouts.txt" python3 bench/ready_checkouts.py

# PERF_DIR=dir: a CPU profile of the (first) process during the completions.
recorder=""
if [ -n "${PERF_DIR:-}" ]; then
  mkdir -p "$PERF_DIR"
  (sleep 2; perf record -q -F 999 -g -p "$pid" -o "$PERF_DIR/checkout.data" -- sleep 5 2>/dev/null) &
  recorder=$!
fi
complete_checkouts "$dir/checkouts.txt" "$cbase"
[ -z "$recorder" ] || wait "$recorder"
label=sqlite
[ -n "${DATABASE_URL:-}" ] && label=postgres
[ -n "${CLUSTER:-}" ] && label="$label, cluster"
printf '%-18s %11s %9s %9s\n' scenario "checkouts/s" p50 p99
printf '%-18s %11s %9s %9s\n' "complete ($label)" "$crps" "$cp50" "$cp99"
echo "completions: $completions; RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
[ -n "${CLUSTER:-}" ] && echo "checkout process RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$cpid/status)"
true
