#!/usr/bin/env bash
# How cost grows with the catalog (issue 20). For each size in SIZES (default
# "1000 10000 100000"), a fresh embedded shop seeds a demo catalog of that many products
# (`demo_products`: the demo's 17 categories, ~13 size × color variants a product) and
# reports:
#   - how fast the products were written: the seed goes through the batched path
#     `weft import` and the import endpoint use (`CatalogService::create_products`),
#     100 products to a transaction;
#   - the peak RSS while they were written, and once every event was applied;
# then, once every variant's stock reached the catalog and the search index, at 32
# connections beside /health/live:
#   - list: a page of 20 (newest first);
#   - filter: a page of 20 of one category and size (women's tops in M);
#   - detail: one product by handle, a random one of the whole catalog each time (so
#     mostly uncached at 100,000 products, mostly cached at 1,000);
#   - search: `q=jacket` with its facets.
# Lists and searches ask a max_price no other request uses, so no cache answers them.
# Run by hand; figures go into notes. `PROFILE`, `SKIP_BUILD`, `CARGO_TARGET_DIR` and
# `DURATION` as in bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
. bench/lib.sh
export RUST_LOG=warn,weft::app=info

rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# Anonymous memory (the heap: what the process itself holds) apart from file-backed pages
# (SQLite's and tantivy's files mapped in, which the kernel may drop at any time).
anon_mb() { awk '/RssAnon/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
split_mb() { awk '/RssAnon|RssFile/ {printf "%s %.0f MB  ", $1, $2 / 1024}' "/proc/$1/status"; }
handled() {
  curl -fsS "$base/metrics" | awk '/^bus_events_handled_total/ {s += $2} END {print s + 0}'
}

for size in ${SIZES:-1000 10000 100000}; do
  echo "== $size products"
  WEFT_DEMO_PRODUCTS=$size start_weft 18095 --demo
  # The products: peak RSS sampled until the seed says it wrote them.
  peak=0; peak_anon=0
  until grep -q '"demo products written"' "$dir/log"; do
    [ -d "/proc/$pid" ] || { echo "weft stopped" >&2; cat "$dir/log" >&2; exit 1; }
    now=$(rss_mb "$pid"); [ "$now" -gt "$peak" ] && peak=$now
    now=$(anon_mb "$pid"); [ "$now" -gt "$peak_anon" ] && peak_anon=$now
    sleep 0.5
  done
  python3 - "$dir/log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if '"demo products written"' in line:
        f = json.loads(line).get("fields", json.loads(line))
        print(f"products written: {f['added']} in {float(f['seconds']):.1f} s = {f['per_second']}/s")
PY
  echo "peak RSS while writing them: $peak MB (anonymous: $peak_anon MB)"
  # Then their stock and search documents: done when a whole second applies no event.
  started=$(date +%s)
  until grep -q '"demo catalog ready"' "$dir/log"; do
    a=$(anon_mb "$pid"); [ "$a" -gt "$peak_anon" ] && peak_anon=$a
    sleep 0.5
  done
  last=-1; now=$(handled)
  while [ "$now" != "$last" ]; do
    last=$now; sleep 1; now=$(handled)
    a=$(anon_mb "$pid"); [ "$a" -gt "$peak_anon" ] && peak_anon=$a
  done
  echo "stock and search caught up $(( $(date +%s) - started )) s later ($now events)"
  echo "peak RSS so far: $(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$pid/status") (anonymous: $peak_anon MB); now $(split_mb "$pid")"

  # Every product's handle, for the detail requests (read from the file, as a reader may).
  python3 - "$dir/data/weft.db" "$dir/detail.lua" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
handles = [r[0] for r in db.execute("SELECT handle FROM catalog_products")]
with open(sys.argv[2], "w") as f:
    f.write("local handles = {" + ",".join(f'"{h}"' for h in handles) + "}\n")
    f.write("""local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) math.randomseed(3000 + id) end
function request()
  return wrk.format(nil, "/v1/products/" .. handles[math.random(#handles)])
end
""")
PY
  unique_lua "/v1/products?limit=20&max_price=" "$dir/list.lua"
  unique_lua "/v1/products?category=women-tops&size=M&limit=20&max_price=" "$dir/filter.lua"
  unique_lua "/v1/search/products?q=jacket&limit=20&max_price=" "$dir/search.lua"
  floor=""
  measure_header
  measure health "$base/health/live"
  measure list -s "$dir/list.lua" "$base"
  measure filter -s "$dir/filter.lua" "$base"
  measure detail -s "$dir/detail.lua" "$base"
  measure search -s "$dir/search.lua" "$base"
  echo "RSS after the load: $(rss_mb "$pid") MB ($(split_mb "$pid")); database $(du -sh "$dir/data" | cut -f1)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
done
