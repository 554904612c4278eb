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

# 50 variants with at least 30 available, once the demo is seeded and stocked.
variants=""
for _ in $(seq 1 600); do
  variants=$(BASE="$base" python3 - <<'PY' || true
import json, os, urllib.request
base = os.environ["BASE"]
def get(path):
    with urllib.request.urlopen(base + path) as r:
        return json.load(r)
found = []
cursor = None
while len(found) < 50:
    page = get("/v1/products?limit=100" + (f"&cursor={cursor}" if cursor else ""))
    for p in page["data"]:
        for v in p["variants"]:
            if get(f"/v1/inventory/{v['id']}")["available"] >= 30:
                found.append(v["id"])
                break
        if len(found) == 50:
            break
    cursor = page["next_cursor"]
    if not cursor:
        break
print(" ".join(found) if len(found) == 50 else "")
PY
)
  [ -n "$variants" ] && break
  sleep 1
done
[ -n "$variants" ] || { echo "the demo catalog was not stocked" >&2; exit 1; }

carts=()
for _ in $(seq 1 200); do
  carts+=("$(curl -fsS -X POST -H 'content-type: application/json' -d '{}' "$base/v1/carts" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')")
done
read -r -a vs <<<"$variants"
full=${carts[0]}
for v in "${vs[@]:0:5}"; do
  curl -fsS -X POST -H 'content-type: application/json' \
    -d "{\"variant_id\": \"$v\", \"quantity\": 1}" "$base/v1/carts/$full/items" >/dev/null
done

{
  printf 'local carts = {'; for c in "${carts[@]:1}"; do printf '"%s",' "$c"; done; printf '}\n'
  printf 'local variants = {'; for v in "${vs[@]}"; do printf '"%s",' "$v"; done; printf '}\n'
  cat <<'LUA'
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) math.randomseed(1000 + id) end
function request()
  local cart = carts[math.random(#carts)]
  local variant = variants[math.random(#variants)]
  return wrk.format("POST", "/v1/carts/" .. cart .. "/items",
    {["content-type"] = "application/json"},
    '{"variant_id": "' .. variant .. '", "quantity": 1}')
end
LUA
} >"$dir/add.lua"

measure_header
measure health "$base/health/live"
measure add_to_cart -s "$dir/add.lua" "$base"
measure get_cart "$base/v1/carts/$full"
echo "RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
