#!/usr/bin/env bash
# A PostgreSQL primary and a streaming replica made from it with `pg_basebackup -R`, both
# throwaway, for the read-replica tests (replication lag is real, and the replica can be
# paused or killed). The machine's own cluster is left alone: its pg_hba has no
# replication entry, and tests must not change it.
#   scripts/pg-replica-pair.sh start <dir> <primary-port> <replica-port>
#   scripts/pg-replica-pair.sh stop-replica <dir>
#   scripts/pg-replica-pair.sh stop <dir>        (both, and removes <dir>)
# Runs the servers as `postgres` when started as root (PostgreSQL refuses root).
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 2; }
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=$1 dir=$2
case $cmd in
start)
  primary_port=$3 replica_port=$4
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_pg "$bin/initdb" -D "$dir/primary" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log"
  echo "host replication all 127.0.0.1/32 trust" >>"$dir/primary/pg_hba.conf"
  # fsync off: a test's data need not survive the machine.
  as_pg "$bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w -o \
    "-p $primary_port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
    -D "$dir/replica" -R -X stream
  as_pg "$bin/pg_ctl" -D "$dir/replica" -l "$dir/replica.log" -w -o \
    "-p $replica_port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  ;;
stop-replica)
  as_pg "$bin/pg_ctl" -D "$dir/replica" -m immediate -w stop >/dev/null || true
  ;;
stop)
  as_pg "$bin/pg_ctl" -D "$dir/replica" -m immediate -w stop >/dev/null 2>&1 || true
  as_pg "$bin/pg_ctl" -D "$dir/primary" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop-replica|stop <dir> [primary-port replica-port]" >&2
  exit 2
  ;;
esac
