#!/usr/bin/env bash
# PostgreSQL knees, before and after the prepared statements, alternated: each case a
# `pit-bench ramp --spawn` with a fresh schema. Usage: pgknee.sh ROUNDS NAME:PITD_BIN [...]
cd /work/main
PG=postgres://pit@127.0.0.1:55472/pit
ROUNDS=$1; shift
for round in $(seq 1 "$ROUNDS"); do
  for spec in "$@"; do
    name=${spec%%:*}; bin=${spec#*:}
    psql -q $PG -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null 2>&1
    echo "=== r$round $name $(date -u +%H:%M:%S)"
    .build/release/pit-bench ramp --spawn --pitd "$bin" --mix app --set database_url=$PG --start 1000 --step 1000 --interval 10s \
      --name pg-prepared-knee-$name-${TAG:-}r$round 2>&1 | tail -12
  done
done
