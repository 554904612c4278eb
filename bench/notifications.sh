#!/usr/bin/env bash
# Notifications: events/s and e-mails/s end to end with a real SMTP server in the loop
# (event → message rendered → SMTP → accepted by aiosmtpd). $VARIANTS variants (200)
# fall below their low-stock threshold, each an `inventory.low` event that e-mails each
# of $STAFF staff addresses (5). Embedded on SQLite, or on PostgreSQL with DATABASE_URL.
# Needs the aiosmtpd venv that ./scripts/test makes. Run by hand; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
python=${WEFT_TEST_SMTP_PYTHON:-${XDG_CACHE_HOME:-$HOME/.cache}/weft/aiosmtpd-1.4.6/bin/python}
if [ -n "${DATABASE_URL:-}" ]; then
  db=${DATABASE_URL##*/}
  psql -q "${DATABASE_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  export WEFT_DATABASE_URL="$DATABASE_URL"
fi
staff=${STAFF:-5}
smtp_port=$(( ${PORT:-18125} + 1 ))
mail=$(mktemp -d)
"$python" platform/server/tests/api/fixtures/smtp_sink.py "$smtp_port" "$mail" >/dev/null &
spid=$!
addresses=$(python3 -c "import json; print(json.dumps([f'staff{i}@bench.example' for i in range($staff)]))")
export WEFT_NOTIFICATIONS__EMAIL_TRANSPORT=smtp WEFT_NOTIFICATIONS__SMTP_HOST=127.0.0.1 \
  WEFT_NOTIFICATIONS__SMTP_PORT=$smtp_port WEFT_NOTIFICATIONS__SMTP_SECURITY=none \
  WEFT_NOTIFICATIONS__STAFF_EMAILS="$addresses"
start_weft 18125
trap 'kill $pid $spid 2>/dev/null; wait $pid $spid 2>/dev/null; rm -rf "$dir" "$mail"' EXIT
WEFT_ADMIN_PASSWORD=bench-tailor-2026 "$bin" admin create --email bench@example.com \
  --data-dir "$dir/data" >/dev/null
key=$(BASE="$base" SCOPES=catalog:write,inventory:write python3 bench/admin.py | cut -d' ' -f2)
BASE="$base" KEY="$key" MAIL_DIR="$mail" STAFF="$staff" python3 bench/notifications.py
echo "RSS after: $(ps -o rss= -p "$pid" | awk '{printf "%.0f MB", $1 / 1024}')"
