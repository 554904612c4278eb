#!/usr/bin/env bash
# The gateway's cost: catalog reads on a `weft serve --demo` asked directly and through a
# `--service gateway` process in front of it (gateway.services.catalog), in one run at
# 32 connections with wrk — /health/live (the floor), a page of 20 products (the answer
# cache serves it), and a page no cache can answer (a max_price no other request uses).
# Run by hand; figures go into notes. PROFILE=debug measures the dev build.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-15s}
. bench/lib.sh
start_weft 18086 --demo
shop=$base
for _ in $(seq 1 600); do
  n=$(curl -fsS "$shop/v1/products?limit=100" | grep -o '"prod_' | wc -l || true)
  [ "$n" -ge 64 ] && break
  sleep 0.5
done
# The demo's stock events retire the catalog cache while they apply: wait until the
# events handled stop moving.
handled() { curl -fsS "$shop/metrics" | awk '/^bus_events_handled_total/ {s += $2} END {print s + 0}'; }
prev=-1
for _ in $(seq 1 200); do
  now=$(handled)
  [ "$now" = "$prev" ] && break
  prev=$now
  sleep 3
done
gw_dir="$dir/gateway"
gw_port=$((port + 1))
"$bin" migrate --service gateway --data-dir "$gw_dir" >/dev/null 2>&1
RUST_LOG=warn WEFT_LOG_FORMAT=json WEFT_GATEWAY__SERVICES__CATALOG="$shop" \
  "$bin" serve --service gateway --data-dir "$gw_dir" --port "$gw_port" \
  --rate-limit-per-minute 0 >"$dir/gateway.log" 2>&1 &
gw_pid=$!
trap 'kill $pid $gw_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
front="http://127.0.0.1:$gw_port"
for _ in $(seq 1 100); do curl -fsS "$front/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
unique_lua "/v1/products?limit=20&max_price=" "$dir/unique.lua"
measure_header
measure health "$shop/health/live"
measure list20 "$shop/v1/products?limit=20"
measure list20_gw "$front/v1/products?limit=20"
measure nocache -s "$dir/unique.lua" "$shop"
measure nocache_gw -s "$dir/unique.lua" "$front"
echo "RSS: shop $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status), gateway $(awk '/VmRSS/ {print $2, $3}' /proc/$gw_pid/status)"
