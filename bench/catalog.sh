#!/usr/bin/env bash
# Catalog read throughput on a release `weft serve --demo` (embedded: SQLite + in-process
# cache), at 32 connections with wrk: the /health/live floor, a page of 20 products, a
# category listing with a size filter, a product detail by handle, and a search with a
# typo ("jaket", with facets and highlights) — each with requests/s, p50, p99 and its
# ratio to /health/live. Run by hand; figures go into notes.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-15s}
. bench/lib.sh
start_weft 18085 --demo
# The seed logs at info; wait for products instead.
for _ in $(seq 1 600); do
  n=$(curl -fsS "http://127.0.0.1:$port/v1/products?category=kids-accessories&limit=100" | grep -o '"prod_' | wc -l || true)
  [ "$n" -ge 64 ] && break
  sleep 0.5
done
# Let the seed's events drain (each one retires the catalog cache) before measuring.
for _ in $(seq 1 240); do
  handled=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '/^bus_events_handled_total\{consumer="catalog-cache"/ {s += $2} END {print s + 0}')
  indexed=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '/^bus_events_handled_total\{consumer="catalog-search"/ {s += $2} END {print s + 0}')
  [ "${handled%.*}" -ge 1088 ] && [ "${indexed%.*}" -ge 1088 ] && break
  sleep 0.5
done
handle=$(curl -fsS "http://127.0.0.1:$port/v1/products?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["handle"])')
declare -A paths=(
  [health]="/health/live"
  [list20]="/v1/products?limit=20"
  [category_size]="/v1/products?category=women-tops&size=M&limit=20"
  [detail]="/v1/products/$handle"
  [search_typo]="/v1/search/products?q=jaket&limit=20"
)
measure_header
for name in health list20 category_size detail search_typo; do
  # The warm-up also fills the cache.
  measure "$name" "http://127.0.0.1:$port${paths[$name]}"
done
# The same search, never twice alike (a max_price no other request uses), so no cache
# can answer: what tantivy, the facets and the highlights cost.
unique_lua "/v1/search/products?q=jaket&limit=20&max_price=" "$dir/unique.lua"
measure search_nocache -s "$dir/unique.lua" "http://127.0.0.1:$port"
echo "RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
