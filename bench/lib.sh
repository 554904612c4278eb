# Shared by the bench scripts (sourced): build the release binary (`PROFILE=debug`: the
# dev one) and start `weft serve`
# on a fresh data dir with the per-IP rate limit off. `start_weft PORT [ARGS…]` sets $bin,
# $dir, $port, $base and $pid, stops the server on exit, and returns once it is ready.
start_weft() {
  local default_port=$1
  shift
  local target=${CARGO_TARGET_DIR:-target}
  # PROFILE=debug measures the dev build (quick to make; compare within one run only).
  local profile=${PROFILE:-release}
  # SKIP_BUILD=1 measures the binary as last built (name its commit with the figures).
  if [ -n "${SKIP_BUILD:-}" ]; then :
  elif [ "$profile" = release ]; then cargo build --release -p weft --quiet
  else cargo build -p weft --quiet; fi
  bin="$target/$profile/weft"
  dir=$(mktemp -d)
  port=${PORT:-$default_port}
  base="http://127.0.0.1:$port"
  RUST_LOG=${RUST_LOG:-warn} WEFT_LOG_FORMAT=json "$bin" serve --data-dir "$dir/data" --port "$port" \
    --rate-limit-per-minute 0 "$@" >"$dir/log" 2>&1 &
  pid=$!
  # A server the script stopped itself is gone by then: that is not a failure.
  trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
  for _ in $(seq 1 100); do curl -fsS "$base/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
}

# `measure NAME WRK-ARGS…`: warms up for 3 s, then runs wrk at 32 connections ($CONNS) for
# $duration (default 15 s) and prints requests/s, p50, p99, the ratio to the first
# scenario measured (the floor: /health/live) and the server's CPU time per request
# (user + system of the weft process $pid over the run, everything it did included; in
# the scripts that run several processes, only $pid's):
# rates swing ±20% between runs on a shared machine, CPU per request much less.
# Fails on any non-2xx answer.
floor=""
cpu_ticks() { awk '{print $14 + $15}' "/proc/${pid:-0}/stat" 2>/dev/null || echo 0; }
measure() {
  local name=$1
  shift
  local conns=${CONNS:-32}
  wrk -t2 -c"$conns" -d3s "$@" >/dev/null
  local out rps p50 p99 ratio ticks requests cpu
  ticks=$(cpu_ticks)
  out=$(wrk -t2 -c"$conns" -d"${duration:-15s}" --latency "$@")
  ticks=$(( $(cpu_ticks) - ticks ))
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  if echo "$out" | grep -q "Non-2xx"; then echo "$name: non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
  # Connections refused or timed out (many connections): reported, not hidden.
  if echo "$out" | grep -q "Socket errors"; then echo "$name: $(echo "$out" | grep "Socket errors")" >&2; fi
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  floor=${floor:-$rps}
  ratio=$(python3 -c "print(f'{$rps / $floor:.2f}')")
  cpu=$(python3 -c "print(f'{$ticks * 1000 / $(getconf CLK_TCK) / $requests:.3f}ms')")
  printf '%-14s %10s %9s %9s %7s %9s\n' "$name" "$rps" "$p50" "$p99" "$ratio" "$cpu"
}

measure_header() {
  printf '%-14s %10s %9s %9s %7s %9s\n' scenario "req/s" p50 p99 ratio cpu/req
}

