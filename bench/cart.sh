#!/usr/bin/env bash
# Cart throughput on a release `weft serve --demo` (embedded: SQLite + in-process cache) at
# 32 connections with wrk: add-to-cart (POST /v1/carts/{id}/items, one unit of one of 50
# in-stock variants into one of 200 carts, so each request prices the line, checks stock and
# writes) and get-cart (GET /v1/carts/{id}, a cart of 5 lines priced now), each with
# requests/s, p50, p99 and its ratio to /health/live. Run by hand; figures go into notes.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-15s}
. bench/lib.sh
start_weft 18086 --demo

cart_fixture

measure_header
measure health "$base/health/live"
measure add_to_small_cart -s "$dir/add_small.lua" "$base"
measure add_to_cart -s "$dir/add.lua" "$base"
measure get_cart "$base/v1/carts/$full"
echo "RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
