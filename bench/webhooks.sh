#!/usr/bin/env bash
# Outbound webhooks: deliveries/s end to end (event → fan-out → signed POST → logged) to
# a local receiver, $ENDPOINTS endpoints (20) subscribed to product.updated while
# $PRODUCTS products (250) are created; embedded on SQLite, or on PostgreSQL with
# DATABASE_URL. Run by hand; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
if [ -n "${DATABASE_URL:-}" ]; then
  db=${DATABASE_URL##*/}
  psql -q "${DATABASE_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  export WEFT_DATABASE_URL="$DATABASE_URL"
fi
export WEFT_WEBHOOKS__ALLOW_PRIVATE_TARGETS=true WEFT_WEBHOOKS__REQUIRE_HTTPS=false
start_weft 18095
rport=$((port + 100))
PORT=$rport node bench/webhook_receiver.mjs &
rpid=$!
trap 'kill $pid $rpid 2>/dev/null; wait $pid $rpid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$rport/count" >/dev/null 2>&1 && break; sleep 0.1; done
WEFT_ADMIN_PASSWORD=bench-tailor-2026 "$bin" admin create --email bench@example.com \
  --data-dir "$dir/data" >/dev/null
key=$(BASE="$base" SCOPES=catalog:read,catalog:write,webhooks:write python3 bench/admin.py | cut -d' ' -f2)
BASE="$base" KEY="$key" RECEIVER="http://127.0.0.1:$rport" python3 bench/webhooks.py
echo "RSS after: $(ps -o rss= -p "$pid" | awk '{printf "%.0f MB", $1 / 1024}')"
