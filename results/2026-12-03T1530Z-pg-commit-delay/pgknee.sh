#!/usr/bin/env bash
cd /work/main
PG=postgres://pit@127.0.0.1:55472/pit
for round in r1 r2; do
  for cfg in sqlite pg1 pg2 pgi2; do
    case $cfg in
      sqlite) extra=();;
      pg1) extra=(--set database_url=$PG);;
      pg2) extra=(--set database_url=$PG --set writers=2);;
      pgi2) extra=(--set database_url=$PG --instances 2);;
    esac
    psql -q $PG -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null 2>&1
    echo "=== $round $cfg $(date -u +%H:%M:%S)"
    .build/release/pit-bench ramp --spawn --mix app "${extra[@]}" --start 1000 --step 1000 --interval 10s --name pg-knee-delay-$cfg-$round 2>&1 | tail -15
  done
done
