#!/usr/bin/env bash
# Issue 20's table in one run, embedded (`serve --demo`: SQLite, tantivy, in-process
# cache), each scenario at 32 connections with wrk beside `/health/live`:
#   1. the demo's stock burst (one stock event per variant, ~14,000): a page of 20
#      products read in 2 s windows while it is applied, and how long applying it took;
#   2. RSS right after the seed;
#   3. answers no cache can hold (a max_price no other request uses): a page of 20, a
#      listing with `?q=`, a search with facets; then create cart, add to carts of at most 5
#      lines and to carts that grow to ~50, get cart;
#   4. RSS after the load, and idle RSS after a restart on the same data.
# Checkout completions: `bench/checkout.sh`. Run by hand; figures go into notes.
# `PROFILE=profiling` (with CARGO_TARGET_DIR set) measures the profiling build;
# `BURST_READS=0` waits for the burst without reading (quicker; profiles and retries);
# `PERF_DIR=dir` also records a CPU profile of each load scenario (`perf record`, 5 s,
# frame pointers) into dir/NAME.data, which costs some throughput: take figures from a
# run without it.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
. bench/lib.sh
# DATABASE_URL=postgres://…/weft_bench (dropped and created afresh) and REDIS_URL=redis://…
# run the same on PostgreSQL and Redis (the Redis's keys are flushed).
if [ -n "${DATABASE_URL:-}" ]; then
  psql -q "${DATABASE_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS ${DATABASE_URL##*/}" \
    -c "CREATE DATABASE ${DATABASE_URL##*/}"
  export WEFT_DATABASE_URL="$DATABASE_URL"
fi
if [ -n "${REDIS_URL:-}" ]; then
  redis-cli -u "$REDIS_URL" flushdb >/dev/null
  export WEFT_REDIS_URL="$REDIS_URL"
fi
start_weft 18090 --demo
rss() { awk '/VmRSS/ {print $2 / 1024 " MB"}' "/proc/$1/status"; }
stock_handled() {
  curl -fsS "$base/metrics" | awk '/^bus_events_handled_total\{consumer="catalog-stock"/ {s += $2} END {print s + 0}'
}

# The products first (the seed), then the burst of stock events.
until [ "$(curl -fsS "$base/v1/products?limit=20" | grep -o '"prod_' | wc -l)" -ge 20 ]; do sleep 0.2; done
until [ "$(stock_handled)" != 0 ]; do sleep 0.05; done
burst_start=$(date +%s.%N)
burst_end=$burst_start
echo "== the demo's stock burst: a page of 20 at 32 connections while it is applied"
printf '%-8s %10s %9s %12s\n' window "req/s" p99 "stock events"
# Done when a whole window applied nothing more.
last=-1
now=$(stock_handled)
while [ "$now" != "$last" ]; do
  last=$now
  if [ "${BURST_READS:-1}" = 1 ]; then
    out=$(wrk -t2 -c32 -d2s --latency "$base/v1/products?limit=20")
  else
    sleep 2; out=""
  fi
  now=$(stock_handled)
  [ "$now" != "$last" ] && burst_end=$(date +%s.%N)
  printf '%-8s %10s %9s %12s\n' "$(python3 -c "print(f'{$(date +%s.%N) - $burst_start:.0f} s')")" \
    "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1 == "99%" {print $2}')" "$now"
done
echo "stock burst applied within $(python3 -c "print(f'{$burst_end - $burst_start:.1f}')") s ($now events)"
echo "RSS right after the seed: $(rss $pid)"

unique() { unique_lua "$1" "$dir/$2.lua"; echo "$dir/$2.lua"; }

cart_fixture
cat >"$dir/create.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["content-type"] = "application/json"
LUA

if [ -n "${PERF_DIR:-}" ]; then
  mkdir -p "$PERF_DIR"
  eval "$(declare -f measure | sed '1s/measure/measure_plain/')"
  measure() {
    (sleep 4; perf record -q -F 999 -g -p "$pid" -o "$PERF_DIR/$1.data" -- sleep 5 2>/dev/null) &
    local recorder=$!
    measure_plain "$@"
    wait "$recorder"
  }
fi
echo "== $duration per scenario at ${CONNS:-32} connections"
measure_header
measure health "$base/health/live"
measure list20_nocache -s "$(unique "/v1/products?limit=20&max_price=" list)" "$base"
measure q_nocache -s "$(unique "/v1/products?q=jacket&limit=20&max_price=" q)" "$base"
measure search_nocache -s "$(unique "/v1/search/products?q=jaket&limit=20&max_price=" search)" "$base"
measure list20_cached "$base/v1/products?limit=20"
measure create_cart -s "$dir/create.lua" "$base/v1/carts"
measure add_to_small_cart -s "$dir/add_small.lua" "$base"
measure add_to_cart -s "$dir/add.lua" "$base"
measure get_cart "$base/v1/carts/$full"
echo "RSS after the load: $(rss $pid)"

# Idle after a restart on the same data (the demo is seeded already).
kill $pid; wait $pid 2>/dev/null || true
RUST_LOG=warn WEFT_LOG_FORMAT=json "$bin" serve --data-dir "$dir/data" --port "$port" \
  --rate-limit-per-minute 0 --demo >"$dir/log2" 2>&1 &
pid=$!
until curl -fsS "$base/health/ready" >/dev/null 2>&1; do sleep 0.1; done
sleep 5
echo "idle RSS after a restart: $(rss $pid) ($(awk '/RssAnon|RssFile/ {printf "%s %.0f MB  ", $1, $2 / 1024}' "/proc/$pid/status"))"
