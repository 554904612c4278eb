#!/usr/bin/env bash
# The storefront's production build against `weft serve --demo`:
#   1. Lighthouse (npm `lighthouse`, pinned in bench/lighthouse/, Debian's chromium) on the
#      home page, a category and a product page: the four category scores and LCP;
#   2. the server-rendered category page against the API's own listing of the same
#      category, at 32 connections (wrk), in the same run.
# Run by hand: `bench/storefront.sh` (release weft, built if needed) or
# `WEFT_BIN=path/to/weft bench/storefront.sh`. Needs wrk, chromium, Node 20+.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source bench/lib.sh

api_port=${API_PORT:-18180}
shop_port=${SHOP_PORT:-18181}
api="http://127.0.0.1:$api_port"
shop="http://127.0.0.1:$shop_port"
duration=${duration:-15s}
category=${CATEGORY:-women-dresses}

if [ -z "${WEFT_BIN:-}" ]; then
  cargo build --release -p weft --quiet
  WEFT_BIN="${CARGO_TARGET_DIR:-target}/release/weft"
fi
echo "weft: $WEFT_BIN"

dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

RUST_LOG=info,tantivy=error WEFT_LOG_FORMAT=json WEFT_CORS_ORIGINS="[\"$shop\"]" \
  WEFT_RATE_LIMIT_PER_MINUTE=0 WEFT_RATE_LIMIT_PER_USER_PER_MINUTE=0 \
  "$WEFT_BIN" serve --demo --data-dir "$dir/data" --port "$api_port" >"$dir/weft.log" 2>&1 &
pids+=($!)
# The pages need the category's products, not the whole demo's stock (which takes
# minutes longer to reach the listings on a debug build): wait for a full first page.
echo "waiting for the demo's $category…"
listed() {
  curl -fsS "$api/v1/products?category=$category&limit=20" 2>/dev/null \
    | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["data"]))' 2>/dev/null || echo 0
}
for _ in $(seq 1 1800); do
  [ "$(listed)" -ge 20 ] && break
  sleep 0.5
done
[ "$(listed)" -ge 20 ] || { echo "the demo's $category never filled a page" >&2; exit 1; }
# Then for the demo's background stocking to end: Lighthouse measures CPU time, and a
# weft busy stocking on the same two cores makes its numbers noise.
echo "waiting for the demo's stocking to finish…"
for _ in $(seq 1 1800); do
  grep -q '"demo catalog ready"' "$dir/weft.log" && break
  sleep 0.5
done

echo "building the SDK and the storefront…"
(cd sdk/typescript && npm ci --no-audit --no-fund --silent && npm run build --silent)
(cd storefronts/nextjs && npm ci --no-audit --no-fund --silent && npm run build --silent >/dev/null)
(cd bench/lighthouse && npm ci --no-audit --no-fund --silent)
rm -rf storefronts/nextjs/.next/cache/fetch-cache storefronts/nextjs/.next/server/route-cache
(cd storefronts/nextjs && WEFT_API_URL="$api" WEFT_SITE_URL="$shop" PORT="$shop_port" \
  exec npm start --silent >"$dir/shop.log" 2>&1) &
pids+=($!)
for _ in $(seq 1 300); do curl -fsS "$shop/" >/dev/null 2>&1 && break; sleep 0.2; done

product=$(curl -fsS "$api/v1/products?category=$category&limit=1" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["handle"])')
pages=("home /" "category /categories/$category" "product /products/$product")

runs=${LIGHTHOUSE_RUNS:-3}
echo
echo "Lighthouse 12 (mobile defaults, simulated throttling), the median of $runs runs per page, $(date -u +%F), $(git rev-parse --short HEAD)"
printf '%-10s %12s %14s %15s %5s %9s %9s\n' page performance accessibility best-practices seo LCP TBT
for entry in "${pages[@]}"; do
  name=${entry%% *}
  path=${entry#* }
  # Warm the page (Next's data cache and the regenerated page) before measuring.
  curl -fsS "$shop$path" >/dev/null
  for run in $(seq 1 "$runs"); do
    CHROME_PATH=/usr/bin/chromium "$root/bench/lighthouse/node_modules/.bin/lighthouse" "$shop$path" \
      --quiet --output=json --output-path="$dir/$name-$run.json" \
      --only-categories=performance,accessibility,best-practices,seo \
      --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run"
  done
  python3 - "$name" "$dir"/"$name"-*.json <<'EOF'
import json, sys
reports = [json.load(open(f)) for f in sys.argv[2:]]
# The run with the median performance score stands for the page (its LCP and TBT too).
report = sorted(reports, key=lambda r: r["categories"]["performance"]["score"])[len(reports) // 2]
c = report["categories"]
a = report["audits"]
score = lambda k: round(c[k]["score"] * 100)
lcp = a["largest-contentful-paint"]["numericValue"] / 1000
tbt = a["total-blocking-time"]["numericValue"]
print(f'{sys.argv[1]:<10} {score("performance"):>12} {score("accessibility"):>14} {score("best-practices"):>15} {score("seo"):>5} {lcp:>8.2f}s {tbt:>7.0f}ms')
EOF
done

echo
echo "category page vs the API's listing, 32 connections, $duration each"
measure_header
measure "api-listing" "$api/v1/products?category=$category"
measure "shop-category" "$shop/categories/$category"
