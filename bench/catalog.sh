#!/usr/bin/env bash
# Catalog read throughput on a release `weft serve --demo` (embedded: SQLite + in-process
# cache), at 32 connections with wrk: the /health/live floor, a page of 20 products, a
# category listing with a size filter, a product detail by handle, and a search with a
# typo ("jaket", with facets and highlights) — each with requests/s, p50, p99 and its
# ratio to /health/live. Run by hand; figures go into notes.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p weft --quiet
bin="$target/release/weft"
dir=$(mktemp -d)
port=${PORT:-18085}
duration=${DURATION:-15s}
RUST_LOG=warn WEFT_LOG_FORMAT=json "$bin" serve --demo --data-dir "$dir/data" --port "$port" \
  --rate-limit-per-minute 0 >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
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
printf '%-14s %10s %9s %9s %7s\n' scenario "req/s" p50 p99 ratio
floor=""
for name in health list20 category_size detail search_typo; do
  url="http://127.0.0.1:$port${paths[$name]}"
  wrk -t2 -c32 -d3s "$url" >/dev/null  # warm up (and fill the cache)
  out=$(wrk -t2 -c32 -d"$duration" --latency "$url")
  if echo "$out" | grep -q "Non-2xx"; then echo "$name: non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  floor=${floor:-$rps}
  ratio=$(python3 -c "print(f'{$rps / $floor:.2f}')")
  printf '%-14s %10s %9s %9s %7s\n' "$name" "$rps" "$p50" "$p99" "$ratio"
done
# The same search, never twice alike (a max_price no other request uses), so no cache
# can answer: what tantivy, the facets and the highlights cost.
cat >"$dir/unique.lua" <<'LUA'
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) counter = id * 1000000000 end
function request()
  counter = counter + 1
  return wrk.format(nil, "/v1/search/products?q=jaket&limit=20&max_price=" .. (1000000 + counter))
end
LUA
out=$(wrk -t2 -c32 -d"$duration" --latency -s "$dir/unique.lua" "http://127.0.0.1:$port")
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
ratio=$(python3 -c "print(f'{$rps / $floor:.2f}')")
printf '%-14s %10s %9s %9s %7s\n' "search_nocache" "$rps" "$p50" "$p99" "$ratio"
echo "RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
