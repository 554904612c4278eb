#!/usr/bin/env bash
# Baseline figures for a release `weft serve` (embedded, fresh data dir):
# binary size, idle RSS, and requests/s of GET /health/live and GET /v1/meta at 32
# connections with wrk (apt-get install wrk). Run by hand; figures go into notes and docs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
start_weft 18080
sleep 1
echo "binary: $(du -h "$bin" | cut -f1) ($(stat -c %s "$bin") bytes)"
echo "idle RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
for path in /health/live /v1/meta; do
  echo "--- GET $path, 32 connections, 2 threads, 15 s"
  wrk -t2 -c32 -d15s --latency "http://127.0.0.1:$port$path" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
done
echo "RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
