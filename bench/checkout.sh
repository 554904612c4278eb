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
# With DATABASE_URL the database is dropped and created afresh. Run by hand; figures go
# into notes and bench/README.md.
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
  key=$(BASE="$base" python3 - <<'PY'
import base64, hashlib, hmac, json, os, struct, time, urllib.request
base = os.environ["BASE"]
def call(method, path, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=json.dumps(body or {}).encode(),
                                 method=method, headers=headers)
    with urllib.request.urlopen(req) as r:
        return json.load(r)
def totp(secret):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = mac[-1] & 15
    return f"{(struct.unpack('>I', mac[o:o + 4])[0] & 0x7FFFFFFF) % 10**6:06d}"
pending = call("POST", "/v1/auth/login",
               {"email": "bench@example.com", "password": "bench-tailor-2026"})["access_token"]
secret = call("POST", "/v1/me/mfa/totp", token=pending)["secret"]
token = call("POST", "/v1/me/mfa/totp/verify", {"code": totp(secret)},
             token=pending)["session"]["access_token"]
print(call("POST", "/v1/admin/api-keys", {"name": "bench peers", "scopes": ["internal"]},
           token=token)["key"])
PY
)
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
BASE="$base" CBASE="$cbase" READY="$ready" OUT="$dir/checkouts.txt" python3 - <<'PY'
import json, os, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

base, ready, out = os.environ["BASE"], int(os.environ["READY"]), os.environ["OUT"]
cbase = os.environ["CBASE"]

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    at = cbase if path.startswith("/v1/checkouts") else base
    req = urllib.request.Request(at + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)

variants = []
for _ in range(600):
    variants, cursor = [], None
    while len(variants) < 400:
        page = call("GET", "/v1/products?limit=100&in_stock=true" + (f"&cursor={cursor}" if cursor else ""))
        ids = [v["id"] for p in page["data"] for v in p["variants"]]
        for i in range(0, len(ids), 50):
            for s in call("GET", "/v1/inventory?variant_ids=" + ",".join(ids[i:i + 50]))["data"]:
                if s["available"] >= 25:
                    variants.append(s["variant_id"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    if len(variants) >= 400:
        break
    time.sleep(1)
if len(variants) < 400:
    sys.exit("the demo catalog was not stocked")
variants = variants[:400]
address = {"name": "Ada Lovelace", "line1": "1 Market St", "city": "San Francisco",
           "region": "CA", "postal_code": "94105", "country": "US"}

def one(i):
    cart = call("POST", "/v1/carts", {})["id"]
    call("POST", f"/v1/carts/{cart}/items", {"variant_id": variants[i % 400], "quantity": 1})
    checkout = call("POST", "/v1/checkouts", {"cart_id": cart})["id"]
    call("PATCH", f"/v1/checkouts/{checkout}", {"email": f"buyer{i}@example.com",
         "shipping_address": address, "shipping_method_id": "standard"})
    return checkout

started = time.time()
with ThreadPoolExecutor(8) as pool:
    checkouts = list(pool.map(one, range(ready)))
with open(out, "w") as f:
    f.write("\n".join(checkouts))
print(f"{ready} ready checkouts in {time.time() - started:.0f} s", file=sys.stderr)
PY

# Each of wrk's 2 threads takes every second checkout, starting at its own.
{
  printf 'local checkouts = {'; sed 's/.*/"&",/' "$dir/checkouts.txt" | tr -d '\n'; printf '}\n'
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
} >"$dir/complete.lua"

out=$(wrk -t2 -c32 -d"$duration" --latency -s "$dir/complete.lua" "$cbase")
echo "$out" | grep -q "Non-2xx" && { echo "non-2xx answers" >&2; echo "$out" >&2; exit 1; }
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
orders=$(echo "$out" | awk '/requests in/ {print $1}')
label=sqlite
[ -n "${DATABASE_URL:-}" ] && label=postgres
[ -n "${CLUSTER:-}" ] && label="$label, cluster"
printf '%-18s %11s %9s %9s\n' scenario "checkouts/s" p50 p99
printf '%-18s %11s %9s %9s\n' "complete ($label)" "$rps" "$p50" "$p99"
echo "completions: $orders; RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
[ -n "${CLUSTER:-}" ] && echo "checkout process RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$cpid/status)"
true
