#!/usr/bin/env bash
# Events/s through the outbox relay and commit-to-applied latency, in-process and via
# RabbitMQ, on SQLite and PostgreSQL (release build). Run by hand; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export WEFT_TEST_DATABASE_URL="${WEFT_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export WEFT_TEST_AMQP_URL="${WEFT_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
cargo build --release --quiet -p weft-bus --example throughput
bin="${CARGO_TARGET_DIR:-target}/release/examples/throughput"
for transport in memory amqp; do
  for database in sqlite postgres; do
    "$bin" "$transport" "$database"
  done
done
