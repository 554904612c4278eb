#!/usr/bin/env bash
# Sign-in latency (one Argon2id verification per request) under concurrent load, on a
# release `weft serve` with a fresh data dir. Run by hand; figures go into notes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p weft --quiet
bin="${CARGO_TARGET_DIR:-target}/release/weft"
dir=$(mktemp -d)
port=${PORT:-18090}
RUST_LOG=warn "$bin" serve --data-dir "$dir/data" --port "$port" --rate-limit-per-minute 0 >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS -X POST "http://127.0.0.1:$port/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"linen-and-wool-2026","name":"Bench"}' >/dev/null
cat >"$dir/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"linen-and-wool-2026"}'
LUA
for c in 1 4; do
  echo "--- POST /v1/auth/login, $c connection(s), 15 s"
  wrk -t1 -c"$c" -d15s --latency -s "$dir/login.lua" "http://127.0.0.1:$port/v1/auth/login" | grep -E "Requests/sec|50%|99%|Non-2xx"
done
