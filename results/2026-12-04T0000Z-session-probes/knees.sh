#!/usr/bin/env bash
# Knees of PostgreSQL with writers=1 and writers=2 and of SQLite, alternated, each a
# `pit-bench ramp --spawn --mix app` (fresh schema for PostgreSQL).
# Usage: knees.sh ROUNDS PITD_BIN   (PostgreSQL on 127.0.0.1:55472, scripts/postgres-test-server)
cd /work/main
PG=postgres://pit@127.0.0.1:55472/pit
ROUNDS=$1; BIN=$2
for round in $(seq 1 "$ROUNDS"); do
  for name in pg-w1 pg-w2 sqlite; do
    sets=()
    case $name in
      pg-w1) sets=(--set database_url=$PG --set writers=1) ;;
      pg-w2) sets=(--set database_url=$PG --set writers=2) ;;
    esac
    psql -q $PG -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null 2>&1
    echo "=== r$round $name $(date -u +%H:%M:%S)"
    .build/release/pit-bench ramp --spawn --pitd "$BIN" --mix app "${sets[@]}" --start 1000 --step 1000 --interval 10s \
      --name knee-$name-r$round 2>&1 | tail -14
  done
done