# `complete_checkouts FILE URL`: completes each checkout id in FILE once (`tok_visa`, its
# own Idempotency-Key) with wrk at 32 connections for $duration against URL; each of wrk's
# 2 threads takes every second checkout, starting at its own. Fails on a non-2xx answer
# or when the checkouts run out. Sets $crps, $cp50, $cp99 and $completions.
complete_checkouts() {
  local lua out
  lua=$(mktemp --suffix .lua)
  {
    printf 'local checkouts = {'; sed 's/.*/"&",/' "$1" | tr -d '\n'; printf '}\n'
    cat <<'LUA'
  local n = 0
  local threads = {}
  function setup(thread)
    n = n + 1
    thread:set("cursor", n)
    table.insert(threads, thread)
  end
  function request()
    local id = checkouts[cursor]
    if id == nil then
      used_up = true
      id = checkouts[1]
    end
    cursor = cursor + 2
    return wrk.format("POST", "/v1/checkouts/" .. id .. "/complete",
      {["content-type"] = "application/json", ["idempotency-key"] = "bench-" .. id},
      '{"payment": {"provider": "test", "token": "tok_visa"}}')
  end
  function done(summary, latency, requests)
    for _, t in ipairs(threads) do
      if t:get("used_up") then
        io.stderr:write("ran out of ready checkouts: raise CHECKOUTS\n")
        os.exit(1)
      end
    end
  end
LUA
  } >"$lua"

  out=$(wrk -t2 -c32 -d"$duration" --latency -s "$lua" "$2")
  echo "$out" | grep -q "Non-2xx" && { echo "non-2xx answers" >&2; echo "$out" >&2; exit 1; }
  crps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  cp50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  cp99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  completions=$(echo "$out" | awk '/requests in/ {print $1}')
  rm -f "$lua"
}

# `unique_lua PATH FILE`: writes a wrk script to FILE that asks PATH followed by a number
# no other request uses (e.g. `…&max_price=`), so no cache can answer any of them.
unique_lua() {
  {
    printf 'local path = "%s"\n' "$1"
    cat <<'LUA'
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) counter = id * 1000000000 end
function request()
  counter = counter + 1
  return wrk.format(nil, path .. (1000000 + counter))
end
LUA
  } >"$2"
}

# `cart_fixture`: on a stocked demo shop at $base, finds 50 variants with at least 30
# available, makes 4,200 carts, puts one unit of 5 variants in the first ($full), and
# writes two scripts of one unit into a cart per request:
# - $dir/add.lua: one of the 50 variants into one of 199 carts (carts grow to ~50 lines);
# - $dir/add_small.lua: into one of 4,000 other carts, one of 5 variants fixed per cart
#   (carts of at most 5 lines, as shoppers' are; at 5,000 adds/s over 11 s, 1,000 carts'
#   lines outgrew their variants' stock and were refused).
# Fails when the demo is not stocked within 10 minutes.
cart_fixture() {
  local variants="" c v
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
  local carts=()
  read -r -a carts <<<"$(BASE="$base" python3 - <<'PY'
import json, os, urllib.request
base = os.environ["BASE"]
ids = []
for _ in range(4200):
    req = urllib.request.Request(base + "/v1/carts", data=b"{}", method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        ids.append(json.load(r)["id"])
print(" ".join(ids))
PY
)"
  local vs
  read -r -a vs <<<"$variants"
  full=${carts[0]}
  for v in "${vs[@]:0:5}"; do
    curl -fsS -X POST -H 'content-type: application/json' \
      -d "{\"variant_id\": \"$v\", \"quantity\": 1}" "$base/v1/carts/$full/items" >/dev/null
  done
  {
    printf 'local carts = {'; for c in "${carts[@]:1:199}"; do printf '"%s",' "$c"; done; printf '}\n'
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
  {
    printf 'local carts = {'; for c in "${carts[@]:200:4000}"; do printf '"%s",' "$c"; done; printf '}\n'
    printf 'local variants = {'; for v in "${vs[@]}"; do printf '"%s",' "$v"; done; printf '}\n'
    cat <<'LUA'
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) math.randomseed(2000 + id) end
function request()
  local i = math.random(#carts)
  -- cart i only ever gets variants i*7 .. i*7+4 (mod 50): at most 5 lines
  local variant = variants[(i * 7 + math.random(0, 4)) % #variants + 1]
  return wrk.format("POST", "/v1/carts/" .. carts[i] .. "/items",
    {["content-type"] = "application/json"},
    '{"variant_id": "' .. variant .. '", "quantity": 1}')
end
LUA
  } >"$dir/add_small.lua"
}
