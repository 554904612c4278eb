#!/usr/bin/env bash
# Baseline figures for a release `weft serve` (embedded, fresh data dir):
# binary size, idle RSS, and requests/s of GET /health/live and GET /v1/meta at 32
# connections with wrk (apt-get install wrk). Run by hand; figures go into notes and docs.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p weft --quiet
bin="$target/release/weft"
dir=$(mktemp -d)
port=${PORT:-18080}
WEFT_LOG_FORMAT=json RUST_LOG=warn "$bin" serve --data-dir "$dir/data" --port "$port" --rate-limit-per-minute 0 >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
sleep 1
echo "binary: $(du -h "$bin" | cut -f1) ($(stat -c %s "$bin") bytes)"
echo "idle RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
for path in /health/live /v1/meta; do
  echo "--- GET $path, 32 connections, 2 threads, 15 s"
  wrk -t2 -c32 -d15s --latency "http://127.0.0.1:$port$path" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
done
echo "RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
